"""Configuration: environment variables and command-line flags, as one typed object."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator

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


def _from_environment(model: type[BaseModel]) -> dict[str, Any]:
    """Each field's value from its environment variable (the upper-case names among its aliases), matched without
    regard to case. Read here rather than with pydantic-settings: its import costs a tenth of the SDK's start-up for
    what, with only plain fields, is a dictionary look-up."""
    environ = {key.upper(): value for key, value in os.environ.items()}
    found: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        choices = field.validation_alias.choices if isinstance(field.validation_alias, AliasChoices) else []
        for alias in choices:
            if isinstance(alias, str) and alias != name and alias.upper() in environ:
                found[name] = environ[alias.upper()]
                break
    return found


def env_name(field: str) -> str:
    """The environment variable of a settings field (the last of its aliases), e.g. "port" -> CLICKSEND_MCP_PORT."""
    alias = Settings.model_fields[field].validation_alias
    assert isinstance(alias, AliasChoices)
    name = alias.choices[-1]
    assert isinstance(name, str)
    return name


class Settings(BaseModel):
    """Every setting has an environment variable; the command line overrides it (see cli.py): values given to the
    constructor, by field name, win over the environment."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_from_environment(type(self)), **values})

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
    # Processes serving the HTTP transports on one socket. Handshake-era and SSE sessions live in one worker's
    # memory, so more than one needs sticky routing for them; 2026-era requests are stateless and go anywhere.
    workers: int = Field(default=1, ge=1, le=64, validation_alias=_env("workers", "CLICKSEND_MCP_WORKERS"))
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", validation_alias=_env("log_level", "CLICKSEND_MCP_LOG_LEVEL")
    )
    log_format: Literal["text", "json"] = Field(
        default="text", validation_alias=_env("log_format", "CLICKSEND_MCP_LOG_FORMAT")
    )
    # Hosting: many tenants, OAuth, shared state, metrics.
    multi_tenant: bool = Field(default=False, validation_alias=_env("multi_tenant", "CLICKSEND_MCP_MULTI_TENANT"))
    oauth_issuer: str | None = Field(default=None, validation_alias=_env("oauth_issuer", "CLICKSEND_MCP_OAUTH_ISSUER"))
    oauth_audience: str | None = Field(
        default=None, validation_alias=_env("oauth_audience", "CLICKSEND_MCP_OAUTH_AUDIENCE")
    )
    oauth_required_scope: str | None = Field(
        default=None, validation_alias=_env("oauth_required_scope", "CLICKSEND_MCP_OAUTH_REQUIRED_SCOPE")
    )
    oauth_jwks_url: str | None = Field(
        default=None, validation_alias=_env("oauth_jwks_url", "CLICKSEND_MCP_OAUTH_JWKS_URL")
    )
    state_keys: SecretStr | None = Field(default=None, validation_alias=_env("state_keys", "CLICKSEND_MCP_STATE_KEYS"))
    replica_id: str | None = Field(default=None, validation_alias=_env("replica_id", "CLICKSEND_MCP_REPLICA_ID"))
    metrics: bool = Field(default=False, validation_alias=_env("metrics", "CLICKSEND_MCP_METRICS"))
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, validation_alias=_env("metrics_port", "CLICKSEND_MCP_METRICS_PORT")
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
        bad = [str(i + 1) for i, c in enumerate(codes) if len(c) != 2 or not c.isalpha()]
        if bad:
            # Says which entries, never what they hold: a misplaced secret must not reach an error message.
            raise ValueError(f"expected two-letter ISO country codes like AU,US; entry {', '.join(bad)} is not one")
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
        "oauth_issuer",
        "oauth_audience",
        "oauth_required_scope",
        "oauth_jwks_url",
        "state_keys",
        "webhook_secret",
        "sandbox_state",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "clicksend_base_url",
        "maton_base_url",
        "maton_ctrl_base_url",
        "skillboss_base_url",
        "oauth_issuer",
        "oauth_audience",
        "oauth_jwks_url",
    )
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("state_keys")
    @classmethod
    def _state_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        keys = [k.strip() for k in value.get_secret_value().split(",") if k.strip()]
        if not keys:
            return None
        short = [str(i + 1) for i, k in enumerate(keys) if len(k) < 32]
        if short:
            raise ValueError(
                f"key(s) {', '.join(short)} are shorter than 32 characters; generate each with: "
                'python -c "import secrets; print(secrets.token_hex(32))"'
            )
        if len(set(keys)) != len(keys):
            raise ValueError("the same key is listed twice")
        return SecretStr(",".join(keys))

    @field_validator("replica_id")
    @classmethod
    def _replica_id(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.fullmatch(r"[A-Za-z0-9.:-]{1,64}", value.strip()):
            raise ValueError("expected 1-64 letters, digits, '.', ':' or '-' (e.g. the pod IP)")
        return value.strip()

    def state_key_ring(self) -> list[str]:
        """CLICKSEND_MCP_STATE_KEYS as a list: the first seals, every one opens (rotation)."""
        return self.state_keys.get_secret_value().split(",") if self.state_keys else []

    @property
    def oauth_enabled(self) -> bool:
        return self.oauth_issuer is not None

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
        if (self.oauth_issuer is None) != (self.oauth_audience is None):
            raise ConfigError(
                "OAuth needs both --oauth-issuer (CLICKSEND_MCP_OAUTH_ISSUER, the authorization server) and "
                "--oauth-audience (CLICKSEND_MCP_OAUTH_AUDIENCE, this server's public URL, e.g. https://mcp.example.com/mcp)"
            )
        if self.transport == "stdio":
            if self.multi_tenant or self.oauth_enabled:
                raise ConfigError("--multi-tenant and OAuth serve HTTP clients: use --transport http (or sse)")
            if self.workers > 1:
                raise ConfigError("--workers (CLICKSEND_MCP_WORKERS) needs an HTTP transport (--transport http or sse)")
            return
        token = self.auth_token.get_secret_value() if self.auth_token else None
        if token is not None and len(token) < 16:
            raise ConfigError("CLICKSEND_MCP_AUTH_TOKEN must be at least 16 characters (use a random value)")
        if self.host not in ("127.0.0.1", "localhost", "::1") and token is None and not self.oauth_enabled:
            raise ConfigError(
                f"binding {self.host} exposes the server beyond this machine: set an access token with "
                "--auth-token or CLICKSEND_MCP_AUTH_TOKEN (clients send it as 'Authorization: Bearer <token>'), "
                "or OAuth with --oauth-issuer and --oauth-audience"
            )
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise ConfigError("--metrics-port must differ from --port (metrics are served on a port of their own)")
        if self.multi_tenant:
            stored = [
                name
                for name, value in (
                    ("CLICKSEND_USERNAME", self.clicksend_username),
                    ("CLICKSEND_API_KEY", self.clicksend_api_key),
                    ("MATON_API_KEY", self.maton_api_key),
                    ("MATON_CONNECTION", self.maton_connection),
                    ("SKILLBOSS_API_KEY", self.skillboss_api_key),
                )
                if value is not None
            ]
            if stored:
                raise ConfigError(
                    f"--multi-tenant holds no ClickSend credentials, but {', '.join(stored)} is set: unset it "
                    "(each request brings its own credentials in headers)"
                )
            if self.backend is not None:
                raise ConfigError(
                    "--multi-tenant picks the backend per request from its headers: drop --backend/CLICKSEND_BACKEND"
                )
            # With a webhook secret, each tenant's webhook URLs carry a token minted from it for that tenant
            # (webhook_addresses.py): a push names no tenant, so its URL does.

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
