"""`clicksend-mcp ledger`: the send ledger of the configured account as a table for people (or JSON); on a
multi-tenant server, every tenant's rows, each with its tenant's short fingerprint."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from .ledger import EVERY_TENANT

if TYPE_CHECKING:
    from .dispatcher import Dispatcher


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return lines


def render(summary: dict[str, Any]) -> str:
    limits = summary["limits"]
    shown = ", ".join(f"{k}={v}" for k, v in limits.items() if v is not None and k != "budget_periods") or "none"
    lines = [
        f"ledger:  {summary['database']}",
        f"tenant:  {summary['tenant']}",
        f"limits:  {shown}",
    ]
    for period, figures in summary["budget"].items():
        left = f", {figures['remaining']} left of {figures['limit']}" if figures["limit"] is not None else ""
        lines.append(f"this {period:<5}  spent {figures['spent']}{left} (resets {figures['resets_at']})")
    if not summary["budget"]:
        lines.append("budgets: each tenant has its own (the limits above apply to every tenant separately)")
    # A multi-tenant ledger's rows name their tenant; the first column says whose they are.
    tenant: list[str] = ["tenant"] if summary["tenant"] == EVERY_TENANT else []
    lines += ["", "spend by day (UTC)"]
    days = [
        [
            *([d["tenant"]] if tenant else []),
            d["day"],
            str(d["sends"]),
            str(d["recipients"]),
            d["spent"],
            d["currency"] or "",
        ]
        for d in summary["spend_by_day"]
    ]
    header = [*tenant, "day", "sends", "recipients", "spent", "currency"]
    lines += _table(days, header) if days else ["  (no sends)"]
    lines += ["", "recent sends"]
    sends = [
        [
            *([s["tenant"]] if tenant else []),
            s["at"],
            s["tool"].removeprefix("CLICKSEND_"),
            s["outcome"],
            str(s["recipients"]),
            f"{s['cost'] or '-'} {s['currency'] or ''}".strip(),
            s["tag"] or "-",
            str(len(s["message_ids"])),
        ]
        for s in summary["recent_sends"]
    ]
    header = [*tenant, "at", "tool", "outcome", "to", "cost", "tag", "ids"]
    lines += _table(sends, header) if sends else ["  (no sends)"]
    return "\n".join(lines) + "\n"


async def print_ledger(dispatcher: Dispatcher, days: int, limit: int, as_json: bool) -> int:
    try:
        if dispatcher.ledger is None:
            print("clicksend-mcp: the send ledger is off (CLICKSEND_MCP_DATABASE_URL=off)", file=sys.stderr)
            return 2
        from .cli import start

        if not await start(dispatcher):
            return 2
        summary = await dispatcher.ledger.summary(
            days=max(1, days), limit=max(1, limit), every_tenant=dispatcher.tenants is not None
        )
    finally:
        await dispatcher.aclose()
    sys.stdout.write(json.dumps(summary, indent=2) + "\n" if as_json else render(summary))
    return 0
