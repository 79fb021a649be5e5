"""The Slack app manifest for this installation: paste it at api.slack.com/apps → Create New App → From a manifest."""

from __future__ import annotations

from typing import Any

from bot.config import Settings

BOT_SCOPES = (
    "app_mentions:read",  # @Klantpet in a channel
    "channels:history",  # thread replies under the bot's posts in public channels
    "channels:read",  # channel names (stories are scheduled to #name)
    "chat:write",  # post, update, ephemeral answers
    "chat:write.public",  # post in public channels the bot was not invited to
    "commands",  # the slash command
    "groups:history",  # thread replies in private channels the bot is in
    "groups:read",
    "im:history",  # direct messages to the bot
    "im:read",
    "im:write",  # direct messages from the bot
    "mpim:history",
    "mpim:read",
    "reactions:read",  # reactions to the bot's posts
    "users:read",  # members: names, time zones, deactivation
    "users:read.email",  # link a Slack user to an existing member by e-mail address
    "users.profile:read",  # the department profile field
)
BOT_EVENTS = (
    "app_home_opened",
    "app_mention",
    "message.channels",
    "message.groups",
    "message.im",
    "message.mpim",
    "reaction_added",
    "reaction_removed",
    "team_join",
    "user_change",
)


def manifest(
    settings: Settings, *, socket_mode: bool | None = None, name: str = "Klantpet"
) -> dict[str, Any]:
    """A manifest with every scope, event and feature Klantpet uses; URLs from ``KLANTPET_PUBLIC_URL``.

    ``socket_mode`` (default: when ``SLACK_APP_TOKEN`` is set) leaves the request URLs out.
    """
    if socket_mode is None:
        socket_mode = settings.slack_app_token is not None
    url = f"{settings.base_url}/slack/events"
    command: dict[str, Any] = {
        "command": settings.slack_command,
        "description": "Klantpet: help, language, stories, pulses, feedback…",
        "usage_hint": "help",
        "should_escape": False,
    }
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket_mode:
        command["url"] = url
        events["request_url"] = url
        interactivity["request_url"] = url
        interactivity["message_menu_options_url"] = url  # long choices search as people type
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": f"Customer stories, the klantpet ritual, pulses and closing the loop at {settings.organisation}.",
            "background_color": "#1d4e89",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name.lower(), "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
