"""Slack modals: a form opens as a modal, its refusals show inside it, its answers go to the DM once.

A form is rendered as a modal view (`render_modal`) and its submitted state read back (`modal_values`).

A submission is acknowledged within Slack's 3 s. When the handler is done by then and refused the input (it
raised a refusal, or it showed its form again with ``Form.errors``), the acknowledgement carries the errors
(``response_action: errors``): the modal stays open with each error under its field, and nothing of that
submission is repeated in the DM. Otherwise the modal closes and the handler's replies arrive in the DM.

The replies of a submission (delivery target ``view:<user>``) are written by the handler before the
acknowledgement decides, so their sender waits for the decision: the submission records it as a processed
event (`DECIDED_SHOWN` or `DECIDED_CLOSED`), and a reply whose submission has not decided yet is put back
for a second (`RetryAfter`), at most `DEFER_LIMIT` times (a decision lost with a crashed process does not
hold an answer back for good).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot import markup
from bot.messages import Form
from bot.platforms.base import Outgoing, RetryAfter
from bot.platforms.slack_blocks import (
    MAX_VIEW_BLOCKS,
    OPTION_TEXT,
    OPTIONS_PER_SELECT,
    PLACEHOLDER,
    Block,
    Tokens,
    context_blocks,
    plain_text,
)
from bot.platforms.slack_render import (
    FORM_ACTION,
    OPTIONS_ACTION,
    external_select,
    options_matching,
    options_token,
)
from bot.router import Outcome
from storage.repositories import Repos
from storage.repositories.tokens import token_for

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.app import Services

log = logging.getLogger(__name__)
PLATFORM = "slack"
DECIDED_SHOWN = "slack-modal-shown"
"""Processed-event marker: the submission's refusal was shown in its modal; its replies are not sent."""
DECIDED_CLOSED = "slack-modal-closed"
"""Processed-event marker: the submission closed its modal; its replies go to the DM."""
MODAL_BUDGET = 2.0
"""Seconds from the request's arrival within which a submission is acknowledged (Slack allows 3)."""
MODAL_ERROR = 2000
MODAL_CALLBACK = "klantpet_form"
VIEW_TITLE = 24
INPUT_LABEL = 2000
INPUT_MAX_LENGTH = 3000
BLOCK_ID = 255
PRIVATE_METADATA = 3000
MODAL_OPTION_VALUE = 150
OPTION_VALUE_PREFIX = "v:"
"""Before a modal select's option value: Slack wants 1-150 characters, and "no choice" may be empty (a
form's values are short ids, at most 148 characters)."""
DEFER_SECONDS = 1.0
DEFER_LIMIT = 5


