"""Forms on Telegram: a short step-by-step conversation in the member's private chat, with cancel.

Telegram has no form inputs. A form is posted with a "Fill in" button; pressing it starts a session that
asks one field at a time (select fields as buttons, optional fields with Skip, Cancel always). The session
lives in the database, so it survives a restart and works whichever process receives the next update; it
is deleted when the form is sent or cancelled, and forgotten after a day. The last answer becomes a
`FormSubmit` through the router, exactly as a form on any other platform; a field the handler refuses
(``InvalidInput(field=...)``) is asked again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import Actor, FormSubmit, Where
from bot.i18n import LOCALES
from bot.messages import Button, Buttons, Context, Field_, Form, Message, Text
from bot.platforms.telegram_render import FORM_START
from storage.models import Member
from storage.models.telegram import TelegramFormSession
from storage.repositories import Repos
from storage.repositories.tokens import token_for

if TYPE_CHECKING:
    from bot.platforms.telegram import TelegramPlatform

CONTROL = "telegram.form"
"""The action of a question's buttons; the adapter handles it, it never reaches the router."""
LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class _Finished:
    """A form with every answer, ready to submit."""

    chat_id: str
    user_id: str
    token: str
    answers: dict[str, str]
    origin: dict[str, Any]
    message_ref: str | None


