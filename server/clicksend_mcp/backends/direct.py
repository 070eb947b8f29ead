"""The direct backend: ClickSend's REST API with HTTP Basic auth (username and API key)."""

from __future__ import annotations

from typing import Any

from ..http import ClickSendHttp, basic_token
from ..settings import Settings
from .base import BackendConfig, timeouts_of

APIS = frozenset({"clicksend"})
TOOLSETS: tuple[str, ...] = ()


def build(settings: Settings, *, asgi_app: Any = None) -> BackendConfig:
    assert settings.clicksend_username and settings.clicksend_api_key  # resolved_backend checked both
    key = settings.clicksend_api_key.get_secret_value()
    token = basic_token(settings.clicksend_username, key)
    http = ClickSendHttp(
        settings.clicksend_base_url,
        headers={"Authorization": f"Basic {token}"},
        timeouts=timeouts_of(settings),
        asgi_app=asgi_app,
    )
    return BackendConfig("direct", http, (key, token))
