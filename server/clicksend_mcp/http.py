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


def _merged(own: dict[str, str] | None, per_call: Any) -> dict[str, str]:
    """This request's headers: the call's own (e.g. its Maton connection) over the tenant's defaults; the tenant's
    Authorization always (a call's arguments never choose whose account is used)."""
    merged = dict(own or {})
    for name, value in dict(per_call or {}).items():
        if name.lower() != "authorization" or "authorization" not in {k.lower() for k in merged}:
            merged[name] = value
    return merged


def basic_token(username: str, api_key: str) -> str:
    return base64.b64encode(f"{username}:{api_key}".encode()).decode("ascii")


# What httpx2's client sent by default (the encodings it decodes without optional packages), kept.
_DEFAULT_HEADERS = {"Accept-Encoding": "gzip, deflate", "Connection": "keep-alive"}


@dataclass
class ClickSendHttp:
    """One reusable connection pool per backend. `asgi_app` is the seam: an ASGI app for the sandbox and the tests.

    Requests go straight to httpx2's transport (its connection pool), not through an `AsyncClient`: the client's
    layer (base-URL merging, an auth flow, redirects, event hooks, a cookie jar, a log line per request) does nothing
    this server uses and cost about 0.1 ms a request, a sixth of a loopback call. The cookie jar was worse than
    useless: one pool serves every tenant in multi-tenant mode, so a cookie set in one tenant's answer went out with
    the next tenant's request. Each request is self-contained: base URL, default headers, the call's headers."""

    base_url: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    timeouts: Timeouts = field(default_factory=Timeouts)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    asgi_app: Any = field(default=None, repr=False)
    service: str = "ClickSend"  # who answers, as failures name it (the gateways' own APIs are not ClickSend)
    _transport: httpx2.AsyncBaseTransport | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        t = self.timeouts
        self._base = self.base_url.rstrip("/") + "/"
        self._headers = {**_DEFAULT_HEADERS, "User-Agent": USER_AGENT, "Accept": "application/json", **self.headers}
        self._timeout = httpx2.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool).as_dict()

    @property
    def transport(self) -> httpx2.AsyncBaseTransport:
        if self._transport is None:
            if self.asgi_app is not None:
                self._transport = httpx2.ASGITransport(app=self.asgi_app)
            else:
                self._transport = httpx2.AsyncHTTPTransport(trust_env=False)
        return self._transport

    async def send(self, request: HttpRequest, headers: dict[str, str] | None = None) -> HttpResponse:
        """One attempt. `headers` are this request's own (a tenant's credentials): sent once, never kept."""
        # The path is relative ("sms/send", not "/sms/send") so it joins onto the base URL's /v3 prefix.
        url = self._base + request.path.lstrip("/")
        try:
            with anyio.fail_after(self.timeouts.total):
                return await self._send(request, url, headers)
        except TimeoutError:
            raise TransportFailure("timeout", True, f"{self.service} did not finish answering in time") from None

    async def _send(self, request: HttpRequest, url: str, headers: dict[str, str] | None) -> HttpResponse:
        own = _merged(headers, request.headers)
        merged: dict[str, str] | httpx2.Headers = self._headers
        if own:  # over the defaults by name in any letter case, as the client merged them: never a header twice
            merged = httpx2.Headers(self._headers)
            merged.update(own)
        try:
            outgoing = httpx2.Request(
                request.method,
                url,
                params=list(request.query) or None,
                json=request.json_body,
                headers=merged,
                extensions={"timeout": self._timeout},
            )
            response = await self.transport.handle_async_request(outgoing)
            try:
                chunks: list[bytes] = []
                size = 0
                truncated = False
                async for chunk in response.aiter_bytes():  # decoded as the Content-Encoding says
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
            finally:
                await response.aclose()
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
        if self._transport is not None:
            await self._transport.aclose()
            self._transport = None


async def fetch_json(url: str, timeout: float = 10.0) -> Any:
    """GET a small JSON document (an OAuth issuer's metadata or JWKS). Raises TransportFailure or ValueError."""
    try:
        async with httpx2.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            response = await client.get(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
    except httpx2.TimeoutException:
        raise TransportFailure("timeout", False, f"{url} did not answer in time") from None
    except httpx2.TransportError:
        raise TransportFailure("network", False, f"could not fetch {url}") from None
    if response.status_code != 200:
        raise ValueError(f"{url} answered HTTP {response.status_code}")
    if len(response.content) > 1024 * 1024:
        raise ValueError(f"{url} answered more than 1 MB")
    return response.json()
