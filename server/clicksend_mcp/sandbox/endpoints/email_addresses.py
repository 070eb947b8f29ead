"""Allowed (sender) email addresses: list, get, add (duplicates refused), delete."""

from __future__ import annotations

import re

from ..call import Call
from ..collection import Record
from ..crud import Messages, Resource, crud_routes
from ..envelope import bad_request
from ..routing import Route

TEST_ADDRESSES = frozenset({"test1@test.com", "test2@test.com", "test3@test.com"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_address(call: Call, draft: Record) -> None:
    address = draft.get("email_address")
    if not isinstance(address, str) or not _EMAIL.fullmatch(address.strip()):
        raise bad_request(f"{address!r} is not a valid email address.")
    wanted = address.strip().lower()
    for existing in call.state.email_addresses:
        same_record = existing["email_address_id"] == draft.get("email_address_id")
        if not same_record and existing["email_address"].lower() == wanted:
            raise bad_request(f"The email address {address} already exists.", "ALREADY_EXISTS")


def address_defaults(call: Call) -> Record:
    return {"verified": 0, "date_added": call.now}


def address_view(_call: Call, record: Record) -> Record:
    # ClickSend's published test addresses count as verified at once; others wait for a verification link.
    verified = 1 if record["email_address"].lower() in TEST_ADDRESSES else record["verified"]
    return {**record, "verified": verified}


EMAIL_ADDRESSES = Resource(
    collection="email_addresses",
    path="/email/addresses",
    id_param="email_address_id",
    fields=("email_address",),
    required=("email_address",),
    operations=("list", "get", "create", "delete"),
    messages=Messages(
        listed="Here are your email addresses",
        fetched="Here is your email address.",
        created="Email address has been created.",
        deleted="Email address deleted.",
    ),
    defaults=address_defaults,
    view=address_view,
    validate=check_address,
)

ROUTES: list[Route] = crud_routes(EMAIL_ADDRESSES)
