"""The "yes" of a debrief: the silo-conflict form, its validation field by field, and recording the
conflict in the register (its owner hears of it; a pair that keeps coming back is flagged).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.context import Context, JobContext
from bot.errors import Conflict, InvalidInput, NotAllowed
from bot.messages import Field_, Form, Message, Text
from bot.router import Router, Submission
from handlers import ritual_schedule as timing
from handlers.ritual_meeting_input import FieldStyle
from handlers.ritual_weekly import flag_recurring_pair
from storage.models import Member, Role
from storage.models.ritual import DebriefAnswer, RitualRun, SiloConflict, SiloStatus

router = Router()
OWNER_SELECT_LIMIT = 200
TEXT_LIMITS = {"goals": 1000, "impact": 1000, "next_step": 500, "moment": 2000}
MIN_TEXT = 5


# --- Whose debrief --------------------------------------------------------------------------------------------
async def my_run(ctx: Context, value: dict[str, object]) -> RitualRun:
    run = await ctx.repo.ritual.run(int(str(value.get("run", 0))))
    if run is None:
        raise InvalidInput("error.expired_action")
    if run.cap_member_id != ctx.member.id and not ctx.member.has_role(Role.cx_manager):
        raise NotAllowed("ritual.error.not_your_debrief")
    return run


async def unanswered(ctx: Context, value: dict[str, object]) -> RitualRun:
    run = await my_run(ctx, value)
    if run.debrief_answer is not None:
        raise Conflict("ritual.error.debrief_done")
    return run


def text_error(ctx: Context, value: str, name: str, *, required: bool) -> str | None:
    if not value:
        return ctx.t("error.field_required") if required else None
    if len(value) < MIN_TEXT:
        return ctx.t("ritual.error.too_short", minimum=MIN_TEXT)
    if len(value) > TEXT_LIMITS[name]:
        return ctx.t("error.field_too_long", limit=TEXT_LIMITS[name])
    return None


# --- The conflict form ----------------------------------------------------------------------------------
async def conflict_form(
    ctx: Context, run: RitualRun, values: dict[str, str], errors: dict[str, str]
) -> Message:
    departments = tuple((str(d.id), d.name) for d in await ctx.repo.members.departments())
    members = await ctx.repo.members.active()
    owners = tuple((str(m.id), m.name) for m in sorted(members, key=lambda m: m.name.lower()))

    def field(
        name: str,
        style: FieldStyle = "text",
        *,
        required: bool = True,
        options: tuple[tuple[str, str], ...] = (),
    ) -> Field_:
        return Field_(
            name=name,
            label=ctx.t(f"ritual.conflict_form.{name}"),
            style=style,
            required=required,
            options=options,
            value=values.get(name, ""),
            max_length=TEXT_LIMITS.get(name, 200),
        )

    owner_style: FieldStyle = "select" if len(owners) <= OWNER_SELECT_LIMIT else "text"
    form = Form(
        action="ritual.conflict_form",
        title=ctx.t("ritual.conflict_form.title"),
        fields=(
            field("department_a", "select", options=departments),
            field("department_b", "select", options=departments),
            field("goals", "textarea"),
            field("impact", "textarea"),
            field("next_step"),
            field("owner", owner_style, options=owners if owner_style == "select" else ()),
            field("moment", "textarea", required=False),
        ),
        submit_label=ctx.t("ritual.conflict_form.submit"),
        payload={"run": run.id},
        errors=errors,
    )
    return Message(
        blocks=(Text(text=ctx.t("ritual.conflict_form.intro")), form), key="ritual.conflict_form.title"
    )


@dataclass(frozen=True)
class ConflictDraft:
    department_a_id: int
    department_b_id: int
    goals: str
    impact: str
    next_step: str
    owner: Member
    moment: str | None


async def validate_conflict(
    ctx: Context, fields: dict[str, str]
) -> tuple[ConflictDraft | None, dict[str, str]]:
    """The form's answer checked field by field; (draft, {}) or (None, errors by field)."""
    values = {
        name: fields.get(name, "").strip()
        for name in ("department_a", "department_b", "goals", "impact", "next_step", "owner", "moment")
    }
    errors: dict[str, str] = {}
    known = {str(d.id): d.id for d in await ctx.repo.members.departments()}
    for name in ("department_a", "department_b"):
        if not values[name]:
            errors[name] = ctx.t("error.field_required")
        elif values[name] not in known:
            errors[name] = ctx.t("ritual.error.unknown_department")
    if "department_b" not in errors and values["department_a"] == values["department_b"]:
        errors["department_b"] = ctx.t("ritual.error.same_department")
    for name in ("goals", "impact", "next_step", "moment"):
        error = text_error(ctx, values[name], name, required=name != "moment")
        if error:
            errors[name] = error
    owner = None
    if not values["owner"]:
        errors["owner"] = ctx.t("error.field_required")
    else:
        reference = values["owner"]
        owner = (
            await ctx.repo.members.get(int(reference))
            if reference.isdigit()
            else await ctx.repo.members.find(reference)
        )
        if owner is None or not owner.active:
            errors["owner"] = ctx.t("error.member_not_found", reference=reference[:80])
    if errors or owner is None:
        return None, errors
    return (
        ConflictDraft(
            known[values["department_a"]],
            known[values["department_b"]],
            values["goals"],
            values["impact"],
            values["next_step"],
            owner,
            values["moment"] or None,
        ),
        {},
    )


@router.form("ritual.conflict_form")
async def submit_conflict(ctx: Context, submission: Submission) -> None:
    run = await unanswered(ctx, submission.value)
    draft, errors = await validate_conflict(ctx, submission.fields)
    if draft is None:
        await ctx.reply(await conflict_form(ctx, run, dict(submission.fields), errors))
        return
    run.debrief_answer = DebriefAnswer.conflict.value
    run.debriefed_at = ctx.now()
    run.customer_moment = draft.moment
    conflict = await record_conflict(ctx, draft, run=run, reporter=ctx.member)
    await ctx.reply(
        ctx.message("ritual.conflict_saved", id=conflict.id, pair=conflict.pair, owner=draft.owner.name)
    )


async def record_conflict(
    ctx: JobContext, draft: ConflictDraft, *, run: RitualRun | None, reporter: Member | None
) -> SiloConflict:
    """Add a conflict to the register, tell its owner, and flag a pair that keeps coming back."""
    now = ctx.now()
    conflict = await ctx.repo.ritual.add_conflict(
        SiloConflict(
            meeting_id=run.meeting_id if run else None,
            run_id=run.id if run else None,
            department_a_id=draft.department_a_id,
            department_b_id=draft.department_b_id,
            goals=draft.goals,
            customer_impact=draft.impact,
            next_step=draft.next_step,
            owner_member_id=draft.owner.id,
            reported_by=reporter.id if reporter else None,
            status=SiloStatus.open.value,
            created_at=now,
            updated_at=now,
        )
    )
    await ctx.audit(reporter, "silo.report", f"silo:{conflict.id}")
    if reporter is None or draft.owner.id != reporter.id:
        locale = ctx.locale_of(draft.owner)
        await ctx.dm(
            draft.owner,
            Message.text(
                ctx.t(
                    locale,
                    "ritual.owner_assigned",
                    id=conflict.id,
                    pair=conflict.pair,
                    next_step=conflict.next_step,
                ),
                key="ritual.owner_assigned",
            ),
            key=f"ritual:owner:{conflict.id}:{draft.owner.id}",
            topic="ritual",
        )
    await flag_recurring_pair(ctx, conflict)
    await timing.ensure_weekly(ctx)
    return conflict
