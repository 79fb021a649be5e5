"""The campaigns feature's one router (its modules register commands, forms and schedule kinds on it)."""

from bot.router import Router

router = Router()
