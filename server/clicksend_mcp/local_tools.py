"""Tools the server answers itself (specs with `local:` instead of `http:`): their handlers, by name.

A handler gets the call (`LocalCall`: the dispatcher and the tenant the call runs for) and the checked arguments,
and returns a normalized result; it reaches ClickSend only through the call's read path (the tenant's backend), and
the ledger and the conversations only as that tenant sees them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import reply_tools, results

if TYPE_CHECKING:
    from .backends import BackendConfig
    from .compiler import CompiledTool
    from .conversations import Conversations
    from .dispatcher import Dispatcher, Progress
    from .ledger import Ledger


@dataclass(frozen=True)
class LocalCall:
    """One call of a local tool: the dispatcher, and what belongs to the call's tenant (the configured account, or in
    multi-tenant mode the one whose credentials the request brought): its backend, its ledger, its conversations."""

    dispatcher: Dispatcher
    backend: BackendConfig
    ledger: Ledger | None
    conversations: Conversations | None

    @property
    def all_tools(self) -> Mapping[str, CompiledTool]:
        return self.dispatcher.all_tools

    async def read(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return await self.dispatcher.read(name, arguments, self.backend)

    async def write(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return await self.dispatcher.write(name, arguments, self.backend)


Handler = Callable[[LocalCall, dict[str, Any]], Awaitable[dict[str, Any]]]
HISTORY_PAGES = 5  # pages of 100 searched for a tag when the history cannot filter by it


def _ledger_off() -> dict[str, Any]:
    return results.refused("REFUSED", "the send ledger is off on this server (CLICKSEND_MCP_DATABASE_URL=off)")


async def check_send_outcome(call: LocalCall, args: dict[str, Any]) -> dict[str, Any]:
    tag = str(args["tag"])
    ledger = call.ledger
    record = await ledger.find(tag) if ledger is not None else None
    tool_name = record.tool if record is not None else args.get("tool")
    if not tool_name:
        return results.refused(
            "NOT_FOUND",
            f"no send tagged {tag!r} is in this account's ledger; give `tool` (the send tool that was called) to "
            "look the tag up in ClickSend's history anyway",
        )
    send_tool = call.all_tools.get(str(tool_name))
    history = send_tool.guard.history_tool if send_tool is not None and send_tool.guard is not None else None
    if history is None or history not in call.all_tools:
        return results.invalid_arguments([f"tool: {tool_name!r} is not a send tool whose history can be searched"])
    found, problem = await _search_history(call, call.all_tools[history], tag)
    if problem is not None:
        return problem
    message_ids = [str(m["message_id"]) for m in found if m.get("message_id") is not None]
    sent = bool(found)
    updated = False
    # A send found in the history is sent, whatever the ledger thought; one not found is settled as not sent only
    # if its outcome was open (a failed or refused send stays as recorded).
    settles = sent and record is not None and record.outcome != "sent"
    settles = settles or (not sent and record is not None and record.outcome in ("unknown", "pending"))
    if ledger is not None and record is not None and settles:
        await ledger.resolve(record, sent, message_ids)
        updated = True
    data: dict[str, Any] = {
        "tag": tag,
        "sent": sent,
        "outcome": "sent" if sent else "not_sent",
        "message_ids": message_ids,
        "messages": [{k: m.get(k) for k in ("message_id", "status", "date", "schedule") if k in m} for m in found],
        "checked_with": history,
        "ledger_updated": updated,
        "ledger_outcome_before": record.outcome if record is not None else None,
    }
    if sent and call.conversations is not None:
        # Delivery receipts that reached this server (webhooks or polling) say how far the messages got.
        data["delivery"] = await call.conversations.delivery(message_ids)
    if not sent:
        data["note"] = (
            "ClickSend's history has no message with this tag: the send did not go out, and sending it again will "
            "not duplicate it."
        )
    return results.ok(data)


async def _search_history(
    call: LocalCall, history: CompiledTool, tag: str
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    accepted = {p.name for p in history.spec.params}
    query: dict[str, Any] = {"limit": 100} if "limit" in accepted else {}
    if "q" in accepted:
        query["q"] = f"custom_string:{tag}"
    found: list[dict[str, Any]] = []
    for page in range(1, HISTORY_PAGES + 1):
        if "page" in accepted:
            query["page"] = page
        result = await call.read(history.name, query)
        if not result["successful"]:
            return [], result
        data = result["data"] if isinstance(result["data"], dict) else {}
        listed = data.get("data")
        items: list[Any] = listed if isinstance(listed, list) else []
        found += [m for m in items if isinstance(m, dict) and m.get("custom_string") == tag]
        last = data.get("last_page")
        if "page" not in accepted or not items or not isinstance(last, int) or page >= last:
            break
    return found, None


async def get_send_ledger(call: LocalCall, args: dict[str, Any]) -> dict[str, Any]:
    ledger = call.ledger  # the calling tenant's: its rows, its spend, its budgets
    if ledger is None:
        return _ledger_off()
    summary = await ledger.summary(days=int(args.get("days", 7)), limit=int(args.get("limit", 20)))
    return results.ok(summary)


HANDLERS: dict[str, Handler] = {
    "check_send_outcome": check_send_outcome,
    "get_send_ledger": get_send_ledger,
    "wait_for_reply": reply_tools.wait_for_reply,
    "get_conversation": reply_tools.get_conversation,
    "set_up_reply_webhooks": reply_tools.set_up_reply_webhooks,
}


async def run_local(
    call: LocalCall,
    tool: CompiledTool,
    arguments: dict[str, Any],
    progress: Progress | None = None,
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    assert tool.spec.local is not None
    name = tool.spec.local.handler
    # A wait reports progress; a tool that changes the account shows its plan on a dry run.
    if name == "wait_for_reply":
        return await reply_tools.wait_for_reply(call, arguments, progress)
    if name == "set_up_reply_webhooks":
        return await reply_tools.set_up_reply_webhooks(call, arguments, dry_run=dry_run)
    return await HANDLERS[name](call, arguments)


__all__ = ["HANDLERS", "LocalCall", "run_local"]
