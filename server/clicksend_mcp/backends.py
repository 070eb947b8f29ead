"""The three backends (direct, maton, sandbox): where calls go, how they authenticate, which secrets to redact."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .http import ClickSendHttp, Timeouts, basic_token
from .settings import SANDBOX_URL, Backend, ConfigError, Settings


@dataclass
class BackendConfig:
    name: Backend
    http: ClickSendHttp
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def is_sandbox(self) -> bool:
        return self.name == "sandbox"


def _timeouts(settings: Settings) -> Timeouts:
    t = settings.timeout
    return Timeouts(connect=min(5.0, t), read=t, write=t, pool=min(5.0, t), total=t)


def build_backend(settings: Settings, *, sandbox_app: Any = None, asgi_app: Any = None) -> BackendConfig:
    """The backend the settings choose. `asgi_app` routes direct/maton calls in-process (tests only)."""
    name = settings.resolved_backend()
    timeouts = _timeouts(settings)
    if name == "sandbox":
        if sandbox_app is None and settings.sandbox_state:
            from .sandbox.persistence import StateFileError, persistent_sandbox_app

            try:
                sandbox_app = persistent_sandbox_app(settings.sandbox_state)
            except StateFileError as exc:
                raise ConfigError(f"CLICKSEND_SANDBOX_STATE (--sandbox-state) {exc}") from None
        if sandbox_app is None:
            from .sandbox import create_sandbox_app

            sandbox_app = create_sandbox_app()
        headers: dict[str, str] = {}
        secrets: list[str] = []
        if settings.clicksend_username and settings.clicksend_api_key:
            # The sandbox honours ClickSend's published test credentials (nocredit, notactive, banned).
            key = settings.clicksend_api_key.get_secret_value()
            token = basic_token(settings.clicksend_username, key)
            headers["Authorization"] = f"Basic {token}"
            secrets += [key, token]
        http = ClickSendHttp(SANDBOX_URL, headers=headers, timeouts=timeouts, asgi_app=sandbox_app)
        return BackendConfig("sandbox", http, tuple(secrets))
    if name == "direct":
        assert settings.clicksend_username and settings.clicksend_api_key  # resolved_backend checked both
        key = settings.clicksend_api_key.get_secret_value()
        token = basic_token(settings.clicksend_username, key)
        http = ClickSendHttp(
            settings.clicksend_base_url,
            headers={"Authorization": f"Basic {token}"},
            timeouts=timeouts,
            asgi_app=asgi_app,
        )
        return BackendConfig("direct", http, (key, token))
    assert settings.maton_api_key  # resolved_backend checked it
    key = settings.maton_api_key.get_secret_value()
    headers = {"Authorization": f"Bearer {key}"}
    if settings.maton_connection:
        headers["Maton-Connection"] = settings.maton_connection
    http = ClickSendHttp(settings.maton_base_url, headers=headers, timeouts=timeouts, asgi_app=asgi_app)
    return BackendConfig("maton", http, (key,))
