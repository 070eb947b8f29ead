"""Post: letters and postcards (send, price, history, export), return addresses (CRUD) and address detection."""

from __future__ import annotations

import re
from decimal import Decimal

from ..call import Call
from ..channels import Channel, Record
from ..crud import Messages, Resource, crud_routes
from ..envelope import Reply, bad_request
from ..files import decode_base64, export_handler
from ..message_store import history_handler
from ..post_messaging import ADDRESS_FIELDS, PostProduct, country_price, price_handler, send_handler
from ..pricing import LETTER_COLOUR_SURCHARGE, LETTER_PRICES, LETTER_PRIORITY_SURCHARGE, POSTCARD_PRICES, single_part
from ..reference import COUNTRIES
from ..routing import Route, route

LETTERS = Channel(
    name="letters",
    label="letter",
    prices=LETTER_PRICES,
    parts=single_part,
    sent_status="Sent",
    body_required=False,
    check_sender=False,
    queued_msg="Letters queued for delivery.",
    delivered_text="Posted.",
)
POSTCARDS = Channel(
    name="postcards",
    label="postcard",
    prices=POSTCARD_PRICES,
    parts=single_part,
    sent_status="Sent",
    body_required=False,
    check_sender=False,
    queued_msg="Postcard queued for delivery.",
    delivered_text="Posted.",
)


def _flag(body: Record, name: str) -> int:
    return 1 if body.get(name) in (1, "1", True) else 0


def _letter_options(body: Record) -> Record:
    return {name: _flag(body, name) for name in ("colour", "duplex", "priority_post", "template_used")}


def _letter_price(recipient: Record, body: Record) -> Decimal:
    price = country_price(LETTERS, recipient)
    if _flag(body, "colour"):
        price += LETTER_COLOUR_SURCHARGE
    if _flag(body, "priority_post"):
        price += LETTER_PRIORITY_SURCHARGE
    return price


def _postcard_price(recipient: Record, _body: Record) -> Decimal:
    return country_price(POSTCARDS, recipient)


LETTER_PRODUCT = PostProduct(LETTERS, "file_url", _letter_price, _letter_options)
POSTCARD_PRODUCT = PostProduct(POSTCARDS, "file_urls", _postcard_price)


def _check_return_address(_call: Call, draft: Record) -> None:
    country = str(draft.get("address_country") or "").upper()
    if country not in COUNTRIES:
        raise bad_request(f"address_country must be a two-letter country code (got {draft.get('address_country')!r}).")
    draft["address_country"] = country
    for name in ADDRESS_FIELDS:
        if draft.get(name) is not None and not isinstance(draft[name], str | int):
            raise bad_request(f"{name} must be a string.")


RETURN_ADDRESSES = Resource(
    collection="return_addresses",
    path="/post/return-addresses",
    id_param="return_address_id",
    fields=ADDRESS_FIELDS,
    required=("address_name", "address_line_1", "address_city", "address_postal_code", "address_country"),
    messages=Messages(
        listed="Here are your records.",
        fetched="Here is your data.",
        created="New return address has been added.",
        updated="Your return address has been updated.",
        deleted="Your return address has been deleted.",
    ),
    defaults=lambda call: {"user_id": call.state.account["user_id"], "address_line_2": "", "address_state": ""},
    validate=_check_return_address,
    deleted_data=[],
)

_POSTCODE_LINE = re.compile(r"^(?P<city>.*?)[\s,]+(?P<state>[A-Za-z]{2,3})?\s*(?P<postcode>\d{4,5})$")


def parse_address(text: str) -> Record:
    """Name, street lines, then "City STATE POSTCODE" (optionally a final country line) -> ClickSend's fields."""
    parts = [part.strip() for part in re.split(r"[\n,]+", text) if part.strip()]
    country = "AU"
    if len(parts) > 1 and parts[-1].upper() in COUNTRIES:
        country = parts.pop().upper()
    if len(parts) > 1:
        by_name = {name.lower(): code for code, (name, _) in COUNTRIES.items()}
        if parts[-1].lower() in by_name:
            country = by_name[parts.pop().lower()]
    if len(parts) < 3:
        raise bad_request("Could not detect an address: give the name, the street and the city with its post code.")
    name, *street, last = parts
    found = _POSTCODE_LINE.match(last)
    city, state, postcode = (found["city"], found["state"] or "", found["postcode"]) if found else (last, "", "")
    return {
        "address_name": name,
        "address_line_1": street[0] if street else "",
        "address_line_2": ", ".join(street[1:]),
        "address_city": city.strip(),
        "address_state": state.upper(),
        "address_postal_code": postcode,
        "address_country": country,
    }


@route("POST", "/post/letters/detect-address")
def detect_address(call: Call) -> Reply:
    body = call.json_object(required=True)
    has_address, has_content = body.get("address") not in (None, ""), body.get("content") not in (None, "")
    if has_address == has_content:
        raise bad_request("Give exactly one of address or content.", "MISSING_REQUIRED_FIELDS")
    if has_address:
        if not isinstance(body["address"], str):
            raise bad_request("address must be a string.")
        text = body["address"]
    else:
        raw = decode_base64(body["content"], "content").decode("utf-8", errors="ignore")
        text = "\n".join(line for line in raw.splitlines() if line.strip() and line.isprintable())
    return Reply(parse_address(text), "Here is your result.")


ROUTES: list[Route] = [
    Route("POST", "/post/letters/send", send_handler(LETTER_PRODUCT)),
    Route("POST", "/post/letters/price", price_handler(LETTER_PRODUCT)),
    Route("GET", "/post/letters/history", history_handler(LETTERS)),
    Route("GET", "/post/letters/history/export", export_handler("Letters_history.csv")),
    Route("POST", "/post/postcards/send", send_handler(POSTCARD_PRODUCT)),
    Route("POST", "/post/postcards/price", price_handler(POSTCARD_PRODUCT)),
    Route("GET", "/post/postcards/history", history_handler(POSTCARDS)),
    Route("GET", "/post/postcards/history/export", export_handler("Postcards_history.csv")),
    detect_address,
    *crud_routes(RETURN_ADDRESSES),
]
