"""Allowed (sender) email addresses: list, get, add (duplicates refused), delete, and verification."""

from __future__ import annotations

import re

from ..call import Call
from ..collection import Record, public
from ..crud import Messages, Resource, crud_routes
from ..envelope import Reply, bad_request
from ..routing import Route, route

TEST_ADDRESSES = frozenset({"test1@test.com", "test2@test.com", "test3@test.com"})
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_address(call: Call, draft: Record) -> None:
    address = draft.get("email_address")
    if not isinstance(address, str) or not EMAIL_PATTERN.fullmatch(address.strip()):
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
    return {**public(record), "verified": verified}


def is_verified(call: Call, record: Record) -> bool:
    return bool(address_view(call, record)["verified"])


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


@route("PUT", "/email/address-verify/{email_address_id}/send")
def send_verification(call: Call) -> Reply:
    """The sandbox sends no email: it only remembers that a verification link is out."""
    record = call.state.email_addresses.lookup(call.params["email_address_id"])
    record["__verification_sent"] = call.now
    return Reply({}, "Verification email has been sent.")


@route("PUT", "/email/address-verify/{email_address_id}/verify/{activation_token}")
def verify_address(call: Call) -> Reply:
    """Any token verifies an address once a verification email was sent (the sandbox cannot know the real one)."""
    record = call.state.email_addresses.lookup(call.params["email_address_id"])
    if not is_verified(call, record) and "__verification_sent" not in record:
        raise bad_request(
            f"No verification email has been sent to {record['email_address']}: "
            f"send one first with PUT /email/address-verify/{record['email_address_id']}/send."
        )
    record["verified"] = 1
    return Reply(address_view(call, record), "Email address verified.")


ROUTES: list[Route] = [*crud_routes(EMAIL_ADDRESSES), send_verification, verify_address]
