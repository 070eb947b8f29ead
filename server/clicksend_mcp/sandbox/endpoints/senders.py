"""Sender IDs (ClickSend's newer, UUID-keyed endpoints): alpha tags, default senders and compliant sender types."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from ..call import Call
from ..catalog import COMPLIANT_SENDER_TYPES
from ..collection import Collection, Record, public
from ..envelope import Reply, bad_request, missing_fields
from ..reference import COUNTRIES
from ..routing import Route, route
from ..state import SANDBOX_USER_ID

PUBLIC_BASE = "https://rest.clicksend.com/v3"
ACCOUNT_UUID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"clicksend-sandbox-account-{SANDBOX_USER_ID}"))
_ALPHA_TAG = re.compile(r"^(?=.*[A-Za-z+])[A-Za-z0-9+]{3,11}$")
SENDER_TYPES = ("alpha_tag", "10DLC", "tollfree", "own_number", "shortcode", "longcode", "shared_longcode")
DONE = "Operation completed successfully"


def iso(timestamp: int) -> str:
    """ClickSend's ISO 8601 UTC form for these endpoints, e.g. 2023-08-25 08:00:00+00:00."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(sep=" ")


def owner_fields() -> Record:
    return {"account_id": ACCOUNT_UUID, "workspace_id": ACCOUNT_UUID, "user_id": ACCOUNT_UUID}


def cursor_page(call: Call, items: list[Record], size_param: str, default: int, most: int) -> tuple[list[Record], Any]:
    """One page after the `offset` cursor (the id of the previous page's last item); and the next cursor or None."""
    raw = call.int_query(size_param)
    size = min(max(raw or default, 1), most)
    direction = (call.query.get("sort_direction") or "asc").lower()
    if direction not in ("asc", "desc"):
        raise bad_request("sort_direction must be asc or desc.")
    ordered = list(reversed(items)) if direction == "desc" else items
    offset = call.query.get("offset")
    start = next((i + 1 for i, item in enumerate(ordered) if item["id"] == offset), 0) if offset else 0
    chunk = ordered[start : start + size]
    more = start + size < len(ordered)
    return chunk, (chunk[-1]["id"] if more and chunk else None)


def page_url(call: Call, size_param: str, size: int, offset: Any) -> str:
    query = f"offset={offset}&" if offset else ""
    return f"{PUBLIC_BASE}{call.path}?{query}{size_param}={size}"


# --- alpha tags (answers without the envelope, as ClickSend's newest spec shows) ---------------------------------


def _alpha_tags(call: Call) -> Collection:
    return call.state.collection("alpha_tags")


@route("GET", "/alpha-tags")
def list_alpha_tags(call: Call) -> Reply:
    chunk, following = cursor_page(call, _alpha_tags(call).all(), "page_size", 10, 1000)
    size = min(max(call.int_query("page_size") or 10, 1), 1000)
    pagination = {
        "self": page_url(call, "page_size", size, call.query.get("offset")),
        "next": page_url(call, "page_size", size, following) if following else None,
        "page_size": size,
    }
    return Reply({"alpha_tags": chunk, "_metadata": {"pagination": pagination}}, DONE, bare=True)


@route("POST", "/alpha-tags")
def request_alpha_tag(call: Call) -> Reply:
    """A new request is PENDING: ClickSend reviews every alpha tag."""
    body = call.json_object(required=True)
    tag = body.get("alpha_tag")
    if tag in (None, ""):
        raise missing_fields("alpha_tag")
    if not isinstance(tag, str) or not _ALPHA_TAG.fullmatch(tag):
        raise bad_request("alpha_tag must be 3 to 11 letters, digits or +, with at least one that is not a digit.")
    if any(str(item["alpha_tag"]).lower() == tag.lower() for item in _alpha_tags(call)):
        raise bad_request(f"The alpha tag {tag} has already been requested.", "ALREADY_EXISTS")
    countries = body.get("countries") or []
    if countries and (countries != ["AU"] or not body.get("businesses")):
        raise bad_request("countries takes only AU, and then exactly one businesses entry is required.")
    record = _alpha_tags(call).add(
        {
            **owner_fields(),
            "alpha_tag": tag,
            "status": "PENDING",
            "reason": body.get("reason"),
            "countries": countries,
            "created_timestamp": iso(call.now),
            "updated_timestamp": iso(call.now),
            "__businesses": body.get("businesses"),
        }
    )
    return Reply(public(record), DONE, bare=True)


@route("GET", "/alpha-tags/{alpha_tag_id}")
def get_alpha_tag(call: Call) -> Reply:
    return Reply(public(_alpha_tags(call).lookup(call.params["alpha_tag_id"])), DONE, bare=True)


@route("DELETE", "/alpha-tags/{alpha_tag_id}")
def delete_alpha_tag(call: Call) -> Reply:
    record = _alpha_tags(call).lookup(call.params["alpha_tag_id"])
    _alpha_tags(call).remove(record["id"])
    return Reply(None, DONE, bare=True)


# --- default senders ---------------------------------------------------------------------------------------------


