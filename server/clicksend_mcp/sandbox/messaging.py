"""Shared send and price logic for every channel: recipients, per-message statuses, parts, prices, storing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .call import Call
from .channels import Channel, Record, valid_sender
from .envelope import Reply, bad_request, missing_fields
from .message_store import deliver, history_record
from .pricing import money, part_price
from .reference import TEST_NUMBERS, country_of, is_e164
from .routing import Handler
from .state import CURRENCY, SANDBOX_SENDER

MAX_RECIPIENTS = 1000
SCHEDULE_GRACE = 86_400  # a schedule up to a day in the past sends now; older is INVALID_SCHEDULE
PRICE_MSG = "Here is some pricing."
NO_CREDIT_MSG = "You have reached the end of your message credits. You will need to purchase more message credits."
_CONTACT_PLACEHOLDERS = (
    "first_name",
    "last_name",
    "phone_number",
    "email",
    "organization_name",
    "custom_1",
    "custom_2",
    "custom_3",
    "custom_4",
)


@dataclass
class Draft:
    """One recipient of one request message, before it is judged."""

    message: Record
    to: Any
    list_id: int | None = None
    contact: Record | None = None
    status: str | None = None  # already decided (e.g. unknown list)


@dataclass
class Outcome:
    """A judged message: the record for the answer, its price, and when it goes out (None: not sent)."""

    answer: Record
    price: Decimal
    send_at: int | None


def _as_list_id(raw: Any) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None


def _personalise(body: Any, contact: Record) -> Any:
    if not isinstance(body, str):
        return body
    for name in _CONTACT_PLACEHOLDERS:
        body = body.replace("{" + name + "}", str(contact.get(name) or ""))
    return body


def expand(call: Call, channel: Channel, messages: list[Any]) -> list[Draft]:
    """Each request message becomes one draft per recipient (a list_id fans out to its contacts' numbers)."""
    drafts: list[Draft] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise bad_request(f"messages[{index}] must be a JSON object.")
        has_to = message.get("to") not in (None, "")
        has_list = message.get("list_id") not in (None, "")
        if not has_to and not has_list:
            raise missing_fields(f"messages[{index}].to or messages[{index}].list_id")
        if not has_list:
            drafts.append(Draft(message, message.get("to")))
            continue
        list_id = _as_list_id(message.get("list_id"))
        if list_id is None or list_id not in call.state.lists:
            drafts.append(Draft(message, None, list_id, status="NOT_ENOUGH_PERMISSION_TO_LIST_ID"))
            continue
        for contact in call.state.contacts.all():
            if contact["list_id"] == list_id and contact.get(channel.contact_field):
                personal = {**message, "body": _personalise(message.get("body"), contact)}
                drafts.append(Draft(personal, contact[channel.contact_field], list_id, contact))
    return drafts


def parse_schedule(raw: Any, now: int) -> tuple[int | None, bool]:
    """(send time, valid). Empty/0 means now; an int (or digit string) more than a day past is invalid."""
    if raw in (None, "", 0, "0"):
        return now, True
    if isinstance(raw, bool):
        return None, False
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int):
        return None, False
    if raw < now - SCHEDULE_GRACE:
        return None, False
    return max(raw, now), True


def _status(channel: Channel, draft: Draft, body: Record, schedule_ok: bool) -> str:
    message = draft.message
    if draft.status is not None:
        return draft.status
    if not is_e164(draft.to):
        return "INVALID_RECIPIENT"
    text = message.get("body")
    if channel.body_required and (not isinstance(text, str) or not text.strip()):
        return "EMPTY_MESSAGE"
    if text is not None and not isinstance(text, str):
        return "EMPTY_MESSAGE"
    problem = channel.check(message, body)
    if problem is not None:
        return problem
    sender = message.get("from")
    if channel.check_sender and sender not in (None, "") and not valid_sender(sender):
        return "INVALID_SENDER_ID"
    return "SUCCESS" if schedule_ok else "INVALID_SCHEDULE"


