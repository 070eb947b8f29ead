"""Statistics computed from what the sandbox has sent: SMS and voice per day, and monthly usage per subaccount."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from ..call import Call
from ..collection import Record
from ..envelope import Reply, bad_request
from ..message_store import CANCELLED, SCHEDULED
from ..pricing import EMAIL_PRICES, part_price
from ..routing import Route, route
from ..state import CURRENCY
from .campaigns import campaign_status

DAY = 86_400
DAYS = 30
# Usage channel -> where its messages are stored.
USAGE_CHANNELS: dict[str, str] = {
    "sms": "sms",
    "mms": "mms",
    "voice": "voice",
    "fax": "fax",
    "post": "letters",
    "email": "email_campaigns",
    "email_transactional": "email",
    "postcards": "postcards",
}


def price_of(record: Record) -> Decimal:
    raw = record.get("message_price") or record.get("post_price") or record.get("price") or 0
    return Decimal(str(raw))


def _sent(records: dict[str, Record]) -> list[Record]:
    return [record for record in records.values() if record.get("status") not in (SCHEDULED, CANCELLED)]


def _block(count: int, price: Decimal) -> Record:
    return {"count": count, "price": float(price)}


def _daily(call: Call, channel: str, *, inbound: bool) -> Record:
    today = call.now - call.now % DAY
    days = [today - offset * DAY for offset in range(DAYS - 1, -1, -1)]
    outbound: defaultdict[int, list[Record]] = defaultdict(list)
    for record in _sent(call.state.messages.get(channel, {})):
        outbound[int(record["date"]) - int(record["date"]) % DAY].append(record)
    replies: defaultdict[int, int] = defaultdict(int)
    for item in call.state.inbound.get(channel, []):
        replies[int(item["timestamp"]) - int(item["timestamp"]) % DAY] += 1
    stats: list[Record] = []
    for day in days:
        row: Record = {
            "date": day,
            "outbound": _block(len(outbound[day]), sum(map(price_of, outbound[day]), Decimal(0))),
        }
        if inbound:
            row["inbound"] = _block(replies[day], Decimal(0))
        row["bounced"] = _block(0, Decimal(0))
        stats.append(row)
    total: Record = {
        name: _block(
            sum(row[name]["count"] for row in stats),
            sum((Decimal(str(row[name]["price"])) for row in stats), Decimal(0)),
        )
        for name in stats[0]
        if name != "date"
    }
    return {"total": total, "stats": stats, "_currency": dict(CURRENCY)}


@route("GET", "/statistics/sms")
def sms_statistics(call: Call) -> Reply:
    return Reply(_daily(call, "sms", inbound=True), "Here are your data.")


@route("GET", "/statistics/voice")
def voice_statistics(call: Call) -> Reply:
    return Reply(_daily(call, "voice", inbound=False), "Here are your statistics.")


def _month(call: Call) -> tuple[int, int]:
    year, month = call.params["year"], call.params["month"]
    if not (year.isdigit() and len(year) == 4 and month.isdigit() and 1 <= int(month) <= 12):
        raise bad_request(f"Use a four-digit year and a month from 1 to 12 (got {year}/{month}).")
    start = datetime(int(year), int(month), 1, tzinfo=UTC)
    end = datetime(int(year) + int(month) // 12, int(month) % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp()), int(end.timestamp())


def _usage_rows(call: Call, records: list[Record]) -> list[Record]:
    groups: defaultdict[int, list[Record]] = defaultdict(list)
    for record in records:
        groups[int(record.get("subaccount_id") or 0)].append(record)
    rows: list[Record] = []
    for subaccount_id, items in groups.items():
        subaccount = call.state.subaccounts.get(subaccount_id)
        rows.append(
            {
                "subaccount_id": subaccount_id,
                "username": subaccount["api_username"] if subaccount else None,
                "total_count": len(items),
                "total_price": float(sum(map(price_of, items), Decimal(0))),
            }
        )
    return rows


def _sent_email_campaigns(call: Call) -> list[Record]:
    """Each sent email campaign as one usage record, priced per recipient."""
    per_email = part_price(EMAIL_PRICES, None)
    return [
        {**campaign, "date": campaign["schedule"], "price": per_email * len(campaign.get("__recipients", []))}
        for campaign in call.state.collection("email_campaigns")
        if campaign_status(campaign, call.now) == "Sent"
    ]


@route("GET", "/account/usage/{year}/{month}/subaccount")
def usage_by_subaccount(call: Call) -> Reply:
    start, end = _month(call)
    usage: Record = {}
    for name, store in USAGE_CHANNELS.items():
        if store == "email_campaigns":
            records = _sent_email_campaigns(call)
        else:
            records = _sent(call.state.messages.get(store, {}))
        in_month = [record for record in records if start <= int(record.get("date") or record["date_added"]) < end]
        usage[name] = _usage_rows(call, in_month)
        usage[f"{name}_total"] = _block(len(in_month), sum(map(price_of, in_month), Decimal(0)))
    return Reply({**usage, "_currency": dict(CURRENCY)}, "Here is your usage for this month.")


ROUTES: list[Route] = [sms_statistics, voice_statistics, usage_by_subaccount]
