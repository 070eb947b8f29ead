"""Own numbers: phone numbers you verify by one-time code to send from (verification, list, get, relabel, delete)."""

from __future__ import annotations

import re

from ..call import Call
from ..collection import Collection, Record, public
from ..envelope import Reply, bad_request, missing_fields
from ..reference import country_of, is_e164
from ..routing import Route, route
from .senders import DONE, cursor_page, iso, owner_fields, page_url

CODE_LIFETIME = 600  # seconds a texted code stays valid
ATTEMPTS = 3
# The sandbox texts nobody, so it cannot know the code: any 6 letters or digits count as the right code.
_CODE = re.compile(r"^[A-Za-z0-9]{6}$")


def _own_numbers(call: Call) -> Collection:
    return call.state.collection("own_numbers")


def _verifications(call: Call) -> Collection:
    return call.state.collection("own_number_verifications")


def _phone(body: Record) -> str:
    phone = body.get("phone_number")
    if phone in (None, ""):
        raise missing_fields("phone_number")
    if not is_e164(phone):
        raise bad_request(f"phone_number must be in E.164 format, e.g. +61411111111 (got {phone!r}).")
    return str(phone)


@route("POST", "/own-numbers/verifications")
def request_verification(call: Call) -> Reply:
    """Starts a verification: a code would be texted to the number; it expires after ten minutes."""
    body = call.json_object(required=True)
    phone = _phone(body)
    if any(item["phone_number"] == phone for item in _own_numbers(call)):
        raise bad_request(f"{phone} is already one of your own numbers.", "ALREADY_EXISTS")
    record = _verifications(call).add(
        {
            "own_number_id": None,
            "status": "PENDING",
            "expires_timestamp": iso(call.now + CODE_LIFETIME),
            "remaining_attempts": ATTEMPTS,
            "created_timestamp": iso(call.now),
            "updated_timestamp": iso(call.now),
            "__phone_number": phone,
            "__country": body.get("country") or country_of(phone),
            "__label": body.get("label") or "",
            "__expires": call.now + CODE_LIFETIME,
        }
    )
    return Reply(public(record), DONE, bare=True)


def _approve(call: Call, verification: Record) -> None:
    own = _own_numbers(call).add(
        {
            **owner_fields(),
            "phone_number": verification["__phone_number"],
            "country": verification["__country"],
            "label": verification["__label"],
            "status": "APPROVED",
            "verified_timestamp": iso(call.now),
            "notified_timestamp": None,
            "is_nearing_expiration": False,
            "created_timestamp": iso(call.now),
            "updated_timestamp": iso(call.now),
        }
    )
    verification.update(status="APPROVED", own_number_id=own["id"])


@route("POST", "/own-numbers/verifications/{verification_id}/verify")
def verify_code(call: Call) -> Reply:
    """A wrong code uses up an attempt; with none left, or after expiry, the verification fails."""
    verification = _verifications(call).lookup(call.params["verification_id"])
    body = call.json_object(required=True)
    if body.get("code") in (None, ""):
        raise missing_fields("code")
    if _phone(body) != verification["__phone_number"]:
        raise bad_request("phone_number is not the number this verification was started for.")
    if verification["status"] != "PENDING":
        raise bad_request(f"This verification is already {verification['status']}.")
    if call.now > verification["__expires"]:
        verification.update(status="EXPIRED", updated_timestamp=iso(call.now))
        raise bad_request("The code has expired: request a new one.")
    verification["updated_timestamp"] = iso(call.now)
    if _CODE.fullmatch(str(body["code"]).strip()):
        _approve(call, verification)
    else:
        verification["remaining_attempts"] -= 1
        if verification["remaining_attempts"] <= 0:
            verification["status"] = "REJECTED"
    return Reply(public(verification), DONE, bare=True)


@route("GET", "/own-numbers")
def list_own_numbers(call: Call) -> Reply:
    wanted = {s.strip().upper() for s in (call.query.get("filter[status][]") or "").split(",") if s.strip()}
    items = [item for item in _own_numbers(call) if not wanted or item["status"] in wanted]
    sort_by = call.query.get("sort_by")
    if sort_by:
        items.sort(key=lambda item: str(item.get(sort_by) or ""))
    chunk, following = cursor_page(call, items, "page_size", 10, 100)
    size = min(max(call.int_query("page_size") or 10, 1), 100)
    pagination = {
        "self": page_url(call, "page_size", size, call.query.get("offset")),
        "next": page_url(call, "page_size", size, following) if following else None,
        "page_size": size,
    }
    return Reply({"own_numbers": chunk, "_metadata": {"pagination": pagination}}, DONE, bare=True)


@route("GET", "/own-numbers/{own_number_id}")
def get_own_number(call: Call) -> Reply:
    return Reply(_own_numbers(call).lookup(call.params["own_number_id"]), DONE, bare=True)


@route("PATCH", "/own-numbers/{own_number_id}")
def relabel_own_number(call: Call) -> Reply:
    record = _own_numbers(call).lookup(call.params["own_number_id"])
    label = call.json_object(required=True).get("label")
    if label is not None and not isinstance(label, str):
        raise bad_request("label must be a string.")
    record.update(label=label or "", updated_timestamp=iso(call.now))
    return Reply(record, DONE, bare=True)


@route("DELETE", "/own-numbers/{own_number_id}")
def delete_own_number(call: Call) -> Reply:
    record = _own_numbers(call).lookup(call.params["own_number_id"])
    _own_numbers(call).remove(record["id"])
    return Reply(record, DONE, bare=True)


ROUTES: list[Route] = [
    request_verification,
    verify_code,
    list_own_numbers,
    get_own_number,
    relabel_own_number,
    delete_own_number,
]
