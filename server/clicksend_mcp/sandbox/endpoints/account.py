"""The account: read and update it, sign up a new one and activate it, forgotten usernames and passwords."""

from __future__ import annotations

import copy
import zoneinfo

from ..call import Call
from ..catalog import TIMEZONES
from ..collection import Record
from ..envelope import Reply, bad_request, missing_fields
from ..reference import COUNTRIES
from ..routing import Route, route
from ..state import CURRENCY
from .email_addresses import EMAIL_PATTERN
from .subaccounts import new_api_key

UPDATABLE = (
    "country",
    "user_phone",
    "user_last_name",
    "user_first_name",
    "user_email",
    "account_name",
    "timezone",
    "private_uploads",
    "setting_sms_hide_business_name",
    "setting_sms_hide_your_number",
)
SIGN_UP_FIELDS = (
    "username",
    "password",
    "user_email",
    "user_phone",
    "user_first_name",
    "user_last_name",
    "account_name",
    "country",
)
DONE = "An email notification has been sent."


def _shown(call: Call) -> Record:
    account = copy.deepcopy(call.state.account)
    if call.caller.no_credit:
        account.update(username="nocredit", balance="0.00")
        account["_subaccount"]["api_username"] = "nocredit"
    return account


@route("GET", "/account")
def get_account(call: Call) -> Reply:
    return Reply(_shown(call), "Here's your account.")


def known_timezone(name: object) -> bool:
    if not isinstance(name, str) or not name:
        return False
    if name in TIMEZONES:
        return True
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def check_account_fields(changes: Record) -> None:
    """Validates (and normalises) account fields: country code, email, timezone, 0/1 flags."""
    if "country" in changes:
        changes["country"] = str(changes["country"]).upper()
        if changes["country"] not in COUNTRIES:
            raise bad_request(f"Unknown country {changes['country']!r}: use a two-letter code from GET /countries.")
    if "user_email" in changes and not EMAIL_PATTERN.fullmatch(str(changes["user_email"])):
        raise bad_request(f"{changes['user_email']!r} is not a valid email address.")
    if "timezone" in changes and not known_timezone(changes["timezone"]):
        raise bad_request(f"Unknown timezone {changes['timezone']!r}: see GET /timezones.")
    for flag in ("private_uploads", "setting_sms_hide_business_name", "setting_sms_hide_your_number"):
        if flag in changes:
            if changes[flag] not in (0, 1, True, False):
                raise bad_request(f"{flag} must be 0 or 1.")
            changes[flag] = int(bool(changes[flag]))


@route("PUT", "/account")
def update_account(call: Call) -> Reply:
    body = call.json_object(required=True)
    changes = {name: body[name] for name in UPDATABLE if name in body}
    if not changes:
        raise missing_fields(" or ".join(UPDATABLE))
    check_account_fields(changes)
    call.state.account.update(changes)
    return Reply(_shown(call), "Your account has been updated.")


def username_taken(call: Call, username: str) -> bool:
    """Whether any account, reseller client or subaccount in the sandbox already uses `username`."""
    wanted = username.lower()
    names = [call.state.account["username"]]
    names += [item["username"] for item in call.state.collection("signups")]
    names += [item["username"] for item in call.state.collection("reseller_accounts")]
    names += [item["api_username"] for item in call.state.subaccounts]
    return any(str(name).lower() == wanted for name in names)


def main_subaccount(fields: Record) -> Record:
    """The account's main user, as a new account (signed up or created by a reseller) starts with it."""
    return {
        "api_username": fields["username"],
        "email": fields["user_email"],
        "phone_number": fields["user_phone"],
        "first_name": fields["user_first_name"],
        "last_name": fields["user_last_name"],
        "api_key": new_api_key(),
        "is_main": 1,
    }


@route("POST", "/account")
def sign_up(call: Call) -> Reply:
    """A new, separate account: inactive until activated with the code sent by PUT /account-verify/send."""
    body = call.json_object(required=True)
    call.require(body, *SIGN_UP_FIELDS)
    fields = {name: body[name] for name in SIGN_UP_FIELDS if name != "password"}
    check_account_fields(fields)
    if username_taken(call, str(fields["username"])):
        raise bad_request(f"The username {fields['username']} is already taken.", "ALREADY_EXISTS")
    record = call.state.collection("signups").add(
        {
            **fields,
            "active": 0,
            "banned": 0,
            "balance": "0.00",
            "date_sign_up": call.now,
            "account_billing_email": fields["user_email"],
            "timezone": "Australia/Melbourne",
            "_currency": dict(CURRENCY),
            "_subaccount": main_subaccount(fields),
        }
    )
    return Reply(record, "New account has been created.")


@route("PUT", "/account-verify/send")
def send_activation(call: Call) -> Reply:
    body = call.json_object(required=True)
    call.require(body, "type", "country", "user_phone")
    if str(body["type"]).lower() not in ("sms", "voice"):
        raise bad_request(f"type must be sms or voice (got {body['type']!r}).")
    return Reply([], "Activation code has been sent.")


@route("PUT", "/account-verify/verify/{activation_token}")
def activate(call: Call) -> Reply:
    """The sandbox sends no codes, so any token activates the newest account still waiting (else shows yours)."""
    waiting = [item for item in call.state.collection("signups") if not item["active"]]
    if not waiting:
        return Reply(_shown(call), "Your account has been activated.")
    account = waiting[-1]
    account["active"] = 1
    return Reply(account, "Your account has been activated.")


@route("PUT", "/forgot-username")
def forgot_username(call: Call) -> Reply:
    body = call.json_object(required=True)
    given = [name for name in ("email", "phone_number") if body.get(name) not in (None, "")]
    if len(given) != 1:
        raise bad_request("Give exactly one of email or phone_number.", "MISSING_REQUIRED_FIELDS")
    return Reply([], DONE)


@route("PUT", "/forgot-password")
def forgot_password(call: Call) -> Reply:
    call.require(call.json_object(required=True), "username")
    return Reply([], DONE)


@route("PUT", "/forgot-password/verify")
def reset_password(call: Call) -> Reply:
    body = call.json_object(required=True)
    call.require(body, "password", "subaccount_id", "activation_token")
    call.state.subaccounts.lookup(str(body["subaccount_id"]))
    return Reply([], "Your password has been updated.")


ROUTES: list[Route] = [
    get_account,
    update_account,
    sign_up,
    send_activation,
    activate,
    forgot_username,
    forgot_password,
    reset_password,
]
