"""Billing: the stored credit card, credit packages and purchases, recharge transactions, and country price lists."""

from __future__ import annotations

import secrets
import uuid

from ..call import Call
from ..catalog import CURRENCIES, PACKAGE_PRICES, packages, price_list
from ..envelope import Reply, bad_request, missing_fields, not_found
from ..listing import listing
from ..reference import COUNTRIES
from ..routing import Route, route
from ..state import CURRENCY

CARD_FIELDS = ("number", "expiry_month", "expiry_year", "cvc", "name", "bank_name")


def luhn_ok(number: str) -> bool:
    """The card number checksum every real card number passes."""
    total = 0
    for index, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@route("GET", "/recharge/credit-card")
def get_credit_card(call: Call) -> Reply:
    return Reply(dict(call.state.credit_card), "Customer payment info.")


@route("PUT", "/recharge/credit-card")
def update_credit_card(call: Call) -> Reply:
    """Keeps only the masked number, expiry and name; answers with a token, as ClickSend does."""
    body = call.json_object(required=True)
    missing = [name for name in CARD_FIELDS if body.get(name) in (None, "")]
    if missing:
        raise missing_fields(*missing)
    number = "".join(ch for ch in str(body["number"]) if ch.isdigit())
    if not 12 <= len(number) <= 19 or not luhn_ok(number):
        raise bad_request("The card number is invalid.")
    try:
        month, year = int(body["expiry_month"]), int(body["expiry_year"])
    except (TypeError, ValueError):
        raise bad_request("expiry_month and expiry_year must be numbers.") from None
    year = year + 2000 if year < 100 else year
    if not 1 <= month <= 12:
        raise bad_request("expiry_month must be 1 to 12.")
    if not str(body["cvc"]).isdigit() or len(str(body["cvc"])) not in (3, 4):
        raise bad_request("cvc must be 3 or 4 digits.")
    call.state.credit_card = {
        "display_number": f"XXXX-XXXX-XXXX-{number[-4:]}",
        "expiry_month": month,
        "expiry_year": year,
        "name": str(body["name"]),
    }
    return Reply({"token": f"cus_{secrets.token_urlsafe(16)}"}, "Your payment info has been updated.")


def _country(raw: str | None, default: str) -> str:
    country = (raw or default).strip().upper()
    if country not in COUNTRIES:
        raise bad_request(f"Unknown country {raw!r}: use a two-letter code from GET /countries.")
    return country


@route("GET", "/recharge/packages")
def list_packages(call: Call) -> Reply:
    country = _country(call.query.get("country"), call.state.account["country"])
    currency = {**CURRENCY, "min_recharge_amount": "20.00", "max_recharge_amount": "10000.00"}
    return Reply({"packages": packages(country), "currency": currency}, "List of Packages.")


@route("PUT", "/recharge/purchase/{package_id}")
def purchase_package(call: Call) -> Reply:
    """Charges the stored card: the package price is added to the balance and recorded as a transaction."""
    raw = call.params["package_id"]
    if not raw.isdigit() or int(raw) not in PACKAGE_PRICES:
        raise not_found(f"Package #{raw} not found.")
    amount = PACKAGE_PRICES[int(raw)]
    call.state.add_balance(float(amount))
    call.state.collection("transactions").add(
        {"invoice_number": str(uuid.uuid4()), "amount": amount, "currency": "AUD", "date": call.now}
    )
    purchase = {"user_id": call.state.account["user_id"], "amount": amount, "currency": "AUD"}
    return Reply({**purchase, "amount_aud": amount, "date": call.now}, "Successfully purchased a package")


@route("GET", "/recharge/transactions")
def list_transactions(call: Call) -> Reply:
    records = list(reversed(call.state.collection("transactions").all()))
    return Reply(listing(call, records, date_field="date"), "Here are your transactions.")


@route("GET", "/recharge/transactions/{transaction_id}")
def get_transaction(call: Call) -> Reply:
    return Reply(
        call.state.collection("transactions").lookup(call.params["transaction_id"]), "Here is your transaction."
    )


@route("GET", "/pricing/{country}")
def get_pricing(call: Call) -> Reply:
    country = call.params["country"].upper()
    if country not in COUNTRIES:
        raise not_found(
            f"No pricing for country {call.params['country']!r}: use a two-letter code from GET /countries."
        )
    currency = (call.query.get("currency") or "AUD").upper()
    if currency not in CURRENCIES:
        raise bad_request(f"currency must be one of {', '.join(CURRENCIES)} (got {call.query.get('currency')!r}).")
    return Reply(price_list(country, currency), "Here are some results.")


ROUTES: list[Route] = [
    get_credit_card,
    update_credit_card,
    list_packages,
    purchase_package,
    list_transactions,
    get_transaction,
    get_pricing,
]
