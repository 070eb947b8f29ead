"""Reseller: white-label settings, client accounts (CRUD, public sign-up), credit transfers, and referrals."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ..call import Call
from ..collection import Record, public
from ..envelope import Reply, SandboxError, bad_request, missing_fields, not_found
from ..listing import listing
from ..routing import Route, route
from ..state import CURRENCY
from .account import SIGN_UP_FIELDS, check_account_fields, main_subaccount, username_taken

SETTINGS = (
    "subdomain",
    "company_name",
    "logo_url_light",
    "logo_url_dark",
    "colour_navigation",
    "default_margin",
    "default_margin_numbers",
    "trial_balance",
    "allow_public_signups",
)
PUBLIC_SETTINGS = ("reseller_user_id", "company_name", "logo_url_light", "logo_url_dark", "colour_navigation")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
CLIENT_FIELDS = tuple(name for name in SIGN_UP_FIELDS if name != "password")


@route("GET", "/reseller")
def get_settings(call: Call) -> Reply:
    return Reply(dict(call.state.reseller), "Your result.")


@route("PUT", "/reseller")
def update_settings(call: Call) -> Reply:
    """All nine settings are required each time."""
    body = call.json_object(required=True)
    call.require(body, *SETTINGS)
    subdomain = str(body["subdomain"]).lower()
    if not _SUBDOMAIN.fullmatch(subdomain):
        raise bad_request("subdomain may hold only lowercase letters, digits and hyphens.")
    if not _COLOUR.fullmatch(str(body["colour_navigation"])):
        raise bad_request("colour_navigation must be a hex colour such as #9999FF.")
    if body["allow_public_signups"] not in (0, 1, True, False):
        raise bad_request("allow_public_signups must be 0 or 1.")
    changes = {name: body[name] for name in SETTINGS}
    changes.update(subdomain=subdomain, allow_public_signups=int(bool(body["allow_public_signups"])))
    call.state.reseller.update(changes)
    return Reply(dict(call.state.reseller), "Your setting has been updated.")


@route("GET", "/reseller/{subdomain}")
def get_by_subdomain(call: Call) -> Reply:
    settings = call.state.reseller
    if call.params["subdomain"].lower() != settings["subdomain"]:
        raise not_found(f"No reseller uses the subdomain {call.params['subdomain']!r}.")
    shown = {name: settings[name] for name in PUBLIC_SETTINGS}
    return Reply({**shown, "allow_public_signups": settings["allow_public_signups"]}, "Here's your result.")


def _client_record(call: Call, fields: Record) -> Record:
    return {
        **fields,
        "active": 1,
        "banned": 0,
        "balance": "0.00",
        "account_billing_email": fields["user_email"],
        "account_billing_mobile": fields["user_phone"],
        "default_country_sms": fields["country"],
        "timezone": "Australia/Melbourne",
        "auto_recharge": 0,
        "date_sign_up": call.now,
        "_currency": dict(CURRENCY),
        "_subaccount": main_subaccount(fields),
    }


def _new_client(call: Call, body: Record) -> Record:
    call.require(body, *SIGN_UP_FIELDS)
    fields = {name: body[name] for name in CLIENT_FIELDS}
    check_account_fields(fields)
    if username_taken(call, str(fields["username"])):
        raise bad_request(f"The username {fields['username']} is already taken.", "ALREADY_EXISTS")
    return public(call.state.collection("reseller_accounts").add(_client_record(call, fields)))


@route("GET", "/reseller/accounts")
def list_clients(call: Call) -> Reply:
    records = [public(item) for item in call.state.collection("reseller_accounts")]
    return Reply(listing(call, records), "Here are you data.")


@route("POST", "/reseller/accounts")
def create_client(call: Call) -> Reply:
    return Reply(_new_client(call, call.json_object(required=True)), "New reseller has been added.")


@route("POST", "/reseller/accounts-public")
def create_client_publicly(call: Call) -> Reply:
    """Only for this sandbox's own reseller id, and only while public sign-ups are allowed."""
    body = call.json_object(required=True)
    call.require(body, "reseller_user_id")
    if str(body["reseller_user_id"]) != str(call.state.reseller["reseller_user_id"]):
        raise not_found(f"Reseller #{body['reseller_user_id']} not found.")
    if not call.state.reseller["allow_public_signups"]:
        raise SandboxError(403, "This reseller does not allow public sign-ups.")
    return Reply(_new_client(call, body), "New reseller has been added.")


@route("GET", "/reseller/accounts/{client_user_id}")
def get_client(call: Call) -> Reply:
    return Reply(
        public(call.state.collection("reseller_accounts").lookup(call.params["client_user_id"])), "Here are your data."
    )


@route("PUT", "/reseller/accounts/{client_user_id}")
def update_client(call: Call) -> Reply:
    record = call.state.collection("reseller_accounts").lookup(call.params["client_user_id"])
    body = call.json_object(required=True)
    changes = {name: body[name] for name in CLIENT_FIELDS if name in body}
    if not changes and "password" not in body:
        raise missing_fields(" or ".join(SIGN_UP_FIELDS))
    check_account_fields(changes)
    renamed = "username" in changes and str(changes["username"]).lower() != str(record["username"]).lower()
    if renamed and username_taken(call, str(changes["username"])):
        raise bad_request(f"The username {changes['username']} is already taken.", "ALREADY_EXISTS")
    record.update(changes)
    return Reply(public(record), "Reseller account has been updated.")


@route("PUT", "/reseller/transfer-credit")
def transfer_credit(call: Call) -> Reply:
    """Moves credit from your balance to a client's; refused when your balance is too small."""
    body = call.json_object(required=True)
    call.require(body, "client_user_id", "balance", "currency")
    client = call.state.collection("reseller_accounts").lookup(str(body["client_user_id"]))
    try:
        amount = Decimal(str(body["balance"]))
    except InvalidOperation:
        raise bad_request("balance must be a number.") from None
    if not amount.is_finite() or amount <= 0:
        raise bad_request("balance must be more than 0.")
    if str(body["currency"]).upper() != CURRENCY["currency_name_short"]:
        raise bad_request(f"currency must be your account currency, {CURRENCY['currency_name_short']}.")
    if amount > Decimal(call.state.account["balance"]):
        raise bad_request("Your balance is too small for this transfer.", "INSUFFICIENT_CREDIT")
    call.state.add_balance(-float(amount))
    client["balance"] = f"{Decimal(client['balance']) + amount:.2f}"
    return Reply(public(client), "Your balance has been successfully transferred.")


@route("GET", "/referral/accounts")
def list_referrals(call: Call) -> Reply:
    return Reply(listing(call, call.state.collection("referrals").all()), "Here are your referrals.")


ROUTES: list[Route] = [
    get_settings,
    update_settings,
    get_by_subdomain,
    list_clients,
    create_client,
    create_client_publicly,
    get_client,
    update_client,
    transfer_credit,
    list_referrals,
]
