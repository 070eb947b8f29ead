"""Asking the person before a send (--confirm-sends): the round trip in both protocol eras, and what it shows.

Handshake era: inline elicitation. 2026-07-28 era: an `input_required` answer whose request state binds the
confirmation to exactly this tool and these arguments (the SDK's boundary seals that state). Declined, cancelled or
unaskable means not sent.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.request_state import RequestStateBoundary, RequestStateSecurity
from mcp.shared.exceptions import MCPError, NoBackChannelError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from .dispatcher import Dispatcher, PreparedCall, Progress
from .send_summary import send_summary

CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "confirm": {"type": "boolean", "title": "Send it", "description": "Tick to send; leave it to send nothing."}
    },
    "required": ["confirm"],
}


def seal_request_state(server: Server[Any], audience: str) -> None:
    """Seal the multi-round-trip state of the 2026-07-28 era (the confirmation's binding) so clients cannot forge it.

    The key is per process: the second leg of a confirmation must reach the same process as the first."""
    server.middleware.append(RequestStateBoundary(RequestStateSecurity.ephemeral(), default_audience=audience))


def call_result(result: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(result, ensure_ascii=False, separators=(",", ":")))],
        structured_content=result,
        is_error=not result.get("successful", False),
    )


def progress_reporter(ctx: ServerRequestContext[Any, Any]) -> Progress:
    async def report(progress: float, total: float | None, message: str | None) -> None:
        await ctx.session.report_progress(progress, total, message)

    return report


class Confirmation:
    """Runs a prepared call, asking the person first when the server confirms sends and the call is a send."""

    KEY = "confirm_send"

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def run(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams, prepared: PreparedCall
    ) -> types.CallToolResult | types.InputRequiredResult:
        progress = progress_reporter(ctx)
        if not (self.dispatcher.policy.confirm_sends and prepared.needs_confirmation):
            return call_result(await self.dispatcher.execute(prepared, progress))
        fingerprint = fingerprint_call(params.name, params.arguments)
        modern = ctx.protocol_version in MODERN_PROTOCOL_VERSIONS
        answered = (params.input_responses or {}).get(self.KEY) if modern else None
        if answered is not None:
            if params.request_state != fingerprint:
                return call_result(self._refuse(prepared, "the confirmation does not match this send"))
            return await self._decide(
                prepared, getattr(answered, "action", None), getattr(answered, "content", None), progress
            )
        if not _can_elicit(ctx):
            return call_result(
                self._refuse(
                    prepared,
                    "this server asks the person to confirm every send (--confirm-sends), and this client cannot "
                    "ask them (it does not support elicitation)",
                )
            )
        message = await send_summary(self.dispatcher, prepared)
        if modern:
            request = types.ElicitRequest(
                params=types.ElicitRequestFormParams(message=message, requested_schema=CONFIRM_SCHEMA)
            )
            return types.InputRequiredResult(input_requests={self.KEY: request}, request_state=fingerprint)
        try:
            answer = await ctx.session.elicit_form(message, CONFIRM_SCHEMA, related_request_id=ctx.request_id)
        except (MCPError, NoBackChannelError):
            return call_result(self._refuse(prepared, "the person could not be asked to confirm this send"))
        return await self._decide(prepared, answer.action, answer.content, progress)

    async def _decide(
        self, prepared: PreparedCall, action: str | None, content: Any, progress: Progress | None
    ) -> types.CallToolResult:
        if action == "accept" and isinstance(content, dict) and content.get("confirm") is True:
            return call_result(await self.dispatcher.execute(prepared, progress))
        what = "send" if prepared.tool.sends else "call"
        why = "the person cancelled the confirmation" if action == "cancel" else f"the person declined this {what}"
        return call_result(self._refuse(prepared, why))

    def _refuse(self, prepared: PreparedCall, why: str) -> dict[str, Any]:
        return self.dispatcher.finish_declined(prepared, "NOT_CONFIRMED", why)


def fingerprint_call(name: str, arguments: dict[str, Any] | None) -> str:
    """Binds a confirmation to exactly this tool and these arguments."""
    body = json.dumps({"name": name, "arguments": arguments or {}}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def _can_elicit(ctx: ServerRequestContext[Any, Any]) -> bool:
    caps = ctx.session.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    # An empty elicitation capability means form mode (the spec's backwards-compatible reading).
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)
