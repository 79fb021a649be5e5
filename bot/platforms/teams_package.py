"""The Teams app package: ``manifest.json``, a strings file per further language, and the two icons, zipped,
ready to upload ("sideload").

The manifest (schema 1.17) declares the bot (personal, team and group chat scopes; the shared commands as
suggestions), the domain of our public URL, and the resource-specific permissions (RSC) a Teams admin
expects: ``ChannelMessage.Read.Group`` and ``ChatMessage.Read.Chat``, so that replies in a thread of the
bot's own posts reach it without an @mention (the bot reads only what is addressed to it and ignores the
rest), and ``OnlineMeeting.ReadBasic.Chat`` / ``ChannelMeeting.ReadBasic.Group``, without which Teams sends
no meeting start/end events. Names, descriptions and command suggestions come from ``prompts/<locale>``:
the organisation's default language in the manifest, the other languages in ``<locale>.json``
(``localizationInfo``), so Dutch colleagues see ``hulp``, ``taal`` and ``ik``.
The icons are drawn here — a customer's cap — by a tiny PNG writer, so no image files or libraries are needed.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from bot import markup
from bot.i18n import LOCALES, Catalog

MANIFEST_VERSION = "1.17"
SCHEMAS = "https://developer.microsoft.com/json-schemas/teams/v" + MANIFEST_VERSION
ACCENT = (0x1F, 0x6F, 0x5C)  # the klantpet green
Pixel = tuple[int, int, int, int]
COMMANDS = ("help", "language", "me")  # the shared commands Teams suggests (every employee may use them)
RESOURCE_SPECIFIC_PERMISSIONS = (
    "ChannelMessage.Read.Group",
    "ChatMessage.Read.Chat",
    "OnlineMeeting.ReadBasic.Chat",
    "ChannelMeeting.ReadBasic.Group",
)
_COMMAND_WORD = re.compile(r"[a-z][a-z0-9-]{0,31}")


def strings(catalog: Catalog, locale: str, name: str) -> dict[str, str]:
    """The manifest's words in ``locale``, under the keys of Teams' localization file."""
    found = {
        "name.short": name[:30],
        "name.full": catalog.t(locale, "teams.app.name_full", name=name)[:100],
        "description.short": catalog.t(locale, "teams.app.description_short")[:80],
        "description.full": catalog.t(locale, "teams.app.description_full", name=name)[:4000],
    }
    for index, command in enumerate(COMMANDS):
        aliases = catalog.choices(locale, f"commands.aliases.{command}") if locale != "en" else []
        title = next((alias for alias in aliases if _COMMAND_WORD.fullmatch(alias)), command)
        text = markup.to_plain(catalog.t(locale, f"help.commands.{command}")).replace("`", "")
        found[f"bots[0].commandLists[0].commands[{index}].title"] = title[:32]
        found[f"bots[0].commandLists[0].commands[{index}].description"] = text[:128]
    return found


def manifest(
    *,
    app_id: str,
    public_url: str,
    organisation: str,
    catalog: Catalog,
    version: str = "1.0.0",
    name: str = "Klantpet",
) -> dict[str, Any]:
    """The manifest for the bot ``app_id`` reachable at ``public_url`` (https), in the catalog's default
    language; `localizations` gives the files for the other languages."""
    if not public_url.startswith("https://"):
        raise ValueError("Teams needs the bot's public URL over https (KLANTPET_PUBLIC_URL)")
    base = public_url.rstrip("/")
    host = urlparse(base).hostname or ""
    scopes = ["personal", "team", "groupChat"]
    words = strings(catalog, catalog.default_locale, name)
    commands = [
        {
            "title": words[f"bots[0].commandLists[0].commands[{index}].title"],
            "description": words[f"bots[0].commandLists[0].commands[{index}].description"],
        }
        for index in range(len(COMMANDS))
    ]
    return {
        "$schema": f"{SCHEMAS}/MicrosoftTeams.schema.json",
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "localizationInfo": {
            "defaultLanguageTag": catalog.default_locale,
            "additionalLanguages": [
                {"languageTag": locale, "file": f"{locale}.json"}
                for locale in LOCALES
                if locale != catalog.default_locale
            ],
        },
        "developer": {
            "name": organisation[:32],
            "websiteUrl": base,
            "privacyUrl": base,
            "termsOfUseUrl": base,
        },
        "name": {"short": words["name.short"], "full": words["name.full"]},
        "description": {"short": words["description.short"], "full": words["description.full"]},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": scopes,
                "isNotificationOnly": False,
                "supportsFiles": False,
                "commandLists": [{"scopes": scopes, "commands": commands}],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host],
        "webApplicationInfo": {"id": app_id, "resource": "https://RscBasedStoreApp"},
        "authorization": {
            "permissions": {
                "resourceSpecific": [
                    {"name": permission, "type": "Application"}
                    for permission in RESOURCE_SPECIFIC_PERMISSIONS
                ]
            }
        },
    }


def localizations(catalog: Catalog, name: str = "Klantpet") -> dict[str, dict[str, str]]:
    """``<locale>.json`` → its contents, for every language but the manifest's own."""
    return {
        f"{locale}.json": {
            "$schema": f"{SCHEMAS}/MicrosoftTeams.Localization.schema.json",
            **strings(catalog, locale, name),
        }
        for locale in LOCALES
        if locale != catalog.default_locale
    }


def package(**kwargs: Any) -> bytes:
    """The zip Teams accepts: ``manifest.json``, ``<locale>.json``, ``color.png`` (192×192), ``outline.png``
    (32×32)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest(**kwargs), indent=2, ensure_ascii=False))
        for file_name, content in localizations(kwargs["catalog"], kwargs.get("name", "Klantpet")).items():
            archive.writestr(file_name, json.dumps(content, indent=2, ensure_ascii=False))
        archive.writestr("color.png", color_icon())
        archive.writestr("outline.png", outline_icon())
    return buffer.getvalue()


def color_icon(size: int = 192) -> bytes:
    """The cap in white on the accent colour, full bleed (as Teams asks for colour icons)."""
    white: Pixel = (255, 255, 255, 255)
    background: Pixel = (*ACCENT, 255)
    return png(size, size, lambda x, y: white if _in_cap(x / size, y / size) else background)


def outline_icon(size: int = 32) -> bytes:
    """The cap in white on transparency (Teams' outline icon)."""
    white: Pixel = (255, 255, 255, 255)
    clear: Pixel = (255, 255, 255, 0)
    return png(size, size, lambda x, y: white if _in_cap((x + 0.5) / size, (y + 0.5) / size) else clear)


def _in_cap(x: float, y: float) -> bool:
    """A baseball cap seen from the side, in a unit square: a dome and a brim."""
    dome = (x - 0.40) ** 2 / 0.28**2 + (y - 0.66) ** 2 / 0.36**2 <= 1.0 and y <= 0.66
    brim = 0.40 <= x <= 0.90 - (y - 0.58) * 1.5 and 0.58 <= y <= 0.70
    button = (x - 0.40) ** 2 + (y - 0.29) ** 2 <= 0.035**2
    return dome or brim or button


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An 8-bit RGBA PNG of ``pixel(x, y)``."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )
