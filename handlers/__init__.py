"""The product's behaviour: one module per feature, each with its own `router`."""

from __future__ import annotations

import importlib
import pkgutil

from bot.router import Router


def all_routes() -> Router:
    """Every feature module's routes, merged (a route registered twice is an error)."""
    merged = Router()
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        routes = getattr(module, "router", None)
        if isinstance(routes, Router):
            merged.include(routes)
    return merged
