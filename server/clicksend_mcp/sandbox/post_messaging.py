"""Shared send and price logic for post (letters, postcards): each recipient is a postal address, not a number."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from .call import Call
from .channels import Channel, Record
from .collection import public
from .envelope import Reply, bad_request, missing_fields, not_found
from .messaging import NO_CREDIT_MSG, PRICE_MSG, Outcome, parse_schedule, queue
from .pricing import money, part_price
from .reference import COUNTRIES
from .routing import Handler
from .state import CURRENCY, SANDBOX_USERNAME

ADDRESS_FIELDS = (
    "address_name",
    "address_line_1",
    "address_line_2",
    "address_city",
    "address_state",
    "address_postal_code",
    "address_country",
)
REQUIRED_ADDRESS_FIELDS = ("address_name", "address_line_1", "address_city", "address_postal_code", "address_country")
MAX_RECIPIENTS = 1000

# (recipient, whole request body) -> price of one piece; (whole body) -> product fields of each answer.
Price = Callable[[Record, Record], Decimal]
Options = Callable[[Record], Record]


def _no_options(_body: Record) -> Record:
    return {}


@dataclass(frozen=True)
class PostProduct:
    """A postal product: its channel (history, delivery), how the artwork is given, and how a piece is priced."""

    channel: Channel
    file_field: str  # "file_url" (one PDF) or "file_urls" (front and back)
    price: Price
    options: Options = field(default=_no_options)


def country_price(channel: Channel, recipient: Record) -> Decimal:
    """The channel's price for the recipient's country."""
    return part_price(channel.prices, str(recipient.get("address_country") or "").upper() or None)


def _is_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def artwork(product: PostProduct, body: Record) -> str:
    """The (first) file URL of the request; 400 when missing or not http(s)."""
    raw = body.get(product.file_field)
    if raw in (None, "", []):
        raise missing_fields(product.file_field)
    files = raw if isinstance(raw, list) else [raw]
    if product.file_field == "file_urls" and not 1 <= len(files) <= 2:
        raise bad_request("file_urls takes one 2-page PDF or two single-page PDFs (front, then back).")
    if not all(_is_url(item) for item in files):
        raise bad_request(f"{product.file_field} must be http(s) URLs of PDF files.")
    return str(files[0]).strip()


def _check_recipient(call: Call, index: int, recipient: Any) -> Record:
    """The recipient's return address; 400 for missing address fields, 404 for an unknown return address."""
    if not isinstance(recipient, dict):
        raise bad_request(f"recipients[{index}] must be a JSON object.")
    missing = [name for name in (*REQUIRED_ADDRESS_FIELDS, "return_address_id") if recipient.get(name) in (None, "")]
    if missing:
        raise missing_fields(*(f"recipients[{index}].{name}" for name in missing))
    raw_id = recipient["return_address_id"]
    return_id = raw_id if isinstance(raw_id, int) else int(raw_id) if str(raw_id).isdigit() else None
    found = call.state.collection("return_addresses").get(return_id) if return_id is not None else None
    if found is None:
        raise not_found(f"Return address #{raw_id} not found.")
    return found


def _judge(call: Call, product: PostProduct, recipient: Record, body: Record, file_url: str) -> Outcome:
    return_address = _check_recipient(call, 0, recipient)
    send_at, schedule_ok = parse_schedule(recipient.get("schedule"), call.now)
    country = str(recipient["address_country"]).upper()
    status = "SUCCESS" if schedule_ok else "INVALID_SCHEDULE"
    if country not in COUNTRIES:
        status = "INVALID_RECIPIENT"
    price = product.price(recipient, body) if status == "SUCCESS" else Decimal(0)
    answer: Record = {
        "date": call.now,
        "date_added": call.now,
        "message_id": call.state.new_message_id(),
        **{name: recipient.get(name) or "" for name in ADDRESS_FIELDS},
        "address_country": country,
        "return_address_id": return_address["return_address_id"],
        "_return_address": public(return_address),
        "schedule": send_at if send_at is not None else recipient.get("schedule"),
        "post_pages": 1,
        "post_price": money(price),
        "custom_string": recipient.get("custom_string") or "",
        "source": body.get("source") or ".rest.v3",
        "list_id": None,
        "user_id": call.state.account["user_id"],
        "subaccount_id": call.state.account["_subaccount"]["subaccount_id"],
        "_file_url": file_url,
        "_api_username": SANDBOX_USERNAME,
        **product.options(body),
        "status": status,
    }
    return Outcome(answer, price, send_at if status == "SUCCESS" else None)


def evaluate(call: Call, product: PostProduct) -> list[Outcome]:
    """Validate the request and judge every recipient (shared by send and price)."""
    body = call.json_object(required=True)
    file_url = artwork(product, body)
    recipients = body.get("recipients")
    if recipients in (None, "", []):
        raise missing_fields("recipients")
    if not isinstance(recipients, list):
        raise bad_request("recipients must be an array of postal addresses.")
    if len(recipients) > MAX_RECIPIENTS:
        raise bad_request(f"Too many recipients: {len(recipients)}.", "TOO_MANY_RECIPIENTS")
    for index, recipient in enumerate(recipients):
        _check_recipient(call, index, recipient)
    return [_judge(call, product, recipient, body, file_url) for recipient in recipients]


def _summary(outcomes: list[Outcome], queued: int, total: Decimal) -> Record:
    return {
        "total_price": float(total.quantize(Decimal("0.0001"))),
        "total_count": len(outcomes),
        "queued_count": queued,
        "recipients": [outcome.answer for outcome in outcomes],
        "_currency": dict(CURRENCY),
    }


def price_handler(product: PostProduct) -> Handler:
    """POST /post/<product>/price: the send answer's shape, nothing stored."""

    def handle(call: Call) -> Reply:
        outcomes = evaluate(call, product)
        ok = [o for o in outcomes if o.send_at is not None]
        return Reply(_summary(outcomes, len(ok), sum((o.price for o in ok), Decimal(0))), PRICE_MSG)

    return handle


def send_handler(product: PostProduct) -> Handler:
    """POST /post/<product>/send: stores each SUCCESS piece in the history; immediate ones are posted at once."""

    def handle(call: Call) -> Reply:
        outcomes = evaluate(call, product)
        ok = [o for o in outcomes if o.send_at is not None]
        if call.caller.no_credit:
            for outcome in ok:
                outcome.answer.update(status="INSUFFICIENT_CREDIT", post_price=money(Decimal(0)))
            return Reply(_summary(outcomes, 0, Decimal(0)), NO_CREDIT_MSG, "INSUFFICIENT_CREDIT")
        queue(call, product.channel, ok)
        total = sum((o.price for o in ok), Decimal(0))
        return Reply(_summary(outcomes, len(ok), total), product.channel.queued_msg)

    return handle
