"""The LLM is a helper, never a dependency.

An `openai` client pointed at any OpenAI-compatible endpoint drafts, summarises and classifies. Every use
names a prompt under ``prompts/llm/``, a pydantic schema for the answer and a deterministic fallback: with no
key, on a timeout, an HTTP error or an answer that does not validate, the fallback's result is used.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from jinja2 import Environment, StrictUndefined
from openai import AsyncOpenAI
from pydantic import BaseModel, ValidationError

from bot.config import Settings
from bot.i18n import PROMPTS

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)


class LLM:
    def __init__(self, settings: Settings, prompts: Path = PROMPTS / "llm", *, retries: int = 1) -> None:
        """``retries``: extra attempts after a failed request (each may take ``llm_timeout_seconds``)."""
        self.settings = settings
        self.prompts = prompts
        self.environment = Environment(undefined=StrictUndefined, autoescape=False)
        self.client: AsyncOpenAI | None = None
        if settings.openai_api_key is not None:
            self.client = AsyncOpenAI(
                api_key=settings.openai_api_key.get_secret_value(),
                base_url=settings.openai_base_url,
                timeout=settings.llm_timeout_seconds,
                max_retries=retries,
            )

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def render(self, prompt: str, variables: dict[str, Any]) -> tuple[str, str]:
        """The (system, user) texts of prompt ``prompts/llm/<prompt>.yaml`` with ``variables``."""
        source = yaml.safe_load((self.prompts / f"{prompt}.yaml").read_text(encoding="utf-8"))
        system = self.environment.from_string(source["system"]).render(**variables)
        user = self.environment.from_string(source["user"]).render(**variables)
        return system.strip(), user.strip()

    async def structured(
        self, prompt: str, variables: dict[str, Any], schema: type[T], fallback: Callable[[], T]
    ) -> tuple[T, bool]:
        """Ask for JSON matching ``schema``; returns (answer, True) or (fallback(), False)."""
        if self.client is None:
            return fallback(), False
        system, user = self.render(prompt, variables)
        schema_hint = json.dumps(schema.model_json_schema(), ensure_ascii=False)
        try:
            response = await self.client.chat.completions.create(
                model=self.settings.llm_model,
                messages=[
                    {
                        "role": "system",
                        "content": f"{system}\n\nAnswer with JSON only, matching: {schema_hint}",
                    },
                    {"role": "user", "content": user},
                ],
                response_format={"type": "json_object"},
                temperature=0.4,
            )
            content = response.choices[0].message.content or ""
            return schema.model_validate_json(_strip_fences(content)), True
        except (ValidationError, ValueError) as error:
            log.warning(
                "LLM answer did not validate; using the fallback",
                extra={"prompt": prompt, "error": str(error)[:200]},
            )
        except Exception as error:  # timeouts, HTTP and connection errors of any OpenAI-compatible server
            log.warning(
                "LLM call failed; using the fallback", extra={"prompt": prompt, "error": type(error).__name__}
            )
        return fallback(), False

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


def _strip_fences(content: str) -> str:
    content = content.strip()
    if content.startswith("```"):
        content = content.split("\n", 1)[1] if "\n" in content else ""
        content = content.rsplit("```", 1)[0]
    return content.strip()
