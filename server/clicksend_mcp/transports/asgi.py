"""The ASGI apps of the HTTP transports: legacy SSE (/sse + /messages/) and streamable HTTP (/mcp), with /healthz."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from mcp.server.lowlevel.server import Server
from mcp.server.sse import SseServerTransport
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from .. import SERVER_NAME, __version__
from .access import (
    SDK_SECURITY,
    BearerTokenGate,
    HostOriginGate,
    HostRules,
    Refused,
    host_rules,
    not_counted,
    oauth_gate,
)
from .affinity import SessionAffinity
from .metrics import Metrics
from .oauth import OAuthConfig
from .sessions import SessionQuota
from .webhooks import with_webhooks


@dataclass(frozen=True)
class HttpOptions:
    host: str = "127.0.0.1"
    auth_token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    max_body_bytes: int = 4 * 1024 * 1024
    oauth: OAuthConfig | None = None
    metrics: Metrics | None = None  # served at /metrics behind the same access control
    refused: Refused | None = None  # told why each request the gates refuse was refused (metrics, on either port)
    replica_id: str | None = None  # marks handshake-era session ids so a proxy can pin them (affinity.py)
    session_idle_timeout: float = 300.0
    max_sessions: int = 1000
    max_sessions_per_client: int = 100
    # ClickSend's pushes (webhooks.py): served ahead of the bearer gate, behind their own secret.
    conversations: Any = None
    webhook_secret: str | None = None
    webhooks_per_tenant: bool = False  # multi-tenant: each tenant's URLs carry its own token (webhook_addresses.py)

    @property
    def host_rules(self) -> HostRules | None:
        return host_rules(self.host, self.allowed_hosts, self.allowed_origins)


async def _healthz(request: Request) -> Response:
    # pid: which worker answered, when several serve one port (--workers).
    return JSONResponse({"status": "ok", "server": SERVER_NAME, "version": __version__, "pid": os.getpid()})


def _extra_routes(options: HttpOptions) -> list[Route]:
    routes = [Route("/healthz", _healthz, methods=["GET"])]
    if options.metrics is not None:
        routes.append(Route("/metrics", options.metrics.endpoint, methods=["GET"]))
    return routes


def metrics_app(metrics: Metrics) -> Starlette:
    """/metrics alone, for --metrics-port (a port only the cluster's scraper reaches)."""
    return Starlette(routes=[Route("/metrics", metrics.endpoint, methods=["GET"]), Route("/healthz", _healthz)])


def _gated(app: Any, options: HttpOptions) -> Any:
    """Outermost first: ClickSend's webhooks (their own secret), Host/Origin (exact), then the bearer token or OAuth,
    then the per-client session cap, then the app."""
    refused = options.refused or not_counted
    quota = SessionQuota(
        app,
        per_client=options.max_sessions_per_client,
        idle_timeout=options.session_idle_timeout,
        handshake_versions=frozenset(HANDSHAKE_PROTOCOL_VERSIONS),
        refused=refused,
    )
    gated: Any
    if options.oauth is not None:
        gated = oauth_gate(quota, options.oauth, options.auth_token, refused)
    else:
        gated = BearerTokenGate(quota, options.auth_token, refused) if options.auth_token else quota
    rules = options.host_rules
    outer = HostOriginGate(gated, rules, refused) if rules is not None else gated
    # ClickSend's pushes come first: outside the MCP gates (ClickSend sends no token), behind their own secret.
    return with_webhooks(outer, options.conversations, options.webhook_secret, per_tenant=options.webhooks_per_tenant)


def sse_app(server: Server[Any], options: HttpOptions | None = None) -> Any:
    """Legacy HTTP+SSE transport: GET /sse opens the stream, POST /messages/?session_id=... carries requests."""
    options = options or HttpOptions()
    sse = SseServerTransport("/messages/", security_settings=SDK_SECURITY, max_request_body_size=options.max_body_bytes)

    async def handle_sse(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with sse.connect_sse(scope, receive, send) as (read_stream, write_stream):
                await server.run(read_stream, write_stream, server.create_initialization_options())
        except ValueError:
            # connect_sse has already answered a request that failed host/origin validation.
            return

    class _SseEndpoint:
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await handle_sse(scope, receive, send)

    app = Starlette(
        routes=[
            *_extra_routes(options),
            Route("/sse", _SseEndpoint(), methods=["GET"]),
            Mount("/messages/", app=sse.handle_post_message),
        ]
    )
    return _gated(app, options)


def http_app(server: Server[Any], options: HttpOptions | None = None) -> Any:
    """Streamable HTTP at /mcp, serving both protocol eras the SDK speaks."""
    options = options or HttpOptions()
    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        host=options.host,
        transport_security=SDK_SECURITY,
        session_idle_timeout=options.session_idle_timeout,
        max_sessions=options.max_sessions,
        max_request_body_size=options.max_body_bytes,
        custom_starlette_routes=_extra_routes(options),
    )
    marked = SessionAffinity(app, options.replica_id) if options.replica_id else app
    return _gated(marked, options)