class StepByStepForms:
    lifetime = LIFETIME

    def __init__(self, platform: TelegramPlatform) -> None:
        self.platform = platform
        self.services = platform.services

    # --- Entry points from the adapter -------------------------------------------------------------
    async def on_click(self, event_id: str, actor: Actor, where: Where, data: str, reference: str) -> bool:
        """True when the button press was a form's (handled here); False to route it normally."""
        if data.startswith(FORM_START):
            return await self._start(event_id, actor, where, data.removeprefix(FORM_START), reference)
        finished = None
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            resolved = await repos.tokens.resolve(data)
            member = await self._member(repos, actor)
            if resolved is None or resolved[0] != CONTROL or member is None:
                return False
            if not await repos.events.first_time(self.platform.name, event_id, self.services.clock.now()):
                return True
            payload = resolved[1]
            locale = self._locale(member, actor)
            talk = _Talk(self, session, event_id, where.external_id, member, locale)
            current = await self._session(repos, where.external_id, actor.external_id)
            if (
                current is None
                or current.nonce != payload.get("nonce")
                or current.step != payload.get("step")
            ):
                await talk.say("telegram.form.stale")
                return True
            field = _form(current).fields[current.step]
            operation, value = payload.get("op"), str(payload.get("value", ""))
            if operation == "cancel":
                await repos.telegram.end_form(current.chat_id, current.user_id)
                await talk.say("telegram.form.cancelled")
                return True
            if operation == "skip" and field.required:
                await talk.say("error.field_required")
                return True
            if operation == "pick" and value not in {option for option, _ in field.options}:
                await talk.say("telegram.form.stale")
                return True
            finished = await talk.answer(current, "" if operation == "skip" else value)
        self.services.outbox.wake()
        if finished is not None:
            await self._submit(event_id, actor, finished)
        return True

    async def on_text(self, event_id: str, actor: Actor, where: Where, text: str, is_command: bool) -> bool:
        """True when the private message answered a form in progress; False to route it normally."""
        finished = None
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            member = await self._member(repos, actor)
            current = await self._session(repos, where.external_id, actor.external_id) if member else None
            if member is None or current is None:
                return False
            talk = _Talk(self, session, event_id, where.external_id, member, self._locale(member, actor))
            if is_command:
                words = text[1:].split()
                cancel = bool(words) and words[0].lower() in self._cancel_words()
                if cancel and not await repos.events.first_time(
                    self.platform.name, event_id, self.services.clock.now()
                ):
                    return True
                await repos.telegram.end_form(current.chat_id, current.user_id)
                await talk.say("telegram.form.cancelled", suffix="form-ended")
                self.services.outbox.wake()
                return cancel  # another command ends the form and then runs
            if not await repos.events.first_time(self.platform.name, event_id, self.services.clock.now()):
                return True
            fields = _form(current).fields
            if current.step >= len(fields):  # answered before a crash, never submitted
                finished = talk.finished(current)
            else:
                value = await talk.check(fields[current.step], text.strip())
                if value is not None:
                    finished = await talk.answer(current, value)
        self.services.outbox.wake()
        if finished is not None:
            await self._submit(event_id, actor, finished)
        return True

    # --- Steps ---------------------------------------------------------------------------------------
    async def _start(self, event_id: str, actor: Actor, where: Where, token: str, reference: str) -> bool:
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            member = await self._member(repos, actor)
            if member is None:
                return False
            if not await repos.events.first_time(self.platform.name, event_id, self.services.clock.now()):
                return True
            identity = await repos.members.identity(member.id, self.platform.name)
            private = self.platform.dm_target(identity) if identity else actor.external_id
            talk = _Talk(self, session, event_id, private, member, self._locale(member, actor))
            form = await self._find_form(repos, reference, token)
            if form is None:
                await talk.say("error.expired_action")
            else:
                started = await repos.telegram.start_form(
                    chat_id=private,
                    user_id=actor.external_id,
                    member_id=member.id,
                    token=token,
                    form=form.model_dump(mode="json"),
                    origin={"chat_id": where.external_id, "kind": where.kind, "name": where.name},
                    message_ref=reference,
                    now=self.services.clock.now(),
                )
                await talk.ask(started)
        self.services.outbox.wake()
        return True

    async def _submit(self, event_id: str, actor: Actor, finished: _Finished) -> None:
        origin = finished.origin
        where = Where(
            external_id=origin["chat_id"], kind=origin["kind"], name=origin.get("name"), ref=origin["chat_id"]
        )
        outcome = await self.services.router.handle(
            FormSubmit(
                platform=self.platform.name,
                event_id=f"{event_id}:submit",
                actor=actor,
                where=where,
                token=finished.token,
                fields=finished.answers,
                message_ref=finished.message_ref,
            ),
            enroll=False,
        )
        if outcome.duplicate:
            return
        async with self.services.database.transaction() as session:
            repos = Repos(session)
            current = await self._session(repos, finished.chat_id, finished.user_id)
            member = await self._member(repos, actor)
            if current is None or member is None:
                return
            names = [field.name for field in _form(current).fields]
            refused = getattr(outcome.error, "field", None)
            if refused in names:  # the handler refused one answer: ask that question again
                current.step = names.index(refused)
                current.answers = {name: value for name, value in current.answers.items() if name != refused}
                current.updated_at = self.services.clock.now()
                talk = _Talk(self, session, event_id, finished.chat_id, member, self._locale(member, actor))
                await talk.ask(current, suffix="form-retry")
            else:
                await repos.telegram.end_form(finished.chat_id, finished.user_id)
        self.services.outbox.wake()

    # --- Lookups -------------------------------------------------------------------------------------
    async def _member(self, repos: Repos, actor: Actor) -> Member | None:
        member = await repos.members.by_identity(self.platform.name, actor.external_id)
        return member if member is not None and member.active else None

    async def _session(self, repos: Repos, chat_id: str, user_id: str) -> TelegramFormSession | None:
        return await repos.telegram.form_session(chat_id, user_id, self.services.clock.now() - LIFETIME)

    @staticmethod
    async def _find_form(repos: Repos, reference: str, token: str) -> Form | None:
        """The form behind a start button, from what was sent (or edited) as that message."""
        for data in await repos.telegram.sent_messages(reference):
            for block in Message.from_json(data).blocks:
                if isinstance(block, Form) and token_for(block.action, block.payload) == token:
                    return block
        return None

    def _locale(self, member: Member, actor: Actor) -> str:
        return self.services.catalog.locale(member.locale or actor.locale)

    def _cancel_words(self) -> set[str]:
        words = {"cancel"}
        for locale in LOCALES:
            words.update(
                word.lower() for word in self.services.catalog.choices(locale, "telegram.form.cancel_words")
            )
        return words


