"""Configuration: environment variables and command-line flags, as one typed object."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from .limits import Limits

Backend = Literal["direct", "maton", "skillboss", "sandbox"]
Transport = Literal["stdio", "sse", "http"]

DEFAULT_CLICKSEND_URL = "https://rest.clicksend.com/v3"
DEFAULT_MATON_URL = "https://gateway.maton.ai/clicksend/v3"
DEFAULT_MATON_CTRL_URL = "https://ctrl.maton.ai"
DEFAULT_SKILLBOSS_URL = "https://api.skillboss.com/v1"
SANDBOX_URL = "http://sandbox.clicksend.invalid/v3"


class ConfigError(ValueError):
    """The configuration cannot work; the message says which variables or flags to set. Never holds a secret."""


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def env_name(field: str) -> str:
    """The environment variable of a settings field (the last of its aliases), e.g. "port" -> CLICKSEND_MCP_PORT."""
    alias = Settings.model_fields[field].validation_alias
    assert isinstance(alias, AliasChoices)
    name = alias.choices[-1]
    assert isinstance(name, str)
    return name


class Settings(BaseSettings):
    """Every setting has an environment variable; the command line overrides it (see cli.py)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    backend: Backend | None = Field(default=None, validation_alias=_env("backend", "CLICKSEND_BACKEND"))
    clicksend_username: str | None = Field(
        default=None, validation_alias=_env("clicksend_username", "CLICKSEND_USERNAME")
    )
    clicksend_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("clicksend_api_key", "CLICKSEND_API_KEY")
    )
    clicksend_base_url: str = Field(
        default=DEFAULT_CLICKSEND_URL, validation_alias=_env("clicksend_base_url", "CLICKSEND_BASE_URL")
    )
    maton_api_key: SecretStr | None = Field(default=None, validation_alias=_env("maton_api_key", "MATON_API_KEY"))
    maton_connection: str | None = Field(default=None, validation_alias=_env("maton_connection", "MATON_CONNECTION"))
    maton_base_url: str = Field(default=DEFAULT_MATON_URL, validation_alias=_env("maton_base_url", "MATON_BASE_URL"))
    maton_ctrl_base_url: str = Field(
        default=DEFAULT_MATON_CTRL_URL, validation_alias=_env("maton_ctrl_base_url", "MATON_CTRL_BASE_URL")
    )
    # Adds an optional `maton_connection` argument to every ClickSend tool in maton mode (one call, one account).
    maton_connection_arg: bool = Field(
        default=False, validation_alias=_env("maton_connection_arg", "CLICKSEND_MATON_CONNECTION_ARG")
    )
    skillboss_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("skillboss_api_key", "SKILLBOSS_API_KEY")
    )
    skillboss_base_url: str = Field(
        default=DEFAULT_SKILLBOSS_URL, validation_alias=_env("skillboss_base_url", "SKILLBOSS_BASE_URL")
    )
    timeout: float = Field(default=30.0, gt=0, le=600, validation_alias=_env("timeout", "CLICKSEND_TIMEOUT"))
    retries: int = Field(default=2, ge=0, le=10, validation_alias=_env("retries", "CLICKSEND_RETRIES"))
    retry_max_wait: float = Field(
        default=10.0, ge=0, le=300, validation_alias=_env("retry_max_wait", "CLICKSEND_RETRY_MAX_WAIT")
    )
    max_argument_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        validation_alias=_env("max_argument_bytes", "CLICKSEND_MAX_ARGUMENT_BYTES"),
    )
    transport: Transport = Field(default="stdio", validation_alias=_env("transport", "CLICKSEND_MCP_TRANSPORT"))
    host: str = Field(default="127.0.0.1", validation_alias=_env("host", "CLICKSEND_MCP_HOST"))
    port: int = Field(default=8000, ge=0, le=65535, validation_alias=_env("port", "CLICKSEND_MCP_PORT"))
    auth_token: SecretStr | None = Field(default=None, validation_alias=_env("auth_token", "CLICKSEND_MCP_AUTH_TOKEN"))
    allowed_hosts: str | None = Field(
        default=None, validation_alias=_env("allowed_hosts", "CLICKSEND_MCP_ALLOWED_HOSTS")
    )
    allowed_origins: str | None = Field(
        default=None, validation_alias=_env("allowed_origins", "CLICKSEND_MCP_ALLOWED_ORIGINS")
    )
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        validation_alias=_env("max_body_bytes", "CLICKSEND_MCP_MAX_BODY_BYTES"),
    )
    header_timeout: float = Field(
        default=10.0, gt=0, le=600, validation_alias=_env("header_timeout", "CLICKSEND_MCP_HEADER_TIMEOUT")
    )
    max_connections: int = Field(
        default=1000, ge=1, le=1_000_000, validation_alias=_env("max_connections", "CLICKSEND_MCP_MAX_CONNECTIONS")
    )
    session_idle_timeout: float = Field(
        default=300.0,
        gt=0,
        le=86_400,
        validation_alias=_env("session_idle_timeout", "CLICKSEND_MCP_SESSION_IDLE_TIMEOUT"),
    )
    max_sessions: int = Field(
        default=1000, ge=1, le=100_000, validation_alias=_env("max_sessions", "CLICKSEND_MCP_MAX_SESSIONS")
    )
    max_sessions_per_client: int = Field(
        default=100,
        ge=1,
        le=100_000,
        validation_alias=_env("max_sessions_per_client", "CLICKSEND_MCP_MAX_SESSIONS_PER_CLIENT"),
    )
    shutdown_grace: float = Field(
        default=30.0, ge=0, le=600, validation_alias=_env("shutdown_grace", "CLICKSEND_MCP_SHUTDOWN_GRACE")
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", validation_alias=_env("log_level", "CLICKSEND_MCP_LOG_LEVEL")
    )
    log_format: Literal["text", "json"] = Field(
        default="text", validation_alias=_env("log_format", "CLICKSEND_MCP_LOG_FORMAT")
    )
    specs_dir: str | None = Field(default=None, validation_alias=_env("specs_dir", "CLICKSEND_SPECS_DIR"))
    # The sandbox's state in a JSON file, kept between runs (unset: in memory, gone when the process ends).
    sandbox_state: str | None = Field(default=None, validation_alias=_env("sandbox_state", "CLICKSEND_SANDBOX_STATE"))
    # What the agent sees.
    toolsets: str | None = Field(default=None, validation_alias=_env("toolsets", "CLICKSEND_TOOLSETS"))
    tools: str | None = Field(default=None, validation_alias=_env("tools", "CLICKSEND_TOOLS"))
    exclude_tools: str | None = Field(default=None, validation_alias=_env("exclude_tools", "CLICKSEND_EXCLUDE_TOOLS"))
    read_only: bool = Field(default=False, validation_alias=_env("read_only", "CLICKSEND_READ_ONLY"))
    discovery: bool = Field(default=False, validation_alias=_env("discovery", "CLICKSEND_DISCOVERY"))
    # Guardrails on anything that sends.
    max_recipients: int = Field(
        default=100, ge=1, le=100_000, validation_alias=_env("max_recipients", "CLICKSEND_MAX_RECIPIENTS")
    )
    allowed_countries: str | None = Field(
        default=None, validation_alias=_env("allowed_countries", "CLICKSEND_ALLOWED_COUNTRIES")
    )
    test_numbers_only: bool = Field(
        default=False, validation_alias=_env("test_numbers_only", "CLICKSEND_TEST_NUMBERS_ONLY")
    )
    confirm_sends: bool = Field(default=False, validation_alias=_env("confirm_sends", "CLICKSEND_CONFIRM_SENDS"))
    max_result_bytes: int = Field(
        default=200_000,
        ge=4_096,
        le=50_000_000,
        validation_alias=_env("max_result_bytes", "CLICKSEND_MAX_RESULT_BYTES"),
    )

    # The send ledger and the limits it enforces.
    database_url: SecretStr | None = Field(
        default=None, validation_alias=_env("database_url", "CLICKSEND_MCP_DATABASE_URL")
    )
    ledger_key: SecretStr | None = Field(default=None, validation_alias=_env("ledger_key", "CLICKSEND_MCP_LEDGER_KEY"))
    ledger_pending_timeout: float = Field(
        default=300.0,
        ge=0,
        le=7 * 86_400,
        validation_alias=_env("ledger_pending_timeout", "CLICKSEND_MCP_LEDGER_PENDING_TIMEOUT"),
    )
    max_spend_per_day: str | None = Field(
        default=None, validation_alias=_env("max_spend_per_day", "CLICKSEND_MAX_SPEND_PER_DAY")
    )
    max_spend_per_month: str | None = Field(
        default=None, validation_alias=_env("max_spend_per_month", "CLICKSEND_MAX_SPEND_PER_MONTH")
    )
    max_messages_per_recipient: str | None = Field(
        default=None, validation_alias=_env("max_messages_per_recipient", "CLICKSEND_MAX_MESSAGES_PER_RECIPIENT")
    )
    quiet_hours: str | None = Field(default=None, validation_alias=_env("quiet_hours", "CLICKSEND_QUIET_HOURS"))

    # Replies and delivery receipts (conversations.py): webhooks on the HTTP transports, else polling.
    public_url: str | None = Field(default=None, validation_alias=_env("public_url", "CLICKSEND_MCP_PUBLIC_URL"))
    webhook_secret: SecretStr | None = Field(
        default=None, validation_alias=_env("webhook_secret", "CLICKSEND_MCP_WEBHOOK_SECRET")
    )
    sandbox_responder: str | None = Field(
        default=None, validation_alias=_env("sandbox_responder", "CLICKSEND_MCP_SANDBOX_RESPONDER")
    )
    sandbox_reply_delay: int = Field(
        default=0, ge=0, le=3600, validation_alias=_env("sandbox_reply_delay", "CLICKSEND_MCP_SANDBOX_REPLY_DELAY")
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("expected the http(s) URL ClickSend reaches this server at, e.g. https://mcp.example.com")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        import re

        if value is None or not value.get_secret_value().strip():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{32,128}", value.get_secret_value().strip()):
            raise ValueError(
                "expected 32 to 128 URL-safe characters (letters, digits, - and _), e.g. from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("sandbox_responder")
    @classmethod
    def _responder(cls, value: str | None) -> str | None:
        from .sandbox.responder import Responder, ResponderError

        if value is None or not value.strip():
            return None
        try:
            Responder.parse(value)
        except ResponderError as exc:
            raise ValueError(str(exc).split(": ", 1)[-1]) from None
        return value.strip()

    @property
    def receives_webhooks(self) -> bool:
        """Replies come by webhook when an HTTP transport serves them (a secret is set); otherwise they are polled."""
        return self.transport != "stdio" and self.webhook_secret is not None

    @field_validator("max_spend_per_day", "max_spend_per_month", "max_messages_per_recipient", "quiet_hours")
    @classmethod
    def _limit_syntax(cls, value: str | None, info: Any) -> str | None:
        from .limits import LimitSyntaxError, QuietHours, RecipientLimit, parse_money

        if value is None or not str(value).strip():
            return None
        value = str(value).strip()
        try:
            if info.field_name == "max_messages_per_recipient":
                RecipientLimit.parse(value)
            elif info.field_name == "quiet_hours":
                QuietHours.parse(value)
            else:
                parse_money(value, info.field_name)
        except LimitSyntaxError as exc:
            raise ValueError(str(exc).split(": ", 1)[-1]) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr | None) -> SecretStr | None:
        from .store import DatabaseUrlError, locate

        if value is None or not value.get_secret_value().strip():
            return None
        try:
            locate(value.get_secret_value())
        except DatabaseUrlError as exc:
            raise ValueError(str(exc).split(": ", 1)[-1]) from None
        return value

    def limits(self) -> Limits:
        from .limits import Limits, QuietHours, RecipientLimit, parse_money

        return Limits(
            max_spend_per_day=parse_money(self.max_spend_per_day, "max_spend_per_day"),
            max_spend_per_month=parse_money(self.max_spend_per_month, "max_spend_per_month"),
            per_recipient=RecipientLimit.parse(self.max_messages_per_recipient),
            quiet_hours=QuietHours.parse(self.quiet_hours),
        )

    @field_validator("allowed_countries")
    @classmethod
    def _countries(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        codes = [c.strip().upper() for c in value.split(",") if c.strip()]
        bad = [c for c in codes if len(c) != 2 or not c.isalpha()]
        if bad:
            raise ValueError(f"expected ISO country codes like AU,US; not {', '.join(bad)}")
        return ",".join(codes)

    @field_validator(
        "clicksend_username",
        "maton_connection",
        "clicksend_api_key",
        "maton_api_key",
        "skillboss_api_key",
        "auth_token",
        "database_url",
        "ledger_key",
        "webhook_secret",
        "sandbox_state",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("clicksend_base_url", "maton_base_url", "maton_ctrl_base_url", "skillboss_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator(
        "clicksend_username",
        "clicksend_api_key",
        "maton_api_key",
        "maton_connection",
        "skillboss_api_key",
        "auth_token",
    )
    @classmethod
    def _header_value(cls, value: str | SecretStr | None) -> str | SecretStr | None:
        # These values travel in HTTP headers (the Basic token, the Bearer keys, Maton-Connection, the access token
        # clients send). A line break would forge other headers, and the HTTP library refuses control characters and
        # non-ASCII on every call: refuse them once, at start. The message names the variable, never the value.
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text is not None and not all(" " <= ch <= "~" for ch in text):
            raise ValueError(
                "must be printable ASCII (no control characters, line breaks or non-ASCII letters); "
                "check for a stray newline or a pasted character"
            )
        return value

    def check_http_exposure(self) -> None:
        """Serving HTTP beyond loopback needs an access token: otherwise anyone who can reach it can send SMS."""
        if self.transport == "stdio":
            return
        token = self.auth_token.get_secret_value() if self.auth_token else None
        if token is not None and len(token) < 16:
            raise ConfigError("CLICKSEND_MCP_AUTH_TOKEN must be at least 16 characters (use a random value)")
        if self.host not in ("127.0.0.1", "localhost", "::1") and token is None:
            raise ConfigError(
                f"binding {self.host} exposes the server beyond this machine: set an access token with "
                "--auth-token or CLICKSEND_MCP_AUTH_TOKEN (clients send it as 'Authorization: Bearer <token>')"
            )

    def resolved_backend(self) -> Backend:
        """The backend to use: the explicit choice, else the first whose credentials are set, in this order:
        direct (ClickSend username and key), maton (MATON_API_KEY), skillboss (SKILLBOSS_API_KEY)."""
        if self.backend == "direct":
            if not (self.clicksend_username and self.clicksend_api_key):
                raise ConfigError(
                    "The direct backend needs CLICKSEND_USERNAME and CLICKSEND_API_KEY "
                    "(your ClickSend API username and key)."
                )
            return "direct"
        if self.backend == "maton":
            if not self.maton_api_key:
                raise ConfigError("The maton backend needs MATON_API_KEY (and optionally MATON_CONNECTION).")
            return "maton"
        if self.backend == "skillboss":
            if not self.skillboss_api_key:
                raise ConfigError("The skillboss backend needs SKILLBOSS_API_KEY (your SkillBoss API Hub key).")
            return "skillboss"
        if self.backend == "sandbox":
            return "sandbox"
        if self.clicksend_username and self.clicksend_api_key:
            return "direct"
        if self.maton_api_key:
            return "maton"
        if self.skillboss_api_key:
            return "skillboss"
        if self.clicksend_username or self.clicksend_api_key:
            raise ConfigError("Set both CLICKSEND_USERNAME and CLICKSEND_API_KEY; only one of them is set.")
        raise ConfigError(
            "No ClickSend credentials found. Set CLICKSEND_USERNAME and CLICKSEND_API_KEY (direct), "
            "or MATON_API_KEY (and optionally MATON_CONNECTION) for the Maton gateway, "
            "or SKILLBOSS_API_KEY for templated SMS and passcode checks through SkillBoss, "
            "or try every tool with no account: --backend sandbox (or CLICKSEND_BACKEND=sandbox)."
        )
