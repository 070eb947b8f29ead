"""The HTTP client for ClickSend calls: the only module that imports httpx2, the only one that touches the network."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2

from .request_builder import HttpRequest

USER_AGENT = "clicksend-mcp"
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool = False


class TransportFailure(Exception):
    """The request did not produce an HTTP response.

    `kind` is "timeout" or "network"; `may_have_arrived` is False only when the request provably never left
    (the connection was never made), which is the one case a send may be retried.
    """

    def __init__(self, kind: str, may_have_arrived: bool, detail: str) -> None:
        self.kind = kind
        self.may_have_arrived = may_have_arrived
        self.detail = detail
        super().__init__(f"{kind}: {detail}")


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 5.0
    total: float = 30.0  # the whole attempt: a server that drips bytes slowly cannot hold a call forever


def basic_token(username: str, api_key: str) -> str:
    return base64.b64encode(f"{username}:{api_key}".encode()).decode("ascii")


@dataclass
class ClickSendHttp:
    """One reusable client per backend. `transport` is the seam: an ASGI app for the sandbox and the tests."""

    base_url: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    timeouts: Timeouts = field(default_factory=Timeouts)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    asgi_app: Any = field(default=None, repr=False)
    service: str = "ClickSend"  # who answers, as failures name it (the gateways' own APIs are not ClickSend)
    _client: httpx2.AsyncClient | None = field(default=None, init=False, repr=False)

    def _make_client(self) -> httpx2.AsyncClient:
        t = self.timeouts
        transport: httpx2.AsyncBaseTransport | None = None
        if self.asgi_app is not None:
            transport = httpx2.ASGITransport(app=self.asgi_app)
        return httpx2.AsyncClient(
            base_url=self.base_url.rstrip("/") + "/",
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **self.headers},
            timeout=httpx2.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool),
            transport=transport,
            follow_redirects=False,
            trust_env=False,
        )

    @property
    def client(self) -> httpx2.AsyncClient:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    async def send(self, request: HttpRequest) -> HttpResponse:
        # The path is relative ("sms/send", not "/sms/send") so it joins onto the base URL's /v3 prefix.
        url = request.path.lstrip("/")
        try:
            with anyio.fail_after(self.timeouts.total):
                return await self._send(request, url)
        except TimeoutError:
            raise TransportFailure("timeout", True, f"{self.service} did not finish answering in time") from None

    async def _send(self, request: HttpRequest, url: str) -> HttpResponse:
        try:
            async with self.client.stream(
                request.method,
                url,
                params=list(request.query) or None,
                json=request.json_body,
                headers=dict(request.headers) or None,
            ) as response:
                chunks: list[bytes] = []
                size = 0
                truncated = False
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        truncated = True
                        break
                body = b"".join(chunks)[: self.max_body_bytes]
                return HttpResponse(
                    status=response.status_code,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body=body,
                    truncated=truncated,
                )
        except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
            kind = "timeout" if isinstance(exc, httpx2.ConnectTimeout) else "network"
            raise TransportFailure(kind, False, f"could not connect to {self.service}") from None
        except httpx2.PoolTimeout:
            raise TransportFailure("timeout", False, f"no free connection to {self.service} in time") from None
        except httpx2.TimeoutException:
            raise TransportFailure("timeout", True, f"{self.service} did not answer in time") from None
        except httpx2.TransportError:
            raise TransportFailure("network", True, f"the connection to {self.service} failed mid-request") from None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
