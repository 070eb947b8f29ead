"""Email-to-SMS: the addresses allowed to send SMS by email, and the strings stripped from those emails."""

from __future__ import annotations

from ..call import Call
from ..collection import Record, public
from ..crud import Messages, Resource, crud_routes
from ..envelope import bad_request
from ..routing import Route
from ..state import SANDBOX_SENDER
from .email_addresses import EMAIL_PATTERN


def _check_allowed_address(call: Call, draft: Record) -> None:
    address = draft.get("email_address")
    if not isinstance(address, str) or not EMAIL_PATTERN.fullmatch(address.strip()):
        raise bad_request(f"{address!r} is not a valid email address.")
    subaccount_id = draft.get("subaccount_id")
    known = isinstance(subaccount_id, int) and subaccount_id in call.state.subaccounts
    if subaccount_id not in (None, "") and not known:
        raise bad_request(f"Subaccount #{subaccount_id} not found.")


def _allowed_address_view(call: Call, record: Record) -> Record:
    subaccount = call.state.subaccounts.get(record.get("subaccount_id") or 0)
    name = subaccount["api_username"] if subaccount else None
    return {**public(record), "_subaccount_name": name}


EMAIL_SMS_ADDRESSES = Resource(
    collection="email_sms_addresses",
    path="/sms/email-sms",
    id_param="email_address_id",
    fields=("email_address", "from", "from_fax", "subaccount_id", "lang", "voice"),
    required=("email_address", "from"),
    messages=Messages(
        listed="Here are some data.",
        fetched="Here is your data.",
        created="New data has been saved.",
        updated="Your data has been updated.",
        deleted="Your data has been deleted.",
    ),
    defaults=lambda call: {
        "from": SANDBOX_SENDER,
        "from_fax": "",
        "subaccount_id": call.state.account["_subaccount"]["subaccount_id"],
        "voice": "female",
        "lang": "en-us",
    },
    view=_allowed_address_view,
    validate=_check_allowed_address,
    deleted_data=True,
)


def _check_strip_string(_call: Call, draft: Record) -> None:
    if not isinstance(draft.get("strip_string"), str):
        raise bad_request("strip_string must be a string.")


STRIPPED_STRINGS = Resource(
    collection="stripped_strings",
    path="/sms/email-sms-stripped-strings",
    id_param="rule_id",
    fields=("strip_string",),
    required=("strip_string",),
    messages=Messages(
        listed="Here are your stripped strings.",
        fetched="Here is your result.",
        created="Strip string has been created.",
        updated="Strip string has been updated.",
        deleted="Strip string has been deleted.",
    ),
    validate=_check_strip_string,
    deleted_data=True,
)

ROUTES: list[Route] = [*crud_routes(EMAIL_SMS_ADDRESSES), *crud_routes(STRIPPED_STRINGS)]
