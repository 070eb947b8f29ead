"""The Maton backend: ClickSend through Maton's managed gateway, with a Bearer key and an optional connection."""

from __future__ import annotations

from typing import Any

from ..http import ClickSendHttp
from ..settings import Settings
from .base import BackendConfig, timeouts_of


def build(settings: Settings, *, asgi_app: Any = None) -> BackendConfig:
    assert settings.maton_api_key  # resolved_backend checked it
    key = settings.maton_api_key.get_secret_value()
    headers = {"Authorization": f"Bearer {key}"}
    if settings.maton_connection:
        headers["Maton-Connection"] = settings.maton_connection
    http = ClickSendHttp(settings.maton_base_url, headers=headers, timeouts=timeouts_of(settings), asgi_app=asgi_app)
    return BackendConfig("maton", http, (key,))
