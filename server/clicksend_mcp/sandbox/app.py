"""The ASGI app: turns each HTTP request into a Call, routes it, and answers with ClickSend's envelope."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route as StarletteRoute
from starlette.types import Receive, Scope, Send

from .auth import SandboxAuth, authenticate
from .call import Call
from .endpoints import CHANNELS, ROUTES
from .envelope import Reply, SandboxError, bad_request, not_found, to_response
from .message_store import deliver_due
from .routing import Router
from .state import SandboxState

logger = logging.getLogger(__name__)

API_PREFIX = "/v3"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _relative_path(path: str) -> str:
    """The path relative to /v3 ("/v3/lists/" -> "/lists"); anything outside /v3 is an unknown URL."""
    if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
        raise not_found(f"The requested URL {path} was not found.")
    relative = path[len(API_PREFIX) :].rstrip("/")
    return relative or "/"


async def _json_body(request: Request) -> Any:
    if request.method not in _BODY_METHODS:
        return None
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise bad_request(f"The request body is not valid JSON: {error}.") from None


class SandboxEndpoint:
    """The catch-all ASGI endpoint behind every path."""

    def __init__(self, state: SandboxState, auth: SandboxAuth | None, clock: Callable[[], float]) -> None:
        self.state = state
        self.auth = auth
        self.clock = clock
        self.router = Router(ROUTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = to_response(await self.answer(request))
        await response(scope, receive, send)

    async def answer(self, request: Request) -> Reply:
        now = int(self.clock())
        try:
            # Match on the raw path so an encoded "/" (%2F) stays inside its segment; decode each segment after.
            raw_path = request.scope.get("raw_path")
            encoded = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else ""
            if unquote(encoded) != request.scope.get("path"):  # no raw path, or one that was not kept in step
                encoded = request.url.path
            route, found = self.router.match(request.method, _relative_path(encoded), request.url.path)
            params = {name: unquote(value) for name, value in found.items()}
            path = unquote(_relative_path(encoded))
            caller = authenticate(request.headers.get("authorization"), self.auth)
            body = await _json_body(request)
            deliver_due(self.state, CHANNELS, now)
            call = Call(
                method=request.method,
                path=path,
                params=params,
                query=dict(request.query_params),
                body=body,
                caller=caller,
                state=self.state,
                now=now,
            )
            return route.handler(call)
        except SandboxError as error:
            return error.reply()
        except Exception:
            logger.exception("sandbox handler failed for %s %s", request.method, request.url.path)
            return Reply(None, "Something is broken in the sandbox.", "INTERNAL_SERVER_ERROR", 500)


@cache
def _router() -> Router:
    return Router(ROUTES)


def has_route(method: str, path: str) -> bool:
    """Whether the sandbox answers `method` on a concrete path, e.g. ("GET", "/lists/5/contacts").

    `path` is relative to /v3 (a leading /v3 is accepted too); only the route table is consulted, not any state.
    """
    relative = path.split("?", 1)[0]
    if relative == API_PREFIX or relative.startswith(API_PREFIX + "/"):
        relative = relative[len(API_PREFIX) :]
    relative = "/" + relative.strip("/")
    try:
        _router().match(method, relative)
    except SandboxError:
        return False
    return True


def create_sandbox_app(
    state: SandboxState | None = None,
    auth: SandboxAuth | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """An in-process ClickSend: same paths and envelopes, state in memory, nothing ever sent.

    `auth=None` accepts any request (the product's sandbox); a SandboxAuth makes it a strict fake that demands
    those credentials. ClickSend's test usernames (nocredit, notactive, banned) behave as documented either way.
    `app.state.sandbox` is the SandboxState, for inspection.
    """
    sandbox_state = state if state is not None else SandboxState(now=clock())
    endpoint = SandboxEndpoint(sandbox_state, auth, clock)
    app = Starlette(routes=[StarletteRoute("/{path:path}", endpoint)])
    app.state.sandbox = sandbox_state
    return app
