"""Who may reach the HTTP transports: the bearer-token gate, OAuth resource-server mode, and the Host/Origin
(DNS-rebinding) settings."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.auth.settings import AuthSettings
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .oauth import AccessVerifier, OAuthConfig

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
OPEN_PATHS = frozenset({"/healthz"})


def transport_security(
    host: str, allowed_hosts: Sequence[str] = (), allowed_origins: Sequence[str] = ()
) -> TransportSecuritySettings | None:
    """DNS-rebinding protection: on for loopback binds, and wherever hosts or origins are configured."""
    hosts = list(allowed_hosts)
    origins = list(allowed_origins)
    if host in LOCAL_HOSTS:
        hosts += ["127.0.0.1:*", "localhost:*", "[::1]:*"]
        origins += ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if not hosts and not origins:
        return None
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


class BearerTokenGate:
    """ASGI middleware: every request but /healthz needs `Authorization: Bearer <token>` (compared in constant time).

    A refused request gets 401 and reaches nothing behind the gate."""

    OPEN_PATHS = OPEN_PATHS

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k.lower() == b"authorization"), b"")
        if hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"error": "unauthorized", "message": "send Authorization: Bearer <token>"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="clicksend-mcp"'},
        )
        await response(scope, receive, send)


def oauth_gate(app: Any, config: OAuthConfig, static_token: str | None = None) -> Any:
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
    guarded = AuthenticationMiddleware(
        AuthContextMiddleware(RequireAuthMiddleware(app, required, metadata_url)),
        backend=BearerAuthBackend(AccessVerifier(config, static_token)),
    )
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
