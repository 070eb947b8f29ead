"""The sandbox backend's wiring: the in-process ClickSend (the `sandbox` package) behind the real HTTP client."""

from __future__ import annotations

from typing import Any

from ..http import ClickSendHttp, basic_token
from ..settings import SANDBOX_URL, ConfigError, Settings
from .base import BackendConfig, timeouts_of

APIS = frozenset({"clicksend"})
TOOLSETS: tuple[str, ...] = ()


def build(settings: Settings, *, sandbox_app: Any = None) -> BackendConfig:
    if sandbox_app is None and settings.sandbox_state:
        from ..sandbox.persistence import StateFileError, persistent_sandbox_app

        try:
            sandbox_app = persistent_sandbox_app(settings.sandbox_state)
        except StateFileError as exc:
            raise ConfigError(f"CLICKSEND_SANDBOX_STATE (--sandbox-state) {exc}") from None
    if sandbox_app is None:
        from ..sandbox import create_sandbox_app

        sandbox_app = create_sandbox_app()
    if settings.sandbox_responder or settings.sandbox_reply_delay:
        from ..sandbox.responder import Responder, set_responder, state_of

        # Who answers the test numbers (CLICKSEND_MCP_SANDBOX_RESPONDER), checked with the settings.
        set_responder(state_of(sandbox_app), Responder.parse(settings.sandbox_responder, settings.sandbox_reply_delay))
    headers: dict[str, str] = {}
    secrets: list[str] = []
    if settings.clicksend_username and settings.clicksend_api_key:
        # The sandbox honours ClickSend's published test credentials (nocredit, notactive, banned).
        key = settings.clicksend_api_key.get_secret_value()
        token = basic_token(settings.clicksend_username, key)
        headers["Authorization"] = f"Basic {token}"
        secrets += [key, token]
    http = ClickSendHttp(SANDBOX_URL, headers=headers, timeouts=timeouts_of(settings), asgi_app=sandbox_app)
    return BackendConfig("sandbox", http, tuple(secrets))
