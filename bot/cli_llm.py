"""`klantpet llm check`: ask the configured LLM one small question, to see that it answers."""

from __future__ import annotations

import typer
from pydantic import BaseModel

from bot.cli import fail, load_settings, run_async

SAMPLE = "Een klant belde drie keer over dezelfde late levering voordat iemand terugbelde."


class _Summary(BaseModel):
    summary: str


def register(app: typer.Typer) -> None:
    llm_app = typer.Typer(help="The optional LLM.", no_args_is_help=True)
    llm_app.command("check")(check)
    app.add_typer(llm_app, name="llm")


def check() -> None:
    """Ask the LLM to summarise one sentence; say whether it answered (features fall back when it does not)."""
    from bot.llm import LLM

    settings = load_settings()
    llm = LLM(settings)
    if not llm.enabled:
        raise fail("no LLM is configured (set OPENAI_API_KEY; every feature also works without one)", 2)
    where = f"{settings.llm_model} at {settings.openai_base_url or 'https://api.openai.com/v1'}"
    variables = {"organisation": settings.organisation, "language": settings.default_locale, "text": SAMPLE}

    async def ask() -> tuple[_Summary, bool]:
        try:
            return await llm.structured("selftest", variables, _Summary, lambda: _Summary(summary=""))
        finally:
            await llm.close()

    answer, answered = run_async(ask())
    if not answered:
        raise fail(f"{where} did not give a usable answer (the log says why); features use their fallback")
    typer.echo(f"The LLM answers: {where} summarised a sample as “{answer.summary}”")
