"""Subaccounts: list, get, create, update, delete (not the main user), and API key regeneration."""

from __future__ import annotations

import uuid

from ..call import Call
from ..collection import Record, public
from ..crud import Messages, Resource, crud_routes
from ..envelope import Reply, bad_request, missing_fields
from ..routing import Route, route
from .email_addresses import EMAIL_PATTERN

ACCESS_FLAGS = (
    "access_users",
    "access_billing",
    "access_reporting",
    "access_contacts",
    "access_settings",
    "access_smpp",
    "access_sms",
    "access_email",
    "access_voice",
    "access_fax",
    "access_post",
    "access_mms",
)
PROFILE_FIELDS = ("api_username", "email", "phone_number", "first_name", "last_name", "notes", "sms_deidentify_message")
FIELDS = PROFILE_FIELDS + ACCESS_FLAGS
REQUIRED = ("api_username", "password", "email", "phone_number", "first_name", "last_name")


def new_api_key() -> str:
    """A key shaped like ClickSend's: an uppercase UUID, e.g. F3702045-EB2C-0091-C211-7728048DCAE2."""
    return str(uuid.uuid4()).upper()


def _defaults(_call: Call) -> Record:
    flags = {flag: 0 if flag == "access_smpp" else 1 for flag in ACCESS_FLAGS}
    return {**flags, "api_key": new_api_key(), "notes": None, "is_main": 0, "share_campaigns": 0}


def _check(call: Call, draft: Record) -> None:
    username = draft.get("api_username")
    if not isinstance(username, str) or not username.strip():
        raise bad_request("api_username must be a non-empty string.")
    email = draft.get("email")
    if not isinstance(email, str) or not EMAIL_PATTERN.fullmatch(email.strip()):
        raise bad_request(f"{email!r} is not a valid email address.")
    for flag in ACCESS_FLAGS:
        if flag in draft and draft[flag] not in (0, 1, True, False):
            raise bad_request(f"{flag} must be 0 or 1 (got {draft[flag]!r}).")
        if flag in draft:
            draft[flag] = int(bool(draft[flag]))
    for other in call.state.subaccounts:
        same = other["subaccount_id"] == draft.get("subaccount_id")
        if not same and str(other["api_username"]).lower() == username.strip().lower():
            raise bad_request(f"The username {username} is already taken.", "ALREADY_EXISTS")


def _keep_main(_call: Call, record: Record) -> None:
    if record.get("is_main"):
        raise bad_request("The main user of the account cannot be deleted.")


SUBACCOUNTS = Resource(
    collection="subaccounts",
    path="/subaccounts",
    id_param="subaccount_id",
    fields=FIELDS,
    required=REQUIRED,
    operations=("list", "get", "create", "delete"),
    messages=Messages(
        listed="Here are your subaccounts.",
        fetched="Here are your data.",
        created="New account has been created.",
        deleted="Subaccount #{id} has been deleted",
    ),
    defaults=_defaults,
    validate=_check,
    on_delete=_keep_main,
    deleted_data=True,
)


@route("PUT", "/subaccounts/{subaccount_id}")
def update_subaccount(call: Call) -> Reply:
    """Send only the fields to change; a password change is accepted (the sandbox keeps no passwords)."""
    record = call.state.subaccounts.lookup(call.params["subaccount_id"])
    body = call.json_object(required=True)
    changes = {name: body[name] for name in FIELDS if name in body}
    if not changes and "password" not in body:
        raise missing_fields(" or ".join((*FIELDS, "password")))
    merged = {**record, **changes}
    _check(call, merged)
    record.update(merged)
    return Reply(public(record), f"Subaccount #{record['subaccount_id']} has been updated.")


@route("PUT", "/subaccounts/{subaccount_id}/regen-api-key")
def regenerate_api_key(call: Call) -> Reply:
    """A new key at once; the old one stops working (for the main user, GET /account shows the new key too)."""
    record = call.state.subaccounts.lookup(call.params["subaccount_id"])
    record["api_key"] = new_api_key()
    return Reply({"api_key": record["api_key"]}, "Your API Key has been regenerated.")


ROUTES: list[Route] = [*crud_routes(SUBACCOUNTS), update_subaccount, regenerate_api_key]
