"""Dedicated numbers: the ones you rent (GET /numbers), the ones for sale (search), buying one, registration."""

from __future__ import annotations

import uuid
from decimal import Decimal

from ..call import Call
from ..catalog import currency_block
from ..collection import Record
from ..envelope import Reply, bad_request, missing_fields, not_found
from ..listing import listing, page_params, paginate
from ..pricing import DEDICATED_NUMBER_MONTHLY, money, part_price
from ..reference import COUNTRIES
from ..routing import Route, route
from ..state import CURRENCY

POOL_SIZE = 40  # numbers for sale per country
# The national part of the numbers for sale starts with these digits (AU numbers are mobiles, as ClickSend sells).
_NATIONAL_PREFIX: dict[str, str] = {"AU": "4806", "US": "2282", "CA": "3435", "GB": "7700", "NZ": "2108"}
READY = {
    "value": 0,
    "label": "REGISTRATION_NOT_REQUIRED",
    "description": "Your number is ready to go.",
    "name": "Ready",
}


def numbers_for_sale(country: str) -> list[str]:
    """A fixed pool of E.164 numbers per country, e.g. +61480662200..."""
    dial = COUNTRIES[country][1]
    prefix = _NATIONAL_PREFIX.get(country, "555")
    digits = 11 - len(dial) - len(prefix)  # numbers of 11-12 digits in all
    return [f"+{dial}{prefix}{index:0{max(digits, 4)}d}" for index in range(62200, 62200 + POOL_SIZE)]


def _prices(country: str) -> tuple[Decimal, Decimal]:
    """(setup, monthly) in AUD."""
    return Decimal(0), part_price(DEDICATED_NUMBER_MONTHLY, country)


def _matches(number: str, dial: str, search: str, search_type: int) -> bool:
    digits = number.lstrip("+")
    national = digits[len(dial) :]
    if search_type == 0:
        return national.startswith(search) or digits.startswith(search)
    if search_type == 2:
        return digits.endswith(search)
    return search in digits


def _country(call: Call) -> str:
    country = call.params["country"].upper()
    if country not in COUNTRIES:
        raise bad_request(f"Unknown country {call.params['country']!r}: use a two-letter code from GET /countries.")
    return country


@route("GET", "/numbers/search/{country}")
def search_numbers(call: Call) -> Reply:
    country = _country(call)
    owned = {record["dedicated_number"] for record in call.state.collection("numbers")}
    search = "".join(ch for ch in call.query.get("search", "") if ch.isdigit())
    search_type = call.int_query("search_type")
    setup, monthly = _prices(country)
    found = [
        {
            "country": country,
            "country_name": COUNTRIES[country][0],
            "dedicated_number": number,
            "price_setup": money(setup),
            "price_monthly": money(monthly),
            "price_total": money(setup + monthly),
            "address_requirement": "none",
        }
        for number in numbers_for_sale(country)
        if number not in owned and (not search or _matches(number, COUNTRIES[country][1], search, search_type or 1))
    ]
    page, limit = page_params(call.query)
    return Reply({**paginate(found, call.path, page, limit), "_currency": dict(CURRENCY)}, "Here are some numbers.")


@route("POST", "/numbers/buy/{dedicated_number}")
def buy_number(call: Call) -> Reply:
    """Only numbers the search offers can be bought; the price is taken from the balance."""
    number = call.params["dedicated_number"].strip()
    number = number if number.startswith("+") else f"+{number}"
    body = call.json_object(required=True)
    kind = str(body.get("type") or "").lower()
    if not kind:
        raise missing_fields("type")
    if kind not in ("sms", "mms"):
        raise bad_request(f"type must be sms or mms (got {body['type']!r}).")
    numbers = call.state.collection("numbers")
    if number in numbers:
        raise bad_request(f"You already own {number}.", "ALREADY_EXISTS")
    country = next((code for code in COUNTRIES if number in numbers_for_sale(code)), None)
    if country is None:
        raise not_found(f"Dedicated number {number} is not available: find one with GET /numbers/search/{{country}}.")
    setup, monthly = _prices(country)
    numbers.add(
        {
            "country": country,
            "price": money(monthly),
            "_country_name": COUNTRIES[country][0],
            "notes": None,
            "type": kind,
            "number_type": "longcode",
            "number_category": None,
            "number_guid": str(uuid.uuid4()).upper(),
            "form_submission_id": None,
            "status": dict(READY),
            "date_added": call.now,
            "registration_data": body.get("registration_data"),
        },
        key=number,
    )
    call.state.add_balance(-float(setup + monthly))
    answer: Record = {
        "dedicated_number": number,
        "country": country,
        "price_total": money(setup + monthly),
        "_price_setup": money(setup),
        "_price_monthly": money(monthly),
        "_currency": currency_block("AUD"),
    }
    return Reply(answer, "Here is your new number.")


@route("GET", "/numbers")
def list_numbers(call: Call) -> Reply:
    excluded = (call.query.get("excluding_number_type") or "").lower()
    records = [
        {key: value for key, value in record.items() if key not in ("registration_data", "date_added")}
        for record in call.state.collection("numbers")
        if not excluded or str(record["number_type"]).lower() != excluded
    ]
    data = {**listing(call, records), "_currency": dict(CURRENCY)}
    return Reply(data, "Here are you dedicated numbers.")


@route("POST", "/numbers/registrations/number-types/{number_type}/country/{country_code}")
def register_numbers(call: Call) -> Reply:
    body = call.json_object(required=True)
    required = ("full_name", "company_name", "email", "website_url", "sample_message", "primary_use_case")
    missing = [name for name in (*required, "company_number", "area_code") if body.get(name) in (None, "")]
    if missing:
        raise missing_fields(*missing)
    if call.params["country_code"].upper() not in COUNTRIES:
        raise bad_request(f"Unknown country {call.params['country_code']!r}.")
    return Reply(None, "Number registration notification sent successfully.")


ROUTES: list[Route] = [search_numbers, buy_number, list_numbers, register_numbers]
