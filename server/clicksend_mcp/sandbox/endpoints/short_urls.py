"""URL shortening: click statistics for the links in a sent SMS and per-recipient tracking of one link."""

from __future__ import annotations

import hashlib
import re

from ..call import Call
from ..collection import Record
from ..envelope import Reply, bad_request, not_found
from ..routing import Route, route

SOURCES = ("quick_sms",)
_URL = re.compile(r"https?://[^\s<>\"']+")
_LONG_URL_ID = re.compile(r"^(?P<source>[a-z_]+)-(?P<message_id>[0-9a-fA-F-]{36})-(?P<digest>[0-9a-f]{32})$")


def long_url_id(source: str, message_id: str, url: str) -> str:
    digest = hashlib.md5(url.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{source}-{message_id.lower()}-{digest}"


def _message(call: Call, message_id: str) -> Record:
    record = call.state.messages.get("sms", {}).get(message_id.upper())
    if record is None:
        raise not_found(f"SMS message {message_id} not found.")
    return record


def _urls(record: Record) -> list[str]:
    return list(dict.fromkeys(_URL.findall(str(record.get("body") or ""))))


@route("GET", "/short-url/statistics/{source}/{source_id}")
def link_statistics(call: Call) -> Reply:
    """One entry per link in the message; nobody opens links in the sandbox, so every recipient is unopened."""
    source = call.params["source"]
    if source not in SOURCES:
        raise bad_request(f"source must be one of {', '.join(SOURCES)} (got {source!r}).")
    record = _message(call, call.params["source_id"])
    breakdowns: Record = {name: [] for name in ("device", "os", "browser", "country", "region")}
    stats = [
        {
            "long_url_id": long_url_id(source, record["message_id"], url),
            "links": {"total": 1, "opened_unique": 0, "opened_total": 0, "unopened": 1},
            **breakdowns,
        }
        for url in _urls(record)
    ]
    return Reply(stats, "Here are your statistics.")


@route("GET", "/short-url/tracking/{long_url_id}")
def link_tracking(call: Call) -> Reply:
    """The recipient of the message the link was in (answered without the envelope, like ClickSend)."""
    found = _LONG_URL_ID.match(call.params["long_url_id"])
    if found is None or found["source"] not in SOURCES:
        raise not_found(f"Short URL {call.params['long_url_id']} not found.")
    record = _message(call, found["message_id"])
    if found.group(0) not in {long_url_id(found["source"], record["message_id"], url) for url in _urls(record)}:
        raise not_found(f"Short URL {call.params['long_url_id']} not found.")
    contact = call.state.contacts.get(record.get("contact_id") or 0) or {}
    row = {
        "open_count": 0,
        "date_opened": None,
        "user_geo_country": None,
        "user_geo_region": None,
        "user_device": None,
        "user_browser": None,
        "user_os": None,
        "contact": {
            "contact_id": str(contact["contact_id"]) if contact else None,
            "first_name": contact.get("first_name"),
            "last_name": contact.get("last_name"),
            "phone_number": record.get("to"),
        },
    }
    limit = min(max(call.int_query("limit") or 100, 1), 100)
    page = {"total": 1, "per_page": limit, "current_page_size": 1, "prev_page_url": None, "next_page_url": None}
    return Reply({**page, "data": [row]}, "Here is your result.", bare=True)


ROUTES: list[Route] = [link_statistics, link_tracking]
