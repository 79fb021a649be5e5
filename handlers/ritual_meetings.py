"""Meetings where the ritual runs, in chat: ``meetings``, ``meetings add|edit|ritual|remove`` and the form.

A leader (a team lead) or a CX manager sets a meeting up; afterwards only a CX manager, or a leader who
created the meeting or takes part in it, may change or remove it. Parsing and saving are in
`handlers.ritual_meeting_input`.
"""

from __future__ import annotations

from bot.commands import ParsedCommand
from bot.context import Context
from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.messages import Field_, Form, Message, Text
from bot.router import Router, Submission
from handlers import ritual_schedule as timing
from handlers.ritual_meeting_input import FIELDS, FieldStyle, MeetingInput, apply_input, save, set_ritual
from storage.models import Meeting, Role

router = Router()


def require_organiser(ctx: Context) -> None:
    """Meetings are set up by a leader (a team lead) or a CX manager."""
    if not (ctx.member.has_role(Role.leader) or ctx.member.has_role(Role.cx_manager)):
        raise NotAllowed("error.not_allowed", role=ctx.t("ritual.organiser_roles"))


def require_manager_of(ctx: Context, meeting: Meeting) -> None:
    """A CX manager may change any meeting; a leader only one they created or take part in."""
    require_organiser(ctx)
    member = ctx.member
    if member.has_role(Role.cx_manager):
        return
    if meeting.created_by != member.id and member.id not in meeting.participant_ids:
        raise NotAllowed("ritual.error.not_your_meeting", meeting=meeting.name)


# --- Chat ------------------------------------------------------------------------------------------------
def meeting_form(
    ctx: Context, given: MeetingInput, errors: dict[str, str], meeting_id: int | None
) -> Message:
    def field(name: str, style: FieldStyle = "text", required: bool = True) -> Field_:
        return Field_(
            name=name,
            label=ctx.t(f"ritual.meeting_form.{name}"),
            style=style,
            required=required,
            value=getattr(given, name),
            placeholder=ctx.t(f"ritual.meeting_form.{name}_hint"),
        )

    form = Form(
        action="ritual.meeting_form",
        title=ctx.t("ritual.meeting_form.title_edit" if meeting_id else "ritual.meeting_form.title"),
        fields=(
            field("name"),
            field("channel"),
            field("days", required=False),
            field("time", required=False),
            field("duration"),
            field("topic", "textarea", required=False),
            field("participants", "textarea", required=False),
            field("rrule", required=False),
            field("timezone", required=False),
            field("lead", required=False),
        ),
        submit_label=ctx.t("ritual.meeting_form.submit"),
        payload={"meeting": meeting_id} if meeting_id else {},
        errors=errors,
    )
    blocks = (Text(text=ctx.t("ritual.meeting_form.intro")), form)
    return Message(blocks=blocks, key="ritual.meeting_form.title")


@router.command("meetings add", help_key="ritual.help.meetings_add")
async def add_meeting(ctx: Context, command: ParsedCommand) -> None:
    require_organiser(ctx)
    given = MeetingInput(
        channel=ctx.channel.name if ctx.channel else "",
        timezone=ctx.timezone_of(ctx.member),
        name=command.rest.strip()[:200],
    )
    await ctx.reply(meeting_form(ctx, given, {}, None), ephemeral=True)


@router.command("meetings edit")
async def edit_meeting(ctx: Context, command: ParsedCommand) -> None:
    require_organiser(ctx)
    meeting = await meeting_by_argument(ctx, command)
    require_manager_of(ctx, meeting)
    names = [member.name for member in await ctx.repo.ritual.participants(meeting)]
    await ctx.reply(meeting_form(ctx, MeetingInput.of(meeting, names), {}, meeting.id), ephemeral=True)


