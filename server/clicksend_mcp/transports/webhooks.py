"""ClickSend's pushes: the webhook endpoints its inbound and delivery-receipt rules post to, ahead of the bearer gate.

ClickSend cannot send our bearer token, so these paths carry a secret of their own:
`/webhooks/clicksend/<secret>/<kind>`, compared in constant time. In multi-tenant mode the segment is instead one
tenant's `<fingerprint>.<mac>` (webhook_addresses.py): its MAC is checked in constant time and the push is stored
under that tenant alone. Any other path under the prefix, a wrong secret or MAC, or an unknown kind answers 404 and
stores nothing. Bodies are size-limited; form-encoded, JSON and query-string
(webhook_type get) posts are read; the fields are validated before anything is stored.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import anyio
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from ..conversations import WEBHOOK_KINDS, PayloadError, parse_webhook
from ..tenancy import tenant_label
from ..webhook_addresses import tenant_of

if TYPE_CHECKING:
    from ..conversations import Conversations

log = logging.getLogger("clicksend_mcp.webhooks")

PREFIX = "/webhooks/clicksend/"
MAX_WEBHOOK_BYTES = 64 * 1024  # one message or receipt is a few hundred bytes


class _TooLarge(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _fields(method: str, content_type: str, body: bytes, query: bytes) -> dict[str, Any]:
    """The posted fields: JSON object, form, or (webhook_type get) the query string."""
    if method == "GET":
        return dict(parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True))
    if "json" in content_type:
        try:
            value = json.loads(body)
        except ValueError:
            raise PayloadError("body: expected a JSON object") from None
        if not isinstance(value, dict):
            raise PayloadError("body: expected a JSON object")
        return value
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("body: expected UTF-8 form fields") from None
    return dict(parse_qsl(text, keep_blank_values=True))


class WebhookEndpoints:
    """ASGI middleware: `/webhooks/clicksend/...` is answered here; everything else goes on to `app` (the gate)."""

    def __init__(
        self,
        app: Any,
        conversations: Conversations,
        secret: str,
        max_bytes: int = MAX_WEBHOOK_BYTES,
        *,
        per_tenant: bool = False,
    ):
        self.app = app
        self.conversations = conversations
        self._secret = secret.encode()
        self.max_bytes = max_bytes
        self.per_tenant = per_tenant  # multi-tenant: the segment names the tenant (and the bare secret none)

    def _addressed(self, given: str) -> Conversations | None:
        """Whose conversations the path's segment opens: the server's (its secret), a tenant's (a verified
        token, in multi-tenant mode), or nobody's."""
        if not self.per_tenant:
            return self.conversations if hmac.compare_digest(given.encode(), self._secret) else None
        tenant = tenant_of(self._secret.decode(), given)
        return self.conversations.for_tenant(tenant) if tenant is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        given, _, kind = scope["path"][len(PREFIX) :].partition("/")
        # The access log reads the path after the answer: it must never hold the secret.
        scope["path"] = f"{PREFIX}<secret>/{kind}"
        scope["raw_path"] = scope["path"].encode()
        conversations = self._addressed(given)
        if conversations is None or kind not in WEBHOOK_KINDS:
            await JSONResponse({"error": "not found"}, status_code=404)(scope, receive, send)
            return
        await self._receive(scope, receive, send, kind, conversations)

    async def _receive(
        self, scope: Scope, receive: Receive, send: Send, kind: str, conversations: Conversations
    ) -> None:
        method = scope["method"]
        if method not in ("POST", "GET"):
            await JSONResponse({"error": "use POST"}, status_code=405, headers={"Allow": "POST, GET"})(
                scope, receive, send
            )
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        try:
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise _TooLarge
            body = await _read_body(receive, self.max_bytes) if method == "POST" else b""
        except _TooLarge:
            await JSONResponse({"error": f"body larger than {self.max_bytes} bytes"}, status_code=413)(
                scope, receive, send
            )
            return
        try:
            event = parse_webhook(kind, _fields(method, headers.get("content-type", ""), body, scope["query_string"]))
        except PayloadError as exc:
            log.warning("webhook %s refused: %s", kind, exc)
            await JSONResponse({"error": str(exc)}, status_code=400)(scope, receive, send)
            return
        try:
            changed = await conversations.ingest([event])
        except Exception:  # the database: ClickSend retries a failed post, so say so rather than swallow it
            log.exception("webhook %s could not be stored", kind)
            await JSONResponse({"error": "not stored; try again"}, status_code=503)(scope, receive, send)
            return
        # The fingerprint's start names the tenant in the log line, as the dispatcher's lines do; it reveals nothing.
        whose = f" tenant={tenant_label(conversations.tenant)}" if self.per_tenant else ""
        log.info(
            "webhook %s%s: message %s %s", kind, whose, event.message_id, "stored" if changed else "already stored"
        )
        await JSONResponse({"stored": len(changed), "duplicate": not changed})(scope, receive, send)


def with_webhooks(
    app: Any, conversations: Conversations | None, secret: str | None, *, per_tenant: bool = False
) -> Any:
    """The app with ClickSend's webhook endpoints in front of it, when this server receives webhooks (per tenant
    in multi-tenant mode)."""
    if conversations is None or not secret:
        return app
    return WebhookEndpoints(app, conversations, secret, per_tenant=per_tenant)


async def push_sandbox_events(state: Any, app: Any, secret: str, *, clock: Callable[[], float] = time.time) -> None:
    """Sandbox only, until cancelled: each receipt and reply the sandbox's test numbers produce is posted to this
    server's own webhook endpoints (JSON, as a rule with webhook_type json posts it), as ClickSend's rules would."""
    from ..http import ClickSendHttp
    from ..sandbox.responder import next_due, release_replies, set_listener

    sender, events = anyio.create_memory_object_stream[tuple[str, dict[str, Any]]](max_buffer_size=10_000)

    def offer(kind: str, record: dict[str, Any]) -> None:
        # Only what ClickSend's rules push (not email or fax receipts); never fail the sandbox's request over it.
        if kind not in WEBHOOK_KINDS:
            return
        try:
            sender.send_nowait((kind, dict(record)))
        except anyio.WouldBlock:
            log.warning("sandbox: too many events waiting to be pushed; dropped a %s event", kind)

    set_listener(state, offer)
    http = ClickSendHttp("http://webhooks.sandbox.invalid", asgi_app=app, service="the webhook endpoint")
    try:
        while True:
            due = next_due(state)
            item: tuple[str, dict[str, Any]] | None = None
            # Until the next reply is due (a little after, as the sandbox counts whole seconds) or an event comes.
            with anyio.move_on_after(max(0.0, due - clock()) + 0.05 if due is not None else 3600):
                item = await events.receive()
            if item is not None:
                await _post(http, secret, *item)
            else:
                release_replies(state, int(clock()))  # announces them: the next turns of the loop post them
    finally:
        set_listener(state, None)
        await http.aclose()


async def _post(http: Any, secret: str, kind: str, record: dict[str, Any]) -> None:
    from ..http import TransportFailure
    from ..request_builder import HttpRequest

    fields = {k: v for k, v in record.items() if not k.startswith("_")}
    try:
        response = await http.send(HttpRequest(method="POST", path=f"{PREFIX}{secret}/{kind}", json_body=fields))
    except TransportFailure as exc:
        log.warning("sandbox: pushing a %s event failed: %s", kind, exc.kind)
        return
    if response.status >= 300:
        log.warning("sandbox: the webhook endpoint answered %d to a %s event", response.status, kind)
