"""The CX dashboard at /admin: server-rendered (Jinja2 + htmx), Dutch and English, works offline."""

from bot.dashboard.routes import mount

__all__ = ["mount"]