def render_modal(
    form: Form, metadata: dict[str, Any], close_label: str, tokens: Tokens | None = None
) -> dict[str, Any]:
    """A modal view for ``form``; ``metadata`` comes back in ``view_submission`` as private_metadata.

    Errors the form carries (it was shown again with what was wrong) head the modal; a modal can show an
    error under a field only in answer to a submission (`modal_errors`). A select of more than 100 options
    searches as the person types; its option list is added to ``tokens``, to be registered before opening.
    """
    blocks: list[Block] = []
    if form.errors:
        blocks.extend(context_blocks("\n".join(f"⚠️ {error}" for error in form.errors.values())))
    for number, item in enumerate(form.fields[:MAX_VIEW_BLOCKS]):
        if item.style == "select":
            options = [(label, _option_value(value)) for value, label in item.options]
            placeholder = plain_text(item.placeholder, PLACEHOLDER) if item.placeholder else None
            if len(options) > OPTIONS_PER_SELECT:
                element = external_select(options, placeholder, str(number), [] if tokens is None else tokens)
            else:
                element = {
                    "type": "static_select",
                    "action_id": "value",
                    "options": [
                        {"text": plain_text(label, OPTION_TEXT), "value": value} for label, value in options
                    ],
                }
            initial = next(
                (
                    {"text": plain_text(label, OPTION_TEXT), "value": value}
                    for label, value in options
                    if value == _option_value(item.value)
                ),
                None,
            )
            if initial is not None:
                element["initial_option"] = initial
        else:
            max_length = max(1, min(item.max_length, INPUT_MAX_LENGTH))
            element = {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": item.style == "textarea",
                "max_length": max_length,
            }
            if item.value:
                element["initial_value"] = item.value[:max_length]
        if item.placeholder:
            element["placeholder"] = plain_text(item.placeholder, PLACEHOLDER)
        if item.style == "select" and not item.options:
            continue
        blocks.append(
            {
                "type": "input",
                "block_id": item.name[:BLOCK_ID],
                "label": plain_text(item.label, INPUT_LABEL),
                "optional": not item.required,
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "title": plain_text(form.title, VIEW_TITLE),
        "submit": plain_text(form.submit_label, VIEW_TITLE),
        "close": plain_text(close_label, VIEW_TITLE),
        "private_metadata": _metadata(metadata),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


def _metadata(metadata: dict[str, Any]) -> str:
    """``private_metadata`` as JSON within its 3000 characters: optional entries are dropped, never cut."""
    text = json.dumps(metadata, separators=(",", ":"))
    if len(text) > PRIVATE_METADATA:
        text = json.dumps({key: metadata[key] for key in ("t",) if key in metadata}, separators=(",", ":"))
    return text[:PRIVATE_METADATA]


def _option_value(value: str) -> str:
    """A modal option's value: Slack wants 1 to 150 characters, and "no choice" may be an empty value."""
    return OPTION_VALUE_PREFIX + value[: MODAL_OPTION_VALUE - len(OPTION_VALUE_PREFIX)]


def modal_values(state: dict[str, Any]) -> dict[str, str]:
    """The submitted field values (``view.state.values``) by field name."""
    fields: dict[str, str] = {}
    for block_id, actions in (state.get("values") or {}).items():
        for value in (actions or {}).values():
            if not isinstance(value, dict):
                continue
            if value.get("type") in ("static_select", "external_select"):
                selected = value.get("selected_option") or {}
                fields[block_id] = str(selected.get("value") or "").removeprefix(OPTION_VALUE_PREFIX)
            else:
                fields[block_id] = str(value.get("value") or "")
    return fields


def submission_of(outgoing: Outgoing) -> str | None:
    """The submission event id (``view:<trigger>``) a reply answers, or None for any other delivery."""
    if not outgoing.target.startswith("view:"):
        return None
    event = outgoing.key.removeprefix(f"in:{PLATFORM}:").rsplit(":", 1)[0]
    return event if event.startswith("view:") else None


def modal_errors(
    outcome: Outcome | None, view: dict[str, Any], fields: dict[str, str], token: str
) -> dict[str, str]:
    """``response_action: errors`` for a refused submission, by input block; empty when it was accepted.

    A refusal raised by the handler goes on the field it names (else the first); a form the handler showed
    again with errors (the same form: the same action and payload) puts each error on its own field.
    """
    if outcome is None:
        return {}
    blocks = [
        str(block["block_id"]) for block in view.get("blocks") or [] if block.get("type") == "input"
    ] or list(fields)
    if not blocks:
        return {}
    if outcome.error is not None and outcome.replies:
        field = getattr(outcome.error, "field", None)
        text = markup.to_plain(outcome.replies[-1].plain_text).strip()
        return {field if field in blocks else blocks[0]: text[:MODAL_ERROR]}
    errors: dict[str, str] = {}
    for form in _forms_shown_again(outcome, token):
        for name, text in form.errors.items():
            block = name if name in blocks else blocks[0]
            plain = markup.to_plain(text).strip()
            errors[block] = f"{errors[block]} {plain}" if block in errors else plain
    return {block: text[:MODAL_ERROR] for block, text in errors.items()}


def _forms_shown_again(outcome: Outcome, token: str) -> list[Form]:
    return [
        block
        for message in outcome.replies
        for block in message.blocks
        if isinstance(block, Form) and block.errors and token_for(block.action, block.payload) == token
    ]


class SlackModals:
    """Opens modals and holds a submission's replies until its acknowledgement has decided."""

    def __init__(self, services: Services, client: AsyncWebClient) -> None:
        self.services = services
        self.client = client
        self.deferred: dict[int, int] = {}

    async def open(self, trigger_id: str, token: str, user: str, message_ref: str | None) -> None:
        """Open the modal of the form behind ``token`` (a ``FORM_ACTION`` token)."""
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            resolved = await repos.tokens.resolve(token)
            member = await repos.members.by_identity(PLATFORM, user)
        if resolved is None or resolved[0] != FORM_ACTION:
            log.info("form token unknown")
            return
        form = Form.model_validate(resolved[1])
        locale = self.services.catalog.locale(member.locale if member else None)
        metadata = {"t": token_for(form.action, form.payload), "m": message_ref}
        tokens: Tokens = []
        view = render_modal(form, metadata, self.services.catalog.t(locale, "slack.modal_close"), tokens)
        if tokens:
            async with self.services.database.transaction() as session:
                await Repos(session).tokens.register(tokens)
        try:
            await self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as error:
            log.warning("could not open a modal", extra={"error": error.response.get("error")})

    async def options(self, action_id: str, typed: str) -> list[Block]:
        """The options of an external select that match what the person typed so far."""
        async with self.services.database.transaction() as session:
            resolved = await Repos(session).tokens.resolve(options_token(action_id))
        if resolved is None or resolved[0] != OPTIONS_ACTION:
            return []
        return options_matching(resolved[1], typed)

    async def decide(self, event_id: str, *, shown: bool) -> None:
        """Record whether the submission ``event_id`` showed its refusal in the modal."""
        async with self.services.database.transaction() as session:
            await Repos(session).events.first_time(
                DECIDED_SHOWN if shown else DECIDED_CLOSED, event_id, self.services.clock.now()
            )

    async def reply_wanted(self, outgoing: Outgoing, event_id: str) -> bool:
        """False when the modal already showed this submission's refusal; `RetryAfter` while undecided."""
        async with self.services.database.transaction() as session:
            events = Repos(session).events
            shown = await events.seen(DECIDED_SHOWN, event_id)
            closed = not shown and await events.seen(DECIDED_CLOSED, event_id)
        if shown or closed:
            self.deferred.pop(outgoing.delivery_id, None)
            return closed
        waited = self.deferred.get(outgoing.delivery_id, 0)
        if waited >= DEFER_LIMIT:
            self.deferred.pop(outgoing.delivery_id, None)
            return True
        self.deferred[outgoing.delivery_id] = waited + 1
        raise RetryAfter(DEFER_SECONDS, scope="slack:modal")