def _form(current: TelegramFormSession) -> Form:
    return Form.model_validate(current.form)


class _Talk:
    """Saying things in one member's private chat while a form is filled in, inside one transaction."""

    def __init__(
        self,
        forms: StepByStepForms,
        session: AsyncSession,
        event_id: str,
        chat_id: str,
        member: Member,
        locale: str,
    ) -> None:
        self.forms, self.session, self.event_id = forms, session, event_id
        self.chat_id, self.member, self.locale = chat_id, member, locale

    def t(self, key: str, **params: Any) -> str:
        return self.forms.platform.t(self.locale, key, **params)

    async def send(self, message: Message, suffix: str) -> None:
        await self.forms.services.outbox.enqueue(
            self.session,
            key=f"in:{self.forms.platform.name}:{self.event_id}:{suffix}",
            topic="telegram",
            platform=self.forms.platform.name,
            target=self.chat_id,
            message=message,
            locale=self.locale,
            member_id=self.member.id,
        )

    async def say(self, key: str, suffix: str = "form", **params: Any) -> None:
        await self.send(Message.text(self.t(key, **params), key=key), suffix)

    async def ask(self, current: TelegramFormSession, suffix: str = "form") -> None:
        form = _form(current)
        field = form.fields[current.step]

        def control(label: str, operation: str, value: str = "", style: Any = "default") -> Button:
            payload = {"nonce": current.nonce, "step": current.step, "op": operation, "value": value}
            return Button(label=label, action=CONTROL, payload=payload, style=style)

        question = self.t(
            "telegram.form.question",
            title=form.title,
            step=current.step + 1,
            total=len(form.fields),
            label=field.label,
        )
        hints = [field.placeholder] if field.placeholder and field.style != "select" else []
        hints.append(
            self.t("telegram.form.choose" if field.style == "select" else "telegram.form.type_answer")
        )
        if not field.required:
            hints.append(self.t("telegram.form.optional"))
        blocks: list[Any] = [Text(text=question), Context(text=" ".join(hints))]
        if field.style == "select":
            blocks.append(
                Buttons(buttons=tuple(control(label, "pick", value) for value, label in field.options))
            )
        ending = [control(self.t("telegram.form.skip"), "skip")] if not field.required else []
        ending.append(control(self.t("telegram.form.cancel"), "cancel", style="danger"))
        blocks.append(Buttons(buttons=tuple(ending)))
        await self.send(Message(blocks=tuple(blocks), key="telegram.form.question"), suffix)

    async def check(self, field: Field_, value: str) -> str | None:
        """The typed answer as the field's value, or None after saying what is wrong with it."""
        if field.style == "select":
            wanted = value.casefold()
            match = next(
                (
                    option
                    for option, label in field.options
                    if wanted in (option.casefold(), label.casefold())
                ),
                None,
            )
            if match is None:
                await self.say("telegram.form.not_an_option")
            return match
        if len(value) > field.max_length:
            await self.say("error.field_too_long", limit=field.max_length)
            return None
        if not value and field.required:
            await self.say("error.field_required")
            return None
        return value

    async def answer(self, current: TelegramFormSession, value: str) -> _Finished | None:
        """Keep the answer and ask the next question; the finished form when that was the last."""
        fields = _form(current).fields
        current.answers = {**current.answers, fields[current.step].name: value}
        current.step += 1
        current.updated_at = self.forms.services.clock.now()
        if current.step < len(fields):
            await self.ask(current)
            return None
        return self.finished(current)

    @staticmethod
    def finished(current: TelegramFormSession) -> _Finished:
        return _Finished(
            chat_id=current.chat_id,
            user_id=current.user_id,
            token=current.token,
            answers={name: str(value) for name, value in current.answers.items()},
            origin=dict(current.origin),
            message_ref=current.message_ref,
        )