@router.form("ritual.meeting_form")
async def submit_meeting(ctx: Context, submission: Submission) -> None:
    require_organiser(ctx)
    given = MeetingInput(**{name: submission.fields.get(name, "")[:2000] for name in FIELDS})
    meeting_id = submission.value.get("meeting")
    existing = await ctx.repo.ritual.meeting(int(meeting_id)) if meeting_id else None
    if meeting_id and existing is None:
        raise NotFound("ritual.error.unknown_meeting", reference=str(meeting_id))
    if existing is not None:
        require_manager_of(ctx, existing)
    draft, participants, errors = await apply_input(ctx, given, ctx.timezone_of(ctx.member), existing)
    if errors:
        shown = {name: ctx.t(error.key, **error.params) for name, error in errors.items()}
        await ctx.reply(meeting_form(ctx, given, shown, existing.id if existing else None), ephemeral=True)
        return
    draft.created_by = ctx.member.id
    meeting = await save(ctx, draft, participants, existing)
    await ctx.audit(ctx.member, "meeting.save", f"meeting:{meeting.id}")
    await ctx.reply(describe(ctx, meeting, len(participants), key="ritual.meeting_saved"))


def describe(ctx: Context, meeting: Meeting, participants: int, *, key: str) -> Message:
    upcoming = timing.next_occurrence(meeting, ctx.now())
    return ctx.message(
        key,
        id=meeting.id,
        name=meeting.name,
        channel=meeting.channel.name if meeting.channel else "—",
        participants=participants,
        next=timing.format_moment(ctx, ctx.locale, upcoming, meeting.timezone) if upcoming else "—",
        ritual=ctx.t("ritual.on" if meeting.ritual_enabled else "ritual.off"),
    )


async def meeting_by_argument(ctx: Context, command: ParsedCommand, position: int = 0) -> Meeting:
    reference = command.args[position].lstrip("#") if len(command.args) > position else ""
    meeting = await ctx.repo.ritual.meeting(int(reference)) if reference.isdigit() else None
    if meeting is None:
        raise NotFound("ritual.error.unknown_meeting", reference=reference or "—")
    return meeting


@router.command("meetings", help_key="ritual.help.meetings")
async def list_meetings(ctx: Context, command: ParsedCommand) -> None:
    meetings = await ctx.repo.ritual.meetings()
    if not meetings:
        await ctx.reply(ctx.message("ritual.meetings_none"), ephemeral=True)
        return
    lines = []
    for meeting in meetings:
        upcoming = timing.next_occurrence(meeting, ctx.now())
        lines.append(
            ctx.t(
                "ritual.meetings_line",
                id=meeting.id,
                name=meeting.name,
                channel=meeting.channel.name if meeting.channel else "—",
                next=timing.format_moment(ctx, ctx.locale, upcoming, meeting.timezone) if upcoming else "—",
                participants=len(meeting.participants),
                ritual=ctx.t("ritual.on" if meeting.ritual_enabled else "ritual.off"),
            )
        )
    text = ctx.t("ritual.meetings_title") + "\n" + "\n".join(lines)
    await ctx.reply(Message.text(text, key="ritual.meetings_title"), ephemeral=True)


@router.command("meetings ritual", help_key="ritual.help.meetings_ritual")
async def toggle_ritual(ctx: Context, command: ParsedCommand) -> None:
    require_organiser(ctx)
    meeting = await meeting_by_argument(ctx, command)
    require_manager_of(ctx, meeting)
    wanted = command.args[1].lower() if len(command.args) > 1 else ""
    if wanted not in ("on", "aan", "off", "uit"):
        raise InvalidInput("ritual.error.on_off")
    await set_ritual(ctx, meeting, wanted in ("on", "aan"))
    await ctx.audit(ctx.member, "meeting.ritual", f"meeting:{meeting.id}", enabled=meeting.ritual_enabled)
    await ctx.reply(describe(ctx, meeting, len(meeting.participants), key="ritual.meeting_toggled"))


@router.command("meetings remove")
async def remove_meeting(ctx: Context, command: ParsedCommand) -> None:
    require_organiser(ctx)
    meeting = await meeting_by_argument(ctx, command)
    require_manager_of(ctx, meeting)
    name, meeting_id = meeting.name, meeting.id
    await timing.stop_schedules(ctx, meeting_id)
    await ctx.repo.ritual.remove_meeting(meeting, ctx.now())
    await ctx.audit(ctx.member, "meeting.remove", f"meeting:{meeting_id}")
    await ctx.reply(ctx.message("ritual.meeting_removed", name=name))
