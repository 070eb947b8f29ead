"""Transactional email: the channel definition and its endpoints (send, price, history, export, test receipts)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ..call import Call
from ..channels import Channel, Record
from ..envelope import Reply, bad_request, missing_fields
from ..files import FILES_URL, decode_base64, export_handler
from ..inbox import sample_receipt_handler
from ..message_store import history_handler
from ..messaging import NO_CREDIT_MSG, Outcome, parse_schedule, queue
from ..pricing import EMAIL_PRICES, money, part_price, single_part
from ..routing import Route, route
from ..state import CURRENCY
from .email_addresses import EMAIL_PATTERN, is_verified

EMAIL = Channel(
    name="email",
    label="email",
    prices=EMAIL_PRICES,
    parts=single_part,
    sent_status="Delivered",
    check_sender=False,
    contact_field="email",
    queued_msg="Transactional email queued for delivery.",
    delivered_text="Delivered",
)
_TAG = re.compile(r"<[^>]+>")


def _people(body: Record, name: str, *, required: bool) -> list[Record]:
    """to/cc/bcc: a list of {email, name}; 400 when an address is malformed."""
    raw = body.get(name)
    if raw in (None, "", []):
        if required:
            raise missing_fields(name)
        return []
    if not isinstance(raw, list):
        raise bad_request(f"{name} must be an array of {{email, name}} objects.")
    people: list[Record] = []
    for index, person in enumerate(raw):
        email = person.get("email") if isinstance(person, dict) else None
        if not isinstance(email, str) or not EMAIL_PATTERN.fullmatch(email.strip()):
            raise bad_request(f"{name}[{index}].email is not a valid email address.", "INVALID_RECIPIENT")
        people.append({"email": email.strip(), "name": person.get("name") or ""})
    return people


def sender(call: Call, raw: Any) -> Record:
    """The allowed, verified email address a `from` object names; 404 unknown, 400 unverified."""
    if not isinstance(raw, dict) or raw.get("email_address_id") in (None, ""):
        raise missing_fields("from.email_address_id")
    address = call.state.email_addresses.lookup(str(raw["email_address_id"]))
    if not is_verified(call, address):
        raise bad_request(
            f"The email address {address['email_address']} is not verified: verify it before sending from it."
        )
    return address


def _attachments(raw: Any) -> list[Record]:
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list):
        raise bad_request("attachments must be an array.")
    shown: list[Record] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not item.get("filename"):
            raise missing_fields(f"attachments[{index}].filename")
        decode_base64(item.get("content"), f"attachments[{index}].content")
        shown.append(
            {
                "file_name": item["filename"],
                "content_type": item.get("type") or "application/octet-stream",
                "content_disposition": item.get("disposition") or "attachment",
                "content_id": item.get("content_id"),
                "_attachment_file_url": f"{FILES_URL}/{item['filename']}",
            }
        )
    return shown


def judge_email(call: Call) -> tuple[Outcome, int]:
    """The email of the request, priced per recipient (to, cc and bcc), with when it goes out; and its recipients."""
    body = call.json_object(required=True)
    missing = [name for name in ("to", "from", "body") if body.get(name) in (None, "", [])]
    if missing:
        raise missing_fields(*missing)
    to, cc, bcc = (_people(body, name, required=name == "to") for name in ("to", "cc", "bcc"))
    address = sender(call, body["from"])
    text = body["body"]
    if not isinstance(text, str) or not text.strip():
        raise bad_request("body must be a non-empty string.", "EMPTY_MESSAGE")
    send_at, ok = parse_schedule(body.get("schedule"), call.now)
    if not ok or send_at is None:
        raise bad_request(
            "The schedule specified is invalid. Use a unix timestamp e.g. 1429170372.", "INVALID_SCHEDULE"
        )
    count = len(to) + len(cc) + len(bcc)
    price = part_price(EMAIL.prices, None) * count
    answer: Record = {
        "date": call.now,
        "user_id": call.state.account["user_id"],
        "subaccount_id": call.state.account["_subaccount"]["subaccount_id"],
        "from_email_address_id": address["email_address_id"],
        "from_email": address["email_address"],
        "from_name": body["from"].get("name") or "",
        "to": to,
        "cc": cc,
        "bcc": bcc,
        "subject": body.get("subject") or "",
        "body": text,
        "body_plain_text": _TAG.sub("", text).strip(),
        "schedule": send_at,
        "message_id": call.state.new_message_id(),
        "status": "Queued" if send_at <= call.now else "Scheduled",
        "status_text": "Accepted for delivery",
        "soft_bounce_count": 0,
        "hard_bounce_count": 0,
        "price": money(price),
        "date_added": call.now,
        "custom_string": body.get("custom_string") or "",
        "_attachments": _attachments(body.get("attachments")),
    }
    return Outcome(answer, price, send_at), count


@route("POST", "/email/send")
def send_email(call: Call) -> Reply:
    outcome, _count = judge_email(call)
    shown = {**outcome.answer, "_currency": dict(CURRENCY)}
    if call.caller.no_credit:
        shown.update(status="INSUFFICIENT_CREDIT", price=money(Decimal(0)))
        return Reply(shown, NO_CREDIT_MSG, "INSUFFICIENT_CREDIT")
    queue(call, EMAIL, [outcome])
    return Reply(shown, EMAIL.queued_msg)


@route("POST", "/email/price")
def price_email(call: Call) -> Reply:
    """The send answer with the totals, nothing stored."""
    outcome, count = judge_email(call)
    totals = {"total_price": float(outcome.price), "total_count": count}
    return Reply({**outcome.answer, "status": "SUCCESS", **totals, "_currency": dict(CURRENCY)}, "Here's your price.")


def sample_email_receipt(call: Call, _channel: Channel) -> Record:
    return {
        "email": "test1@test.com",
        "message_id": f"{call.state.new_message_id()}@clicksend.com",
        "status": "Delivered",
        "timestamp": call.now,
    }


ROUTES: list[Route] = [
    send_email,
    price_email,
    Route("GET", "/email/history", history_handler(EMAIL)),
    Route("GET", "/email/history/export", export_handler("Email_history.csv")),
    Route("POST", "/email/receipts", sample_receipt_handler(EMAIL, sample_email_receipt)),
]
