"""Email campaigns to a contact list: send, price, list, get, update, cancel, per-recipient history and export."""

from __future__ import annotations

import re
from decimal import Decimal

from ..call import Call
from ..collection import Collection, Record, public
from ..envelope import Reply, bad_request, missing_fields
from ..files import export_handler
from ..listing import listing
from ..messaging import NO_CREDIT_MSG, parse_schedule
from ..pricing import EMAIL_PRICES, money, part_price
from ..routing import Route, route
from ..state import CURRENCY
from .campaigns import CANCELLED, campaign_status
from .email import sender

REQUIRED = ("name", "subject", "body", "from_email_address_id", "from_name", "list_id")
FIELDS = (*REQUIRED, "template_id", "schedule", "custom_string")
RECIPIENTS = "__recipients"
_TAG = re.compile(r"<[^>]+>")


def _items(call: Call) -> Collection:
    return call.state.collection("email_campaigns")


def _int(value: object, name: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_request(f"{name} must be an integer (got {value!r}).")
    return value


def _fields(call: Call) -> Record:
    """The campaign of the request: list known, sender verified, template known, schedule valid."""
    body = call.json_object(required=True)
    missing = [name for name in REQUIRED if body.get(name) in (None, "")]
    if missing:
        raise missing_fields(*missing)
    fields = {name: body[name] for name in FIELDS if name in body}
    fields["list_id"] = _int(fields["list_id"], "list_id")
    call.state.lists.require(fields["list_id"])
    address = sender(call, {"email_address_id": fields["from_email_address_id"]})
    fields["from_email_address_id"] = address["email_address_id"]
    if fields.get("template_id") not in (None, ""):
        template_id = _int(fields["template_id"], "template_id")
        call.state.collection("email_templates").require(template_id)
        fields["template_id"] = template_id
    send_at, ok = parse_schedule(fields.get("schedule"), call.now)
    if not ok or send_at is None:
        raise bad_request(
            "The schedule specified is invalid. Use a unix timestamp e.g. 1429170372.", "INVALID_SCHEDULE"
        )
    fields["schedule"] = send_at
    return fields


def _recipients(call: Call, fields: Record) -> list[Record]:
    return [
        {
            "contact_id": contact["contact_id"],
            "to_name": " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p) or None,
            "to_address": contact["email"],
            "message_id": call.state.new_message_id(),
        }
        for contact in call.state.contacts.where(lambda c: c["list_id"] == fields["list_id"] and bool(c.get("email")))
    ]


def _price(count: int) -> Decimal:
    return part_price(EMAIL_PRICES, None) * count


def _record(call: Call, fields: Record, recipients: list[Record]) -> Record:
    return {
        "name": fields["name"],
        "user_id": call.state.account["user_id"],
        "subaccount_id": call.state.account["_subaccount"]["subaccount_id"],
        "subject": fields["subject"],
        "list_id": fields["list_id"],
        "from_email_address_id": fields["from_email_address_id"],
        "from_name": fields["from_name"],
        "template_id": fields.get("template_id"),
        "schedule": fields["schedule"],
        "status": "Queued",
        "custom_string": fields.get("custom_string") or "",
        "body": fields["body"],
        "body_plain_text": _TAG.sub("", str(fields["body"])).strip(),
        RECIPIENTS: recipients,
    }


def view(call: Call, record: Record) -> Record:
    status = campaign_status(record, call.now)
    sent = len(record[RECIPIENTS]) if status == "Sent" else 0
    counts = ("open_count", "click_count", "hard_bounce_count", "soft_bounce_count", "abuse_count", "unsubscribe_count")
    return {**public(record), "status": status, "send_count": sent, **dict.fromkeys(counts, 0)}


def _totals(count: int) -> Record:
    return {
        "total_count": count,
        "total_price": money(_price(count)),
        "queued_count": count,
        "_currency": dict(CURRENCY),
    }


@route("POST", "/email-campaigns/send")
def send_campaign(call: Call) -> Reply:
    fields = _fields(call)
    recipients = _recipients(call, fields)
    if call.caller.no_credit:
        return Reply(None, NO_CREDIT_MSG, "INSUFFICIENT_CREDIT")
    record = _items(call).add({**_record(call, fields, recipients), "date_added": call.now})
    return Reply({**_totals(len(recipients)), "data": view(call, record)}, "Email campaign has been created.")


@route("POST", "/email-campaigns/price")
def price_campaign(call: Call) -> Reply:
    fields = _fields(call)
    recipients = _recipients(call, fields)
    shown = {name: fields.get(name) for name in ("name", "subject", "from_email_address_id", "from_name", "body")}
    shown["list_id"] = fields["list_id"]
    return Reply({**_totals(len(recipients)), "data": shown}, "Total price for email campaign.")


@route("GET", "/email-campaigns")
def list_campaigns(call: Call) -> Reply:
    records = [view(call, record) for record in reversed(_items(call).all())]
    return Reply(listing(call, records, date_field="date_added"), "Here are your email campaigns")


@route("GET", "/email-campaigns/{email_campaign_id}")
def get_campaign(call: Call) -> Reply:
    return Reply(view(call, _items(call).lookup(call.params["email_campaign_id"])), "Here is your email campaign.")


def _scheduled(call: Call, action: str) -> Record:
    record = _items(call).lookup(call.params["email_campaign_id"])
    status = campaign_status(record, call.now)
    if status != "Scheduled":
        raise bad_request(f"Email campaign #{record['email_campaign_id']} cannot be {action}: its status is {status}.")
    return record


@route("PUT", "/email-campaigns/{email_campaign_id}")
def update_campaign(call: Call) -> Reply:
    record = _scheduled(call, "updated")
    fields = _fields(call)
    record.update(_record(call, fields, _recipients(call, fields)))
    return Reply(view(call, record), "Email campaign has been updated.")


@route("PUT", "/email-campaigns/{email_campaign_id}/cancel")
def cancel_campaign(call: Call) -> Reply:
    record = _scheduled(call, "cancelled")
    record["status"] = CANCELLED
    return Reply(view(call, record), "Email campaign has been cancelled.")


@route("GET", "/email-campaigns/{email_campaign_id}/history")
def campaign_history(call: Call) -> Reply:
    """One row per recipient; delivered once the campaign is sent."""
    record = _items(call).lookup(call.params["email_campaign_id"])
    status = campaign_status(record, call.now)
    address = call.state.email_addresses.get(record["from_email_address_id"])
    rows = [
        {
            "email_campaign_id": record["email_campaign_id"],
            "from_name": record["from_name"],
            "from_address": address["email_address"] if address else None,
            **recipient,
            "subject": record["subject"],
            "processed_at": record["schedule"] if status == "Sent" else None,
            "status": "Delivered" if status == "Sent" else status,
            "open_count": 0,
            "click_count": 0,
            "hard_bounce_count": 0,
            "soft_bounce_count": 0,
        }
        for recipient in record[RECIPIENTS]
    ]
    return Reply(listing(call, rows, date_field="processed_at"), "Here is your result.")


def _exists(call: Call) -> Record:
    return _items(call).lookup(call.params["email_campaign_id"])


ROUTES: list[Route] = [
    send_campaign,
    price_campaign,
    list_campaigns,
    get_campaign,
    update_campaign,
    cancel_campaign,
    campaign_history,
    Route("GET", "/email-campaigns/{email_campaign_id}/history/export", export_handler("email_campaign.csv", _exists)),
]
