"""How the dashboard shows numbers, times, light Markdown and heat: Jinja filters and the palettes.

Colours are colour-blind safe: Okabe–Ito for categories (charts, the eNPS split) and a single-hue blue
sequence for the silo heatmap, whose cells always carry their number too.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment
from markupsafe import Markup

from bot import markup

OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
HEAT = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594")
"""ColorBrewer Blues: sequential, colour-blind and greyscale safe; 0 is the first step."""

_DAY = {"nl": "%d-%m-%Y", "en": "%d %b %Y"}


def local(moment: datetime | None, zone: str, locale: str, *, with_time: bool = True) -> str:
    """A moment on the viewer's wall clock: ``23-11-2026 09:00`` / ``23 Nov 2026 09:00``."""
    if moment is None:
        return "—"
    shown = moment.astimezone(ZoneInfo(zone))
    pattern = _DAY.get(locale, _DAY["en"]) + (" %H:%M" if with_time else "")
    return shown.strftime(pattern)


def day(value: date | None, locale: str) -> str:
    return value.strftime(_DAY.get(locale, _DAY["en"])) if value else "—"


def number(value: float | int | None, locale: str, digits: int = 0) -> str:
    """A number in the viewer's notation (decimal comma in Dutch); ``—`` for none."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    if locale == "nl":
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return text


def signed(value: int | float | None, locale: str = "en", digits: int = 0) -> str:
    if value is None:
        return "—"
    text = number(value, locale, digits)
    return f"+{text}" if value > 0 else text


def heat(count: int, highest: int) -> dict[str, str]:
    """Background and text colour of a heatmap cell (dark cells get white text, contrast ≥ 4.5)."""
    if count <= 0 or highest <= 0:
        return {"background": HEAT[0], "color": "#1f2430"}
    step = 1 + round((count / highest) * (len(HEAT) - 2))
    return {"background": HEAT[step], "color": "#ffffff" if step >= 5 else "#1f2430"}


def light_markdown(text: str | None) -> Markup:
    """The chat's light Markdown as safe HTML (the text is escaped first)."""
    return Markup(markup.to_html(text or ""))  # noqa: S704  (to_html escapes before adding tags)


def install(environment: Environment) -> None:
    environment.filters["md"] = light_markdown
    environment.filters["signed"] = signed
    environment.globals["heat"] = heat
    environment.globals["okabe_ito"] = OKABE_ITO


def helpers(locale: str, zone: str) -> dict[str, Any]:
    """Per-request helpers bound to the viewer's language and time zone."""
    return {
        "when": lambda moment, with_time=True: local(moment, zone, locale, with_time=with_time),
        "day": lambda value: day(value, locale),
        "num": lambda value, digits=0: number(value, locale, digits),
        "signed": lambda value, digits=0: signed(value, locale, digits),
        "zone": zone,
    }
