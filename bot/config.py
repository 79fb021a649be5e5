"""All settings, read once from the environment (and `.env`) and validated at start.

Nothing else in Klantpet reads environment variables: the composition root hands a `Settings`
to whatever needs it. Every field is mirrored, with its documentation, in `.env.example`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from cryptography.fernet import Fernet
from pydantic import (
    AliasChoices,
    Field,
    ModelWrapValidatorHandler,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Locale = Literal["nl", "en"]
PLATFORMS = ("web", "slack", "teams", "telegram")


class Settings(BaseSettings):
    """Klantpet's settings. Own settings carry the `KLANTPET_` prefix; platform credentials keep their usual names."""

    model_config = SettingsConfigDict(
        env_prefix="KLANTPET_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
        populate_by_name=True,
    )

    # --- Storage and runtime -------------------------------------------------------------------
    data_dir: Path = Field(Path("data"), description="Folder for the embedded database and generated keys.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy async URL; default: SQLite in the data folder. "
        "PostgreSQL: postgresql+asyncpg://user:pass@host/db",
    )
    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web server listens on.")
    public_url: str | None = Field(
        None, description="Public https URL of this bot (webhooks, manifests, links)."
    )
    organisation: str = Field("Demo BV", min_length=1, description="Organisation name used in messages.")
    default_locale: Locale = Field("nl", description="Language for members without one: nl or en.")
    default_timezone: str = Field("Europe/Amsterdam", description="IANA time zone for members without one.")
    public_holidays: str = Field(
        "NL",
        description="Public holidays campaigns skip unless they say otherwise: a country code the holidays "
        "package knows, a region after a dash (DE-BY), or none.",
    )
    demo: bool | None = Field(
        None, description="Seed a demo organisation. Default: on when no real platform is configured."
    )
    web_chat: bool | None = Field(
        None, description="Serve the built-in web chat. Default: on when no real platform is configured."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    log_format: Literal["json", "text"] = Field("json", description="json (structured) or text logs.")
    background: bool = Field(
        True, description="Run the scheduler and outbox dispatcher in this process (off only in tests)."
    )

    # --- Anonymity -----------------------------------------------------------------------------
    anonymity_threshold: int = Field(
        5, ge=3, description="Minimum respondents before any group's results are shown (never below 3)."
    )
    comment_threshold: int = Field(
        10, ge=10, description="Minimum respondents before comments are shown (never below 10)."
    )

    # --- Leadership snippets and the CX relay ---------------------------------------------------
    snippet_approval: bool = Field(
        False, description="A CX manager approves each leader snippet before it is posted."
    )
    snippet_channels: Annotated[tuple[str, ...], NoDecode] = Field(
        ("algemeen",), description="Comma-separated channel names that leader snippets are posted in."
    )
    relay_stall_days: int = Field(
        21, ge=1, le=365, description="Days a relay baton may rest before the CX managers hear of it."
    )

    # --- Scheduler and outbox ------------------------------------------------------------------
    scheduler_grace_hours: float = Field(6.0, gt=0, description="Catch up missed fire times this recent.")
    scheduler_resync_seconds: float = Field(
        30.0, gt=0, description="How often each instance re-reads schedules changed elsewhere."
    )
    outbox_batch_size: int = Field(200, ge=1, le=5000, description="Deliveries claimed per round.")
    outbox_concurrency: int = Field(64, ge=1, le=1000, description="Sends in flight at once per process.")
    outbox_max_attempts: int = Field(8, ge=1, le=50, description="Attempts before a delivery is given up.")
    outbox_lease_seconds: float = Field(
        60.0, gt=0, description="A claimed delivery not sent in this time is claimed again by anyone."
    )

    # --- Retention (days; enforced by a daily job) -----------------------------------------------
    retention_processed_events_days: int = Field(7, ge=1, description="Processed inbound event ids.")
    retention_sent_deliveries_days: int = Field(90, ge=1, description="Sent or given-up outbound messages.")
    retention_web_messages_days: int = Field(365, ge=1, description="Web chat messages.")
    retention_participation_days: int = Field(180, ge=1, description="Who answered which pulse round.")
    retention_closed_feedback_days: int = Field(730, ge=1, description="Feedback closed (done / won't do).")
    retention_raw_comments_days: int = Field(365, ge=1, description="Raw open-question pulse comments.")
    retention_audit_days: int = Field(730, ge=1, description="Audit log entries.")
    retention_relay_queue_days: int = Field(
        7, ge=1, description="Feedback relay queue rows not worked (normally gone within minutes)."
    )
    retention_telegram_invites_days: int = Field(
        30, ge=1, description="Telegram invitations, counted from their use or expiry."
    )

    # --- Klantpet ritual and the silo-conflict register ----------------------------------------
    silo_escalation_weeks: int = Field(
        4, ge=1, le=52, description="Escalate a silo conflict to the CX managers after this many weeks open."
    )
    silo_digest_channel: str | None = Field(
        "cx-team", description="Channel name for the weekly cross-silo digest (empty: no digest)."
    )
    silo_mt_channel: str | None = Field(
        None, description="Channel name of the management team; escalations are posted there too."
    )

    # --- LLM (optional) ------------------------------------------------------------------------
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "KLANTPET_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_BASE_URL", "KLANTPET_OPENAI_BASE_URL")
    )
    llm_model: str = Field("gpt-4o-mini", description="Model name at the OpenAI-compatible endpoint.")
    llm_timeout_seconds: float = Field(
        20.0,
        gt=0,
        description="Seconds one LLM request may take. On PostgreSQL a failed request is retried once (a "
        "call may take twice this); on SQLite it is not, as the database waits meanwhile (keep it below 30).",
    )

    # --- Slack ---------------------------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_APP_TOKEN"))
    slack_api_url: str | None = Field(
        None, description="Override the Slack Web API base URL (proxies, tests)."
    )
    slack_command: str = Field(
        "/klantpet", pattern=r"^/[a-z0-9_-]{1,31}$", description="The slash command registered for the app."
    )
    slack_workspace_rate: float = Field(
        5.0, gt=0, le=100, description="Messages per second Klantpet posts to the whole workspace at most."
    )
    slack_department_field: str | None = Field(
        None, description="Id of the Slack custom profile field holding the department (e.g. Xf0123ABCD)."
    )

    # --- Telegram ------------------------------------------------------------------------------
    telegram_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN"))
    telegram_webhook_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("TELEGRAM_WEBHOOK_SECRET")
    )
    telegram_mode: Literal["webhook", "polling"] = Field("webhook", description="webhook or polling.")
    telegram_api_url: str | None = Field(
        None, description="Override the Bot API base URL (local server, tests)."
    )

    # --- Microsoft Teams (Agents SDK names) ----------------------------------------------------
    teams_client_id: str | None = Field(
        None, validation_alias=AliasChoices("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID")
    )
    teams_client_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET")
    )
    teams_tenant_id: str | None = Field(
        None, validation_alias=AliasChoices("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID")
    )
    teams_authority: str | None = Field(
        None,
        validation_alias=AliasChoices("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__AUTHORITY"),
        description="Entra authority for the bot's own tokens; default https://login.microsoftonline.com/<tenant>.",
    )
    teams_service_url: str = Field(
        "https://smba.trafficmanager.net/teams/",
        description="Bot Connector URL for direct messages to members the bot has not talked to yet.",
    )
    teams_allow_anonymous: bool = Field(
        False,
        description="LOCAL DEVELOPMENT ONLY: accept Teams requests without a token (Agents Playground, "
        "Bot Framework Emulator). A token that is sent is still validated. Never on by default.",
    )

    # --- Dashboard sign-in with OpenID Connect (optional) ---------------------------------------
    oidc_provider: Literal["slack", "entra"] | None = Field(
        None,
        description="Sign in to the dashboard with slack (Sign in with Slack) or entra (Microsoft Entra ID).",
    )
    oidc_client_id: str | None = Field(None, description="Client id of the OpenID Connect app.")
    oidc_client_secret: SecretStr | None = Field(None, description="Client secret of the OpenID Connect app.")
    oidc_tenant: str | None = Field(
        None,
        description="Entra: the directory (tenant) id, required. Slack: the workspace (team) id, recommended; "
        "people of other workspaces are then refused.",
    )
    oidc_metadata_url: str | None = Field(
        None, description="Override the provider's discovery URL (sovereign clouds, tests)."
    )

    # --- Secrets -------------------------------------------------------------------------------
    secret_key: SecretStr | None = Field(
        None, description="Signs sessions and links. Default: generated once in the data folder."
    )
    relay_key: SecretStr | None = Field(
        None,
        description="Encrypts anonymous relay mappings (Fernet key). Default: generated in the data folder.",
    )

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Europe/Amsterdam)"
            ) from None
        return value

    @field_validator("public_holidays")
    @classmethod
    def _known_holidays(cls, value: str) -> str:
        country, _, region = value.strip().upper().partition("-")
        if country in ("", "NONE"):
            return "none"
        try:
            holidays.country_holidays(country, subdiv=region or None, years=2026)
        except NotImplementedError:
            raise ValueError(f"no public holidays known for {value!r} (e.g. NL, BE, DE-BY or none)") from None
        return f"{country}-{region}" if region else country

    @field_validator("snippet_channels", mode="before")
    @classmethod
    def _channel_names(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            names = tuple(str(name).strip().lstrip("#") for name in value if str(name).strip().lstrip("#"))
            if not names:
                raise ValueError("name at least one channel, e.g. algemeen")
            return names
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError(
                "use at least 32 random characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite://"):
            return "sqlite+aiosqlite://" + value.split("://", 1)[1]
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("use a postgresql+asyncpg:// or sqlite+aiosqlite:// URL")
        return value

    @field_validator("public_url", "teams_service_url", "oidc_metadata_url", "slack_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for local testing)")
        return value.rstrip("/")

    @field_validator("relay_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                Fernet(value.get_secret_value().encode())
            except ValueError:
                raise ValueError(
                    "not a Fernet key (make one with python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())')"
                ) from None
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem_at_once(cls, data: Any, handler: ModelWrapValidatorHandler[Settings]) -> Settings:
        """Field errors do not hide the checks across fields: both are reported, one line each."""
        try:
            return handler(data)
        except ValidationError as error:
            if not isinstance(data, dict):
                raise
            problems = error.errors()
            failed = {str(problem["loc"][0]) for problem in problems if problem["loc"]}
            try:  # the same settings with the failing ones left at their defaults
                rest = handler({key: value for key, value in data.items() if key not in _keys_of(failed)})
            except ValidationError:
                raise error from None
            details = [_detail(problem) for problem in problems]
            details += [_incomplete(name, message) for name, message in rest.platform_problems()]
            raise ValidationError.from_exception_data(cls.__name__, details) from None

    @model_validator(mode="after")
    def _complete_platforms(self) -> Settings:
        problems = self.platform_problems()
        if problems:
            details = [_incomplete(name, message) for name, message in problems]
            raise ValidationError.from_exception_data(type(self).__name__, details)
        return self

    def platform_problems(self) -> list[tuple[str, str]]:
        """Every platform (or sign-in) configured only in part, as (setting, what it needs)."""
        problems: list[tuple[str, str]] = []
        if self.slack_bot_token and not (self.slack_signing_secret or self.slack_app_token):
            problems.append(
                (
                    "SLACK_BOT_TOKEN",
                    "needs SLACK_SIGNING_SECRET (Events API) or SLACK_APP_TOKEN (Socket Mode)",
                )
            )
        if self.telegram_bot_token and self.telegram_mode == "webhook" and not self.telegram_webhook_secret:
            problems.append(("TELEGRAM_BOT_TOKEN", "in webhook mode needs TELEGRAM_WEBHOOK_SECRET"))
        teams = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
        if self.teams_client_id and not self.teams_tenant_id:
            problems.append((f"{teams}CLIENTID", f"needs {teams}TENANTID"))
        if self.teams_client_id and not self.teams_client_secret:
            problems.append((f"{teams}CLIENTID", f"needs {teams}CLIENTSECRET"))
        if self.oidc_provider and not (self.oidc_client_id and self.oidc_client_secret):
            problems.append(
                ("KLANTPET_OIDC_PROVIDER", "needs KLANTPET_OIDC_CLIENT_ID and KLANTPET_OIDC_CLIENT_SECRET")
            )
        if self.oidc_provider == "entra" and (
            not self.oidc_tenant or self.oidc_tenant.lower() in ("common", "organizations", "consumers")
        ):
            problems.append(
                ("KLANTPET_OIDC_PROVIDER", "entra needs KLANTPET_OIDC_TENANT: your directory (tenant) id")
            )
        return problems

    # --- Derived -------------------------------------------------------------------------------
    @property
    def real_platforms(self) -> list[str]:
        """The external platforms that have credentials."""
        found = []
        if self.slack_bot_token:
            found.append("slack")
        if self.teams_client_id or self.teams_allow_anonymous:
            found.append("teams")
        if self.telegram_bot_token:
            found.append("telegram")
        return found

    @property
    def demo_mode(self) -> bool:
        """Demo (anyone may pick who they are): only on a local machine with no real platform, unless set."""
        if self.demo is not None:
            return self.demo
        local = self.host in ("127.0.0.1", "localhost", "::1") and self.public_url is None
        return local and not self.real_platforms

    @property
    def web_chat_enabled(self) -> bool:
        return self.web_chat if self.web_chat is not None else not self.real_platforms

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'klantpet.db'}"

    @property
    def oidc_discovery_url(self) -> str | None:
        """Where the OpenID Connect provider describes itself (None: OIDC sign-in is off)."""
        if self.oidc_provider is None:
            return None
        if self.oidc_metadata_url:
            return self.oidc_metadata_url
        if self.oidc_provider == "slack":
            return "https://slack.com/.well-known/openid-configuration"
        return f"https://login.microsoftonline.com/{self.oidc_tenant}/v2.0/.well-known/openid-configuration"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def describe_errors(error: ValidationError) -> list[str]:
    """One clear line per invalid setting, naming the environment variable."""
    lines = []
    for problem in error.errors():
        name = env_name(str(problem["loc"][0])) if problem["loc"] else "settings"
        message = str(problem["msg"]).removeprefix("Value error, ")
        lines.append(f"{name}: {message}")
    return lines


def env_name(location: str) -> str:
    """The environment variable behind a field (or the name itself when it already is one)."""
    field = Settings.model_fields.get(location)
    if field is None:
        return location.upper()
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0]).upper()
    return f"KLANTPET_{location.upper()}"


def _keys_of(fields: set[str]) -> set[str]:
    """The input keys a field may arrive under: its name and its environment aliases."""
    keys = set(fields)
    for name in fields:
        field = Settings.model_fields.get(name)
        alias = field.validation_alias if field is not None else None
        if isinstance(alias, AliasChoices):
            keys.update(str(choice) for choice in alias.choices)
        elif isinstance(alias, str):
            keys.add(alias)
    return keys


def _detail(problem: ErrorDetails) -> InitErrorDetails:
    """A reported problem, carried over unchanged into a combined error."""
    return InitErrorDetails(
        type=PydanticCustomError(problem["type"], str(problem["msg"])),
        loc=problem["loc"],
        input=problem["input"],
    )


def _incomplete(setting: str, message: str) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError("incomplete_platform", message),
        loc=(setting,),
        input=None,
    )
