"""MCP resources for conversations: `clicksend://conversations/{number}` to read, and notifications when a reply or
receipt for that number reaches this server: `resources/subscribe` + `notifications/resources/updated` in the
handshake era, a `subscriptions/listen` stream in the 2026-07-28 era.

Beside app.py (it speaks MCP); the conversations themselves come from `Conversations`. Subscriptions are per
session and per process: a message stored by another replica notifies the subscribers of the replica that stored it.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import unquote

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated
from mcp_types.jsonrpc import INVALID_PARAMS

from .conversations import Conversations, describe
from .results import UNTRUSTED_NOTE
from .store.messages import StoredMessage

log = logging.getLogger("clicksend_mcp.resources")

PREFIX = "clicksend://conversations/"
TEMPLATE = types.ResourceTemplate(
    name="conversation",
    title="SMS conversation with one number",
    uri_template=PREFIX + "{number}",
    description="The latest messages exchanged with a number (E.164, e.g. +61411111111), oldest first, with "
    "delivery status. Subscribe to be told when a reply or a delivery receipt arrives.",
    mime_type="application/json",
)
PAGE = 50
_NUMBER_RE = re.compile(r"^\+[0-9]{6,16}$")


def number_of(uri: str) -> str:
    number = unquote(uri[len(PREFIX) :]) if uri.startswith(PREFIX) else ""
    number = number if number.startswith("+") else "+" + number
    if not _NUMBER_RE.match(number):
        raise MCPError(code=INVALID_PARAMS, message=f"unknown resource {uri!r}: expected {PREFIX}+<E.164 number>")
    return number


class ConversationResources:
    """The handlers `build_server` registers, and the sessions subscribed to each conversation."""

    def __init__(self, conversations: Conversations) -> None:
        self.conversations = conversations
        self.subscribers: dict[str, set[Any]] = {}  # handshake era: uri -> sessions
        self.bus = InMemorySubscriptionBus()  # 2026-07-28 era: listen streams filter by uri themselves
        self.listen = ListenHandler(self.bus)
        conversations.listeners.append(self._changed)

    async def list_resources(self, ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=[])  # one per number: read through the template

    async def list_templates(
        self, ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=[TEMPLATE])

    async def read(self, ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        number = number_of(uri)
        messages, older = await self.conversations.conversation(number, None, PAGE)
        body = {
            "number": number,
            "messages": [describe(m) for m in messages],
            "older_messages": older is not None,
            "untrusted_content": {"fields": ["messages[].body"], "note": UNTRUSTED_NOTE},
        }
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(
                    uri=uri, mime_type="application/json", text=json.dumps(body, ensure_ascii=False)
                )
            ]
        )

    async def subscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        uri = PREFIX + number_of(str(params.uri))
        self.subscribers.setdefault(uri, set()).add(ctx.session)
        return types.EmptyResult()

    async def unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        uri = PREFIX + number_of(str(params.uri))
        self.subscribers.get(uri, set()).discard(ctx.session)
        return types.EmptyResult()

    async def _changed(self, messages: list[StoredMessage]) -> None:
        for uri in sorted({PREFIX + m.peer for m in messages if m.peer}):
            await self.bus.publish(ResourceUpdated(uri=uri))
            for session in list(self.subscribers.get(uri, ())):
                try:
                    await session.send_resource_updated(uri)
                except Exception:  # a closed session: forget it
                    log.debug("dropping a subscriber of %s", uri)
                    self.subscribers[uri].discard(session)
