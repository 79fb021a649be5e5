"""The pulse feature's one router; the modules of this package register their routes on it."""

from bot.router import Router

router = Router()
