"""Who may reach the HTTP transports: the bearer-token gate, OAuth resource-server mode, and the Host/Origin
(DNS-rebinding) settings."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.auth.settings import AuthSettings
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from ..settings import ConfigError
from .oauth import AccessVerifier, OAuthConfig

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
OPEN_PATHS = frozenset({"/healthz"})

# Why a request was refused before it reached MCP (the `reason` of the refusals metric): names only, never a value
# the request carried.
TOKEN_MISSING = "TOKEN_MISSING"  # 401: no Authorization header
TOKEN_INVALID = "TOKEN_INVALID"  # 401: a bearer or OAuth token that is not the right one, or not valid
INSUFFICIENT_SCOPE = "INSUFFICIENT_SCOPE"  # 403: a valid OAuth token without the required scope
ORIGIN_NOT_ALLOWED = "ORIGIN_NOT_ALLOWED"  # 403
HOST_NOT_ALLOWED = "HOST_NOT_ALLOWED"  # 421
TOO_MANY_SESSIONS = "TOO_MANY_SESSIONS"  # 429 (sessions.py)
Refused = Callable[[str], None]
"""Told the reason of each request a gate refuses (the metrics count them)."""


def not_counted(reason: str) -> None:
    pass


def _token_reason(scope: Scope) -> str:
    given = any(k.lower() == b"authorization" for k, _ in scope["headers"])
    return TOKEN_INVALID if given else TOKEN_MISSING


_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::([0-9]{1,5}|\*))?$")
_ORIGIN_RE = re.compile(r"^(https?)://(.+)$")


def _split_host(value: str, *, pattern: bool) -> tuple[str, str | None] | None:
    """(host, port) of `host[:port]` (`*` as the port only in a pattern); None when it is not exactly that."""
    found = _HOST_RE.match(value.strip() if pattern else value)
    if found is None:
        return None
    host, port = found.group(1).lower(), found.group(2)
    if port == "*" and not pattern:
        return None
    if port is not None and port != "*" and not 0 < int(port) < 65536:
        return None
    return host, port


def _split_origin(value: str, *, pattern: bool) -> tuple[str, str, str | None] | None:
    found = _ORIGIN_RE.match(value.strip() if pattern else value)
    if found is None:
        return None
    hostport = _split_host(found.group(2), pattern=pattern)
    return None if hostport is None else (found.group(1).lower(), *hostport)


def _port_matches(allowed: str | None, given: str | None) -> bool:
    # `*` stands for any port (or none); otherwise the ports must be equal, and both absent counts as equal.
    return allowed == "*" or allowed == given


@dataclass(frozen=True)
class HostRules:
    """DNS-rebinding protection with exact matching: the host, the scheme and the port each compare whole.

    The SDK's own check accepts any Host or Origin that merely starts with `127.0.0.1:` (so `127.0.0.1:evil.com`
    passed); this one parses `host[:port]` strictly and compares each part."""

    hosts: tuple[tuple[str, str | None], ...]
    origins: tuple[tuple[str, str, str | None], ...]

    @classmethod
    def of(cls, allowed_hosts: Sequence[str], allowed_origins: Sequence[str]) -> HostRules:
        hosts = [_split_host(h, pattern=True) for h in allowed_hosts]
        origins = [_split_origin(o, pattern=True) for o in allowed_origins]
        bad = [h for h, parsed in zip(allowed_hosts, hosts, strict=True) if parsed is None]
        bad += [o for o, parsed in zip(allowed_origins, origins, strict=True) if parsed is None]
        if bad:
            raise ConfigError(
                f"not a host[:port|:*] or scheme://host[:port|:*]: {', '.join(bad)} "
                "(CLICKSEND_MCP_ALLOWED_HOSTS / CLICKSEND_MCP_ALLOWED_ORIGINS)"
            )
        return cls(tuple(h for h in hosts if h), tuple(o for o in origins if o))

    def host_ok(self, value: str | None) -> bool:
        given = _split_host(value, pattern=False) if value else None
        return given is not None and any(
            host == given[0] and _port_matches(port, given[1]) for host, port in self.hosts
        )

    def origin_ok(self, value: str | None) -> bool:
        if value is None:
            return True  # not a browser, or a same-origin request: nothing to rebind
        given = _split_origin(value, pattern=False)
        return given is not None and any(
            scheme == given[0] and host == given[1] and _port_matches(port, given[2])
            for scheme, host, port in self.origins
        )


def host_rules(host: str, allowed_hosts: Sequence[str] = (), allowed_origins: Sequence[str] = ()) -> HostRules | None:
    """DNS-rebinding protection: on for loopback binds, and wherever hosts or origins are configured."""
    hosts = list(allowed_hosts)
    origins = list(allowed_origins)
    if host in LOCAL_HOSTS:
        hosts += ["127.0.0.1:*", "localhost:*", "[::1]:*"]
        origins += ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if not hosts and not origins:
        return None
    return HostRules.of(hosts, origins)


# The SDK's check is turned off (it prefix-matches); HostOriginGate below does it exactly, in front of everything.
SDK_SECURITY = TransportSecuritySettings(enable_dns_rebinding_protection=False)


class HostOriginGate:
    """ASGI middleware: a Host outside the allowed hosts gets 421, an Origin outside the allowed origins 403.

    /healthz is exempt, so a load balancer's probe by IP address still sees the server alive."""

    def __init__(self, app: Any, rules: HostRules, refused: Refused = not_counted) -> None:
        self.app = app
        self.rules = rules
        self.refused = refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if len(headers.getlist("host")) > 1 or not self.rules.host_ok(headers.get("host")):
            self.refused(HOST_NOT_ALLOWED)
            await PlainTextResponse("Invalid Host header", status_code=421)(scope, receive, send)
            return
        if len(headers.getlist("origin")) > 1 or not self.rules.origin_ok(headers.get("origin")):
            self.refused(ORIGIN_NOT_ALLOWED)
            await PlainTextResponse("Invalid Origin header", status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BearerTokenGate:
    """ASGI middleware: every request but /healthz needs `Authorization: Bearer <token>` (compared in constant time).

    A refused request gets 401 and reaches nothing behind the gate."""

    OPEN_PATHS = OPEN_PATHS

    def __init__(self, app: Any, token: str, refused: Refused = not_counted) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()
        self.refused = refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k.lower() == b"authorization"), b"")
        if hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        self.refused(_token_reason(scope))
        response = JSONResponse(
            {"error": "unauthorized", "message": "send Authorization: Bearer <token>"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="clicksend-mcp"'},
        )
        await response(scope, receive, send)


def oauth_gate(app: Any, config: OAuthConfig, static_token: str | None = None, refused: Refused = not_counted) -> Any:
    """OAuth 2.1 resource-server mode, with the `mcp` package's auth pieces: a bearer token (a JWT from the
    issuer, or the static token) on every path but /healthz and the protected-resource metadata; 401 answers name
    the metadata document in `WWW-Authenticate`, a token without the required scope gets 403."""
    # AuthSettings keeps a path-less issuer as written: issuers are compared as exact strings (RFC 8414).
    urls = AuthSettings.model_validate(
        {"issuer_url": config.issuer, "resource_server_url": config.audience, "validate_token_resource": False}
    )
    resource = urls.resource_server_url
    assert resource is not None
    metadata_url = build_resource_metadata_url(resource)
    required = [config.required_scope] if config.required_scope else []
    documents = create_protected_resource_routes(
        resource_url=resource,
        authorization_servers=[urls.issuer_url],
        scopes_supported=required or None,
        resource_name="ClickSend MCP server",
    )
    # RFC 9728 puts the document at the path-suffixed URL; clients that try the root one find it there too.
    paths = dict.fromkeys([urlparse(str(metadata_url)).path, "/.well-known/oauth-protected-resource"])
    metadata = Starlette(
        routes=[Route(path, endpoint=documents[0].endpoint, methods=["GET", "OPTIONS"]) for path in paths]
    )
    passed = "clicksend_mcp.passed_oauth"  # set in the scope once a request is through the SDK's checks

    async def behind(scope: Scope, receive: Receive, send: Send) -> None:
        scope[passed] = True
        await app(scope, receive, send)

    checked = AuthenticationMiddleware(
        AuthContextMiddleware(RequireAuthMiddleware(behind, required, metadata_url)),
        backend=BearerAuthBackend(AccessVerifier(config, static_token)),
    )

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        # The SDK's middleware answers a refusal itself: a 401 or 403 from it (never from behind it) is counted.
        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and not scope.get(passed):
                if message["status"] == 401:
                    refused(_token_reason(scope))
                elif message["status"] == 403:
                    refused(INSUFFICIENT_SCOPE)
            await send(message)

        await checked(scope, receive, watch)

    open_paths = frozenset(paths)

    async def gate(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
        elif scope["path"] in open_paths:
            await metadata(scope, receive, send)
        elif scope["path"] in OPEN_PATHS:
            await app(scope, receive, send)
        else:
            await guarded(scope, receive, send)

    return gate