def _is_owned(call: Call, sender_type: str, sender_id: str) -> bool:
    if sender_type == "shared_longcode":
        return not sender_id
    if sender_type == "alpha_tag":
        return any(str(item["alpha_tag"]).lower() == sender_id.lower() for item in call.state.collection("alpha_tags"))
    if sender_type == "own_number":
        return any(item["phone_number"] == sender_id for item in call.state.collection("own_numbers"))
    return sender_id in call.state.collection("numbers") or f"+{sender_id}" in call.state.collection("numbers")


def _strategies(call: Call, raw: Any) -> list[Record]:
    """Exactly one strategy, naming a sender the account owns."""
    if raw in (None, "", []):
        raise missing_fields("default_sender_strategies")
    if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], dict):
        raise bad_request("default_sender_strategies takes exactly one strategy object.")
    strategy = raw[0]
    sender_type, sender_id = strategy.get("sender_type"), str(strategy.get("sender_id") or "")
    if sender_type not in SENDER_TYPES:
        raise bad_request(f"sender_type must be one of {', '.join(SENDER_TYPES)} (got {sender_type!r}).")
    if not _is_owned(call, sender_type, sender_id):
        raise bad_request(f"The {sender_type} sender {sender_id!r} is not one of your senders.")
    shown = {"sender_type": sender_type, "sender_id": sender_id, "priority": 1, "status": "ENABLED"}
    if strategy.get("sender_country_code"):
        shown["sender_country_code"] = strategy["sender_country_code"]
    shown["note"] = strategy.get("note")
    return [shown]


def _default_senders(call: Call) -> Collection:
    return call.state.collection("default_senders")


@route("GET", "/senders/default-senders")
def list_default_senders(call: Call) -> Reply:
    chunk, following = cursor_page(call, _default_senders(call).all(), "per_page", 10, 100)
    size = min(max(call.int_query("per_page") or 10, 1), 100)
    data = {
        "data": chunk,
        "per_page": size,
        "self_page_url": page_url(call, "per_page", size, call.query.get("offset")),
        "next_page_url": page_url(call, "per_page", size, following) if following else None,
    }
    return Reply(data, DONE)


@route("POST", "/senders/default-senders")
def create_default_sender(call: Call) -> Reply:
    body = call.json_object(required=True)
    missing = [n for n in ("country_code", "product_type", "default_sender_strategies") if body.get(n) in (None, "")]
    if missing:
        raise missing_fields(*missing)
    country, product = str(body["country_code"]).upper(), str(body["product_type"]).upper()
    if country not in COUNTRIES:
        raise bad_request(f"Unknown country_code {body['country_code']!r}.")
    if product != "SMS":
        raise bad_request("product_type must be SMS.")
    if any(item["country_code"] == country and item["product_type"] == product for item in _default_senders(call)):
        raise bad_request(f"A default {product} sender for {country} already exists.", "ALREADY_EXISTS")
    record = _default_senders(call).add(
        {
            "user_id": SANDBOX_USER_ID,
            "subaccount_id": call.state.account["_subaccount"]["subaccount_id"],
            "country_code": country,
            "product_type": product,
            "default_sender_strategies": _strategies(call, body["default_sender_strategies"]),
            "status": "ENABLED",
            "created_timestamp": iso(call.now),
            "updated_timestamp": iso(call.now),
        }
    )
    return Reply(record, DONE)


@route("GET", "/senders/default-senders/{default_sender_id}")
def get_default_sender(call: Call) -> Reply:
    return Reply(_default_senders(call).lookup(call.params["default_sender_id"]), DONE)


@route("PATCH", "/senders/default-senders/{default_sender_id}")
def update_default_sender(call: Call) -> Reply:
    record = _default_senders(call).lookup(call.params["default_sender_id"])
    strategies = _strategies(call, call.json_object(required=True).get("default_sender_strategies"))
    record.update(default_sender_strategies=strategies, updated_timestamp=iso(call.now))
    return Reply(record, DONE)


@route("DELETE", "/senders/default-senders/{default_sender_id}")
def delete_default_sender(call: Call) -> Reply:
    record = _default_senders(call).lookup(call.params["default_sender_id"])
    _default_senders(call).remove(record["id"])
    return Reply(None, DONE)


@route("GET", "/senders/compliant-sender-types")
def compliant_sender_types(call: Call) -> Reply:
    product = (call.query.get("filter[product_type]") or "").upper()
    if not product:
        raise missing_fields("filter[product_type]")
    if product != "SMS":
        raise bad_request("filter[product_type] must be SMS.")
    wanted = {code.strip().upper() for code in (call.query.get("filter[country_code][]") or "").split(",") if code}
    rows = [dict(row) for row in COMPLIANT_SENDER_TYPES if not wanted or row["recipient_country_code"] in wanted]
    return Reply({"data": rows}, "Compliant sender types retrieved successfully")


ROUTES: list[Route] = [
    list_alpha_tags,
    request_alpha_tag,
    get_alpha_tag,
    delete_alpha_tag,
    list_default_senders,
    create_default_sender,
    get_default_sender,
    update_default_sender,
    delete_default_sender,
    compliant_sender_types,
]
