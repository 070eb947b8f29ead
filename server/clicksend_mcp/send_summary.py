"""What a person sees before confirming a send: recipients, sender, message and quoted cost, as plain text.

Shared by MCP elicitation (confirmation.py) and the command line's y/N question (cli.py), so both show the same
summary; no MCP here, so the command line need not import it.
"""

from __future__ import annotations

import json
from typing import Any

from .dispatcher import Dispatcher, PreparedCall


async def send_summary(dispatcher: Dispatcher, prepared: PreparedCall) -> str:
    """What the person is shown before a send: recipients, sender, message and ClickSend's quoted cost."""
    if (
        prepared.send is None or prepared.tool.spec.api != "clicksend"
    ):  # not a ClickSend send (spec `confirm`, gateways)
        return dispatcher.confirmation_text(prepared)
    tool, args = prepared.tool, prepared.arguments
    guard = tool.guard
    if guard is not None and guard.kind == "spend":
        request = prepared.request.describe() if prepared.request is not None else {}
        spend = [
            f"Confirm: {tool.spec.title} through ClickSend. This costs money: {guard.cost}",
            f"Request: {request.get('method', '')} {request.get('path', '')}".rstrip(),
            f"Details: {json.dumps(args, ensure_ascii=False, sort_keys=True)[:500]}",
        ]
        return dispatcher.redactor.text("\n".join(spend))
    lines = [f"Confirm: {tool.spec.title} ({tool.spec.sends}) through ClickSend."]
    recipients = [r.value for r in prepared.send.recipients] if prepared.send else []
    shown = ", ".join(recipients[:10]) + (f" and {len(recipients) - 10} more" if len(recipients) > 10 else "")
    total = sum(r.count for r in prepared.send.recipients) if prepared.send else 0
    lines.append(f"To: {shown} ({total} recipient{'' if total == 1 else 's'})")
    senders = sorted(
        {str(m.get("from")) for m in _items(args) if m.get("from")}
        | ({str(args["from"])} if isinstance(args.get("from"), str) else set())
    )
    lines.append(f"From: {', '.join(senders) if senders else 'the account default sender'}")
    bodies = [str(m.get("body")) for m in _items(args) if m.get("body")] or (
        [str(args["body"])] if args.get("body") else []
    )
    if bodies:
        body = bodies[0] if len(bodies[0]) <= 300 else bodies[0][:300] + "..."
        lines.append(f"Message: {body}" + (f" (and {len(bodies) - 1} more messages)" if len(bodies) > 1 else ""))
    quoted = await dispatcher.quote(prepared)
    if quoted and quoted.get("successful") and isinstance(quoted.get("data"), dict):
        price = quoted["data"].get("total_price")
        currency = (quoted["data"].get("_currency") or {}).get("currency_name_short", "")
        if price is not None:
            lines.append(f"Quoted cost: {price} {currency}".rstrip())
    else:
        lines.append("Quoted cost: not available")
    return dispatcher.redactor.text("\n".join(lines))  # the summary leaves the server like a result


def _items(args: dict[str, Any]) -> list[dict[str, Any]]:
    items = args.get("messages")
    return [m for m in items if isinstance(m, dict)] if isinstance(items, list) else []
