"""What colleagues do with a posted snippet: replies (passed on to the leader) and reactions (counted);
and `snippets`, a leader's own overview."""

from __future__ import annotations

from bot.commands import ParsedCommand
from bot.context import Context
from bot.messages import Message
from bot.router import Router, ThreadEvent
from handlers.leadership.common import first_name, local_date, require_leader
from storage.models import Role
from storage.models.leadership import LeaderSnippet

router = Router()
MAX_REPLY = 4000
MAX_EMOJI = 40


async def _snippet_of(ctx: Context, thread: ThreadEvent) -> LeaderSnippet | None:
    """The snippet behind a delivery keyed ``snippet:<id>:<channel id>``."""
    parts = thread.delivery_key.split(":")
    if len(parts) != 3 or parts[0] != "snippet" or not parts[1].isdigit():
        return None
    return await ctx.repo.leadership.snippet(int(parts[1]))


@router.reply("snippet")
async def record_reply(ctx: Context, thread: ThreadEvent) -> None:
    snippet = await _snippet_of(ctx, thread)
    text = thread.text.strip()[:MAX_REPLY]
    if snippet is None or not text:
        return
    channel_id = ctx.channel.id if ctx.channel else None
    reply = await ctx.repo.leadership.record_reply(snippet.id, ctx.member.id, channel_id, text, ctx.now())
    author = await ctx.repo.members.get(snippet.author_member_id)
    if author is None or author.id == ctx.member.id:
        return
    locale = ctx.locale_of(author)
    notice = ctx.t(
        locale,
        "leadership.snippet.reply_notice",
        name=ctx.member.name,
        channel=f"#{ctx.channel.name}" if ctx.channel else "",
        text=text[:500],
    )
    await ctx.dm(
        author, Message.text(notice, key="leadership.snippet.reply_notice"), key=f"snippet-reply:{reply.id}"
    )


@router.reaction("snippet")
async def record_reaction(ctx: Context, thread: ThreadEvent) -> None:
    snippet = await _snippet_of(ctx, thread)
    if snippet is None or not thread.emoji:
        return
    await ctx.repo.leadership.set_reaction(
        snippet.id, ctx.member.id, thread.emoji[:MAX_EMOJI], added=thread.added, now=ctx.now()
    )


@router.command("snippets", role=Role.leader, help_key="leadership.help.snippets")
async def my_snippets(ctx: Context, command: ParsedCommand) -> None:
    """A leader's recent snippets: where each stands and how colleagues responded."""
    require_leader(ctx)
    snippets = list(await ctx.repo.leadership.snippets_by(ctx.member.id))
    if not snippets:
        await ctx.reply(ctx.message("leadership.list.empty", name=first_name(ctx.member)), ephemeral=True)
        return
    counts = await ctx.repo.leadership.responses([snippet.id for snippet in snippets])
    zone = ctx.timezone_of(ctx.member)
    lines = [ctx.t("leadership.list.intro")]
    for snippet in snippets:
        summary = snippet.text or snippet.video_url or ""
        lines.append(
            ctx.t(
                "leadership.list.line",
                date=local_date(snippet.posted_at or snippet.post_at or snippet.created_at, zone),
                status=ctx.t(f"leadership.status.{snippet.status}"),
                replies=counts[snippet.id].replies,
                reactions=counts[snippet.id].reactions,
                summary=summary if len(summary) <= 60 else summary[:59] + "…",
            )
        )
    await ctx.reply(Message.text("\n".join(lines), key="leadership.list.intro"), ephemeral=True)