def judge(call: Call, channel: Channel, draft: Draft, body: Record) -> Outcome:
    """The answer record for one draft, with its status, parts and price."""
    message = draft.message
    send_at, schedule_ok = parse_schedule(message.get("schedule"), call.now)
    status = _status(channel, draft, body, schedule_ok)
    to = draft.to if isinstance(draft.to, str) else None
    raw_body = message.get("body")
    text = raw_body if isinstance(raw_body, str) else ""
    country = country_of(to) if to is not None and is_e164(to) else None
    parts = channel.parts(text) if status == "SUCCESS" else 0
    price = part_price(channel.prices, country) * parts
    contact_id = draft.contact["contact_id"] if draft.contact else message.get("contact_id")
    answer: Record = {
        "direction": "out",
        "date": call.now,
        "to": to,
        "body": text,
        "from": message.get("from") or SANDBOX_SENDER,
        "schedule": send_at if send_at is not None else message.get("schedule"),
        "message_id": call.state.new_message_id(),
        "message_parts": parts,
        "message_price": money(price),
        "from_email": message.get("from_email"),
        "list_id": draft.list_id,
        "custom_string": message.get("custom_string") or "",
        "contact_id": contact_id,
        "user_id": call.state.account["user_id"],
        "subaccount_id": call.state.account["_subaccount"]["subaccount_id"],
        "country": country,
        "carrier": "Sandbox Test Network" if to in TEST_NUMBERS else "Sandbox Network",
        **channel.extras(message, body, call.now),
        "status": status,
    }
    return Outcome(answer, price, send_at if status == "SUCCESS" else None)


def evaluate(call: Call, channel: Channel, body: Record | None = None) -> tuple[Record, list[Outcome]]:
    """Validate the request body (or `body`, for campaigns) and judge every recipient (shared by send and price)."""
    body = call.json_object(required=True) if body is None else body
    missing = [name for name in ("messages", *channel.required_top_level) if body.get(name) in (None, "", [])]
    if missing:
        raise missing_fields(*missing)
    messages = body["messages"]
    if not isinstance(messages, list):
        raise bad_request("messages must be an array of message objects.")
    drafts = expand(call, channel, messages)
    if len(drafts) > MAX_RECIPIENTS:
        raise bad_request(
            f"Too many recipients: {len(drafts)} (at most {MAX_RECIPIENTS} per request).", "TOO_MANY_RECIPIENTS"
        )
    return body, [judge(call, channel, draft, body) for draft in drafts]


def _summary(outcomes: list[Outcome], queued: int, total: Decimal) -> Record:
    return {
        "total_price": float(total.quantize(Decimal("0.0001"))),
        "total_count": len(outcomes),
        "queued_count": queued,
        "messages": [outcome.answer for outcome in outcomes],
        "_currency": dict(CURRENCY),
        "blocked_count": 0,
    }


def price_handler(channel: Channel) -> Handler:
    """POST /<channel>/price: the send answer's shape, nothing stored (quotes even for `nocredit`)."""

    def handle(call: Call) -> Reply:
        _, outcomes = evaluate(call, channel)
        ok = [o for o in outcomes if o.send_at is not None]
        return Reply(_summary(outcomes, len(ok), sum((o.price for o in ok), Decimal(0))), PRICE_MSG)

    return handle


def queue(call: Call, channel: Channel, outcomes: list[Outcome]) -> list[Record]:
    """Store each accepted outcome in the channel's history; immediate ones are delivered at once."""
    store = call.state.messages[channel.name]
    records: list[Record] = []
    for outcome in outcomes:
        if outcome.send_at is None:
            continue
        record = history_record(call.state, outcome.answer, outcome.send_at)
        store[record["message_id"]] = record
        records.append(record)
        if outcome.send_at <= call.now:
            deliver(call.state, channel, record, call.now)
    return records


def send_handler(channel: Channel) -> Handler:
    """POST /<channel>/send: stores each SUCCESS message; immediate ones are delivered at once."""

    def handle(call: Call) -> Reply:
        _, outcomes = evaluate(call, channel)
        ok = [o for o in outcomes if o.send_at is not None]
        if call.caller.no_credit:
            for outcome in ok:
                outcome.answer["status"] = "INSUFFICIENT_CREDIT"
                outcome.answer["message_price"] = money(Decimal(0))
            return Reply(_summary(outcomes, 0, Decimal(0)), NO_CREDIT_MSG, "INSUFFICIENT_CREDIT")
        queue(call, channel, ok)
        return Reply(_summary(outcomes, len(ok), sum((o.price for o in ok), Decimal(0))), channel.queued_msg)

    return handle
