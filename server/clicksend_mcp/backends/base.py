"""What every backend shares: the configured backend the dispatcher calls (clients per API, normalizers, secrets)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import results
from ..http import ClickSendHttp, HttpResponse, Timeouts
from ..request_builder import HttpRequest
from ..settings import Settings

Normalizer = Callable[[HttpResponse, bool], dict[str, Any]]
"""(response, unwrap ClickSend's data) -> the common result shape."""


def clicksend_normalizer(response: HttpResponse, unwrap: bool) -> dict[str, Any]:
    return results.from_response(response, unwrap=unwrap)


@dataclass
class BackendConfig:
    """One configured backend: the HTTP client for each API it serves (spec field `api`), how it reads their
    answers, and the secrets to redact. `http` is its main client (ClickSend's API where it serves it)."""

    name: str
    http: ClickSendHttp
    secrets: tuple[str, ...] = field(default=(), repr=False)
    apis: Mapping[str, ClickSendHttp] = field(default_factory=dict)
    normalizers: Mapping[str, Normalizer] = field(default_factory=dict)
    toolsets: tuple[str, ...] = ()  # its own toolsets, served by default along with the usual ones

    def __post_init__(self) -> None:
        if not self.apis:
            self.apis = {"clicksend": self.http}

    @property
    def is_sandbox(self) -> bool:
        return self.name == "sandbox"

    def serves(self, api: str) -> bool:
        return api in self.apis

    async def send(self, api: str, request: HttpRequest) -> HttpResponse:
        return await self.apis[api].send(request)

    def normalize(self, api: str, response: HttpResponse, *, unwrap: bool) -> dict[str, Any]:
        return self.normalizers.get(api, clicksend_normalizer)(response, unwrap)

    async def aclose(self) -> None:
        closed: set[int] = set()
        for client in (self.http, *self.apis.values()):
            if id(client) not in closed:
                closed.add(id(client))
                await client.aclose()


def timeouts_of(settings: Settings) -> Timeouts:
    t = settings.timeout
    return Timeouts(connect=min(5.0, t), read=t, write=t, pool=min(5.0, t), total=t)


def message_of(payload: Any) -> str | None:
    """The human message in a non-ClickSend error body, wherever the service put it."""
    if isinstance(payload, dict):
        for key in ("message", "error", "detail", "error_message", "msg", "response_msg"):
            value = payload.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:300]
            if isinstance(value, dict):
                inner = message_of(value)
                if inner:
                    return inner
    return None
