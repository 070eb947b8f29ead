"""What a person sees before confirming a send: recipients, sender, message and quoted cost, as plain text.

Shared by MCP elicitation (confirmation.py) and the command line's y/N question (cli.py), so both show the same
summary; no MCP here, so the command line need not import it.
"""

from __future__ import annotations

from typing import Any

from .dispatcher import Dispatcher, PreparedCall


async def send_summary(dispatcher: Dispatcher, prepared: PreparedCall) -> str:
    """What the person is shown before a send: recipients, sender, message and ClickSend's quoted cost."""
    if (
        prepared.send is None or prepared.tool.spec.api != "clicksend"
    ):  # not a ClickSend send (spec `confirm`, gateways)
        return dispatcher.confirmation_text(prepared)
    tool, args = prepared.tool, prepared.arguments
    lines = [f"Confirm: {tool.spec.title} ({tool.spec.sends}) through ClickSend."]
    recipients = [r.value for r in prepared.send.recipients] if prepared.send else []
    shown = ", ".join(recipients[:10]) + (f" and {len(recipients) - 10} more" if len(recipients) > 10 else "")
    lines.append(f"To: {shown}")
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
