"""Direct mail: campaigns of printed pieces to whole delivery areas (send, price, list) and the area search."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..call import Call
from ..catalog import DIRECT_MAIL_LOCATIONS, direct_mail_location
from ..collection import Record
from ..envelope import Reply, bad_request, missing_fields, not_found
from ..listing import listing, page_of
from ..messaging import NO_CREDIT_MSG, parse_schedule
from ..post_messaging import artwork
from ..pricing import DIRECT_MAIL_PRICES, money
from ..routing import Route, route
from ..state import CURRENCY
from .campaigns import campaign_status
from .post import POSTCARD_PRODUCT

MSG = "New direct mail campaign created."


def _areas(raw: Any, size: str) -> list[Record]:
    """[{location_id, quantity}] -> priced areas; 404 for an unknown location."""
    if raw in (None, "", []):
        raise missing_fields("areas")
    if not isinstance(raw, list):
        raise bad_request("areas must be an array of {location_id, quantity}.")
    areas: list[Record] = []
    for index, area in enumerate(raw):
        location_id = area.get("location_id") if isinstance(area, dict) else None
        quantity = area.get("quantity") if isinstance(area, dict) else None
        if not isinstance(location_id, int) or not isinstance(quantity, int) or quantity < 1:
            raise bad_request(f"areas[{index}] needs an integer location_id and a quantity of at least 1.")
        if location_id not in DIRECT_MAIL_LOCATIONS:
            raise not_found(f"Location #{location_id} not found.")
        price = DIRECT_MAIL_PRICES[size] * quantity
        areas.append({**direct_mail_location(location_id), "quantity": quantity, "price": float(price)})
    return areas


def _campaign(call: Call) -> tuple[Record, Decimal, int]:
    body = call.json_object(required=True)
    missing = [name for name in ("name", "size", "file_urls", "areas") if body.get(name) in (None, "", [])]
    if missing:
        raise missing_fields(*missing)
    size = str(body["size"]).upper()
    if size not in DIRECT_MAIL_PRICES:
        raise bad_request(f"size must be one of {', '.join(DIRECT_MAIL_PRICES)} (got {body['size']!r}).")
    file_url = artwork(POSTCARD_PRODUCT, body)
    areas = _areas(body["areas"], size)
    send_at, ok = parse_schedule(body.get("schedule"), call.now)
    if not ok or send_at is None:
        raise bad_request(
            "The schedule specified is invalid. Use a unix timestamp e.g. 1429170372.", "INVALID_SCHEDULE"
        )
    record = {
        "name": body["name"],
        "user_id": call.state.account["user_id"],
        "size": size,
        "file_name": file_url.rsplit("/", 1)[-1],
        "schedule": send_at,
        "status": "Queued",
        "custom_string": body.get("custom_string") or "",
        "source": body.get("source") or ".rest.v3",
        "date_added": call.now,
        "message_id": call.state.new_message_id(),
        "_areas": areas,
        "_total_quantity": sum(area["quantity"] for area in areas),
    }
    total = sum((Decimal(str(area["price"])) for area in areas), Decimal(0))
    return record, total, record["_total_quantity"]


def view(call: Call, record: Record) -> Record:
    status = campaign_status(record, call.now)
    areas = [{**area, "campaign_id": record.get("campaign_id"), "status": status} for area in record["_areas"]]
    return {**record, "status": status, "_areas": areas}


def _answer(call: Call, record: Record, total: Decimal, quantity: int) -> Record:
    return {"data": view(call, record), "total_price": money(total), "total_quantity": quantity, "currency": CURRENCY}


@route("POST", "/post/direct-mail/campaigns/price")
def price_campaign(call: Call) -> Reply:
    record, total, quantity = _campaign(call)
    return Reply(_answer(call, {**record, "campaign_id": None}, total, quantity), "Here is your price.")


@route("POST", "/post/direct-mail/campaigns/send")
def send_campaign(call: Call) -> Reply:
    record, total, quantity = _campaign(call)
    if call.caller.no_credit:
        return Reply(None, NO_CREDIT_MSG, "INSUFFICIENT_CREDIT")
    stored = call.state.collection("direct_mail_campaigns").add(record)
    return Reply(_answer(call, stored, total, quantity), MSG)


@route("GET", "/post/direct-mail/campaigns")
def list_campaigns(call: Call) -> Reply:
    records = [view(call, record) for record in reversed(call.state.collection("direct_mail_campaigns").all())]
    return Reply(listing(call, records, date_field="date_added"), "Here are your direct mail campaigns.")


@route("GET", "/post/direct-mail/locations/search/{country}")
def search_locations(call: Call) -> Reply:
    """`q` is a post code or place name (a plain keyword), matched within one country."""
    country = call.params["country"].upper()
    keyword = (call.query.get("q") or "").strip().lower()
    if not keyword:
        raise missing_fields("q")
    found = [
        direct_mail_location(location_id)
        for location_id, (code, place, postal, *_rest) in DIRECT_MAIL_LOCATIONS.items()
        if code == country and (keyword in place.lower() or postal.lower().startswith(keyword))
    ]
    return Reply(page_of(call, found), "Here's your result.")


ROUTES: list[Route] = [price_campaign, send_campaign, list_campaigns, search_locations]
