"""Results as a chat message for CX managers (the dashboard draws the same `RoundResults`)."""

from __future__ import annotations

from bot.context import Context
from bot.messages import Context as Footer
from bot.messages import Message, Text
from handlers.pulses.cards import moment_text
from handlers.pulses.results import QuestionResult, RoundResults, TrendPoint

BARS = "▁▂▃▄▅▆▇█"
MAX_COMMENTS = 8


def signed(value: int) -> str:
    return f"+{value}" if value > 0 else str(value)


def decimal(locale: str, value: float, digits: int = 1) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if locale == "nl" else text


def sparkline(counts: dict[int, int]) -> str:
    highest = max(counts.values(), default=0)
    if not highest:
        return ""
    return "".join(BARS[round(count / highest * (len(BARS) - 1))] for _, count in sorted(counts.items()))


def _question_line(ctx: Context, result: QuestionResult, change: float | None) -> str:
    if not result.shown:
        return ctx.t("pulse.results.question_hidden", text=result.text)
    if result.kind == "enps":
        assert result.enps is not None and result.split is not None
        line = ctx.t(
            "pulse.results.question_enps", text=result.text, enps=signed(result.enps), n=result.respondents
        )
    else:
        assert result.mean is not None
        line = ctx.t(
            "pulse.results.question_likert",
            text=result.text,
            mean=decimal(ctx.locale, result.mean),
            n=result.respondents,
        )
    line += f" `{sparkline(result.counts)}`"
    if change is not None:
        line += " " + ctx.t(
            "pulse.results.change", change=("+" if change > 0 else "") + decimal(ctx.locale, change)
        )
    return line


def results_message(ctx: Context, results: RoundResults, trend: list[TrendPoint]) -> Message:
    zone = ctx.timezone_of(ctx.member)
    lines = [
        ctx.t(
            "pulse.results.title",
            name=results.name,
            closes=moment_text(ctx, ctx.locale, results.closes_at, zone),
            baseline=results.baseline,
        ),
        ctx.t(
            "pulse.results.response",
            responded=results.responded,
            invited=results.invited,
            rate=results.response_rate if results.response_rate is not None else "—",
        ),
    ]
    enps = next((q for q in results.questions if q.kind == "enps"), None)
    if enps is not None and enps.shown and enps.split is not None:
        promoters, passives, detractors = enps.split
        lines.append(
            ctx.t(
                "pulse.results.enps",
                enps=signed(enps.enps or 0),
                promoters=promoters,
                passives=passives,
                detractors=detractors,
                n=enps.respondents,
            )
        )
    elif enps is not None:
        lines.append(ctx.t("pulse.results.enps_hidden", threshold=results.threshold))
    comparison = results.comparison
    if comparison is not None and comparison.enps_change is not None:
        lines.append(
            ctx.t(
                "pulse.results.versus_baseline",
                name=comparison.baseline_name,
                change=signed(comparison.enps_change),
            )
        )
    blocks: list[Text | Footer] = [Text(text="\n".join(lines))]
    statements = [q for q in results.questions if q.kind != "enps"]
    labels = {q.question_id: f"S{number}" for number, q in enumerate(statements, start=1)}
    questions = [
        f"- {labels[q.question_id]} · "
        + _question_line(ctx, q, comparison.mean_changes.get(q.question_id) if comparison else None)
        for q in statements
    ]
    if questions:
        blocks.append(Text(text=ctx.t("pulse.results.questions") + "\n" + "\n".join(questions)))
    if results.groups or results.hidden_groups:
        group_lines = []
        for group in results.groups:
            parts = [_question_summary(ctx, q, labels.get(q.question_id, "")) for q in group.questions]
            response = ""
            if group.invited:
                response = " · " + ctx.t(
                    "pulse.results.group_response", responded=group.responded, invited=group.invited
                )
            group_lines.append(f"- **{group.name}**: " + " · ".join(parts) + response)
        text = ctx.t("pulse.results.groups") + ("\n" + "\n".join(group_lines) if group_lines else "")
        if results.hidden_groups:
            text += "\n" + ctx.t(
                "pulse.results.groups_hidden", count=results.hidden_groups, threshold=results.threshold
            )
        blocks.append(Text(text=text))
    blocks.append(Text(text=_comments_text(ctx, results)))
    if len(trend) > 1:
        steps = " → ".join(
            f"{point.name} {signed(point.enps) if point.enps is not None else '—'}" for point in trend[-6:]
        )
        blocks.append(Text(text=ctx.t("pulse.results.trend", steps=steps)))
    blocks.append(
        Footer(
            text=ctx.t(
                "pulse.results.footer",
                threshold=results.threshold,
                comment_threshold=results.comment_threshold,
            )
        )
    )
    return Message(blocks=tuple(blocks), key="pulse.results.title")


def _question_summary(ctx: Context, result: QuestionResult, label: str) -> str:
    if result.kind == "enps" and result.enps is not None:
        return ctx.t("pulse.results.group_enps", enps=signed(result.enps), n=result.respondents)
    return ctx.t(
        "pulse.results.group_mean",
        id=label,
        mean=decimal(ctx.locale, result.mean or 0),
        n=result.respondents,
    )


def _comments_text(ctx: Context, results: RoundResults) -> str:
    if not results.comments:
        return ctx.t("pulse.results.comments_hidden", comment_threshold=results.comment_threshold)
    lines = [ctx.t("pulse.results.comments", count=len(results.comments))]
    if results.themes:
        key = "pulse.results.themes_llm" if results.themes_source == "llm" else "pulse.results.themes_terms"
        lines.append(ctx.t(key))
        for theme in results.themes:
            summary = f" — {theme['summary']}" if theme.get("summary") else ""
            lines.append(f"- **{theme['label']}** ({theme['count']}){summary}")
    else:
        lines.append(ctx.t("pulse.results.no_themes"))
    shown = results.comments[:MAX_COMMENTS]
    lines += [f"> {comment}" for comment in shown]
    if len(results.comments) > len(shown):
        lines.append(ctx.t("pulse.results.more_comments", count=len(results.comments) - len(shown)))
    return "\n".join(lines)
