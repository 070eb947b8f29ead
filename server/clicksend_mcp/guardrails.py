"""Send guardrails: find a send's recipients, normalize phone numbers to E.164, and apply the send policy."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .clicksend_facts import TEST_EMAILS, TEST_FAX_NUMBERS, TEST_PHONE_NUMBERS, TEST_POSTCODES
from .compiler import CompiledTool, Path

TAG_PREFIX = "mcp-"


@dataclass(frozen=True)
class SendPolicy:
    max_recipients: int = 100
    allowed_countries: frozenset[str] = frozenset()
    test_numbers_only: bool = False
    confirm_sends: bool = False


@dataclass
class Recipient:
    kind: str
    where: str
    value: str
    country: str | None = None
    count: int = 1
    is_test: bool = False
    at: int | None = None  # when it would reach them: the message's schedule (Unix seconds), None for now


@dataclass
class CheckedSend:
    arguments: dict[str, Any]
    recipients: list[Recipient]
    tag: str | None = None
    list_ids: list[str] = field(default_factory=list)


class GuardrailError(Exception):
    """A send that must not go out. `code` is INVALID_ARGUMENTS (a bad recipient) or REFUSED (the policy)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


def _walk(node: Any, path: Path, where: str) -> Iterator[tuple[str, Any, Any]]:
    """(location, parent, value) for every value at `path`; parent is the dict holding it (or None)."""
    if not path:
        yield where, None, node
        return
    (name, each), rest = path[0], path[1:]
    if not isinstance(node, dict) or name not in node:
        return
    value = node[name]
    here = f"{where}.{name}" if where else name
    if each:
        if not isinstance(value, list):
            return
        for index, item in enumerate(value):
            if rest:
                yield from _walk(item, rest, f"{here}[{index}]")
            else:
                yield f"{here}[{index}]", value, item
    elif rest:
        yield from _walk(value, rest, here)
    else:
        yield here, node, value


def normalize_phone(number: str, region: str | None, where: str, *, fax: bool = False) -> tuple[str, str | None]:
    """E.164 and the ISO country of a number; GuardrailError naming `where` when it is not a valid number."""
    import phonenumbers  # its metadata loads on the first send, not at start-up

    text = number.strip()
    tests = TEST_FAX_NUMBERS if fax else TEST_PHONE_NUMBERS
    compact = "+" + "".join(ch for ch in text if ch.isdigit()) if text.startswith("+") else text
    if compact in tests:
        parsed = phonenumbers.parse(compact, None)
        return compact, phonenumbers.region_code_for_number(parsed)
    hint = "in international format, e.g. +61411111111"
    try:
        parsed = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        extra = "" if text.startswith("+") or region else " (or give the message's country)"
        raise GuardrailError("INVALID_ARGUMENTS", f"{where}: {number!r} is not a phone number {hint}{extra}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise GuardrailError("INVALID_ARGUMENTS", f"{where}: {number!r} is not a valid phone number ({hint})")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), phonenumbers.region_code_for_number(
        parsed
    )


def check_send(
    tool: CompiledTool, arguments: dict[str, Any], policy: SendPolicy, *, test_numbers: bool = True
) -> CheckedSend:
    """Normalize and check a send's recipients; add the lookup tag. Raises GuardrailError, sends nothing.

    `test_numbers=False`: the provider is not ClickSend, so its published test recipients are real people there."""
    guard = tool.guard
    assert guard is not None
    args = copy.deepcopy(arguments)
    if guard.kind == "spend":
        return CheckedSend(args, [])  # no recipients: what is guarded is the charge (dry run, confirmation)
    recipients: list[Recipient] = []
    list_ids: list[str] = []
    for path, kind in guard.recipients:
        for where, parent, value in _walk(args, path, ""):
            if value is None:
                continue
            if kind in ("phone", "fax"):
                if not isinstance(value, str):
                    raise GuardrailError("INVALID_ARGUMENTS", f"{where}: expected a phone number as a string")
                region = parent.get("country") if isinstance(parent, dict) else None
                e164, country = normalize_phone(
                    value, region if isinstance(region, str) else None, where, fax=kind == "fax"
                )
                if isinstance(parent, dict):
                    parent[path[-1][0]] = e164
                tests = TEST_FAX_NUMBERS if kind == "fax" else TEST_PHONE_NUMBERS
                recipients.append(
                    Recipient(
                        kind, where, e164, country, is_test=test_numbers and e164 in tests, at=_schedule(parent, args)
                    )
                )
            elif kind == "email":
                address = str(value).strip()
                recipients.append(Recipient(kind, where, address, is_test=address.lower() in TEST_EMAILS))
            elif kind == "postal":
                item = value if isinstance(value, dict) else {}
                country = str(item.get("address_country") or "").upper() or None
                code = str(item.get("address_postal_code") or "")
                shown = ", ".join(str(item[k]) for k in ("address_name", "address_postal_code") if item.get(k))
                recipients.append(
                    Recipient(kind, where, f"{shown} {country or ''}".strip(), country, is_test=code in TEST_POSTCODES)
                )
            elif kind == "list":
                list_ids.append(str(value))
                recipients.append(Recipient(kind, where, f"contact list {value}", count=0))
            elif kind == "stored_email":
                recipients.append(Recipient(kind, where, f"the allowed email address with id {value}"))
            elif kind == "area":
                quantity = value.get("quantity", 1) if isinstance(value, dict) else 1
                count = quantity if isinstance(quantity, int) and quantity > 0 else 1
                recipients.append(Recipient(kind, where, f"direct-mail area {value}", count=count))
    if not recipients:
        raise GuardrailError("INVALID_ARGUMENTS", "no recipient: give each message a `to` (or a list_id)")
    _apply_policy(recipients, policy, test_numbers)
    tag = _add_tag(args, guard.tag) if guard.tag else None
    return CheckedSend(args, recipients, tag, list_ids)


def _schedule(parent: Any, args: dict[str, Any]) -> int | None:
    """A message's schedule (its own, else the call's), so limits that depend on time judge the right moment."""
    for holder in (parent, args):
        value = holder.get("schedule") if isinstance(holder, dict) else None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _apply_policy(recipients: list[Recipient], policy: SendPolicy, test_numbers: bool = True) -> None:
    if policy.test_numbers_only:
        for r in recipients:
            if not test_numbers:
                raise GuardrailError(
                    "REFUSED",
                    f"{r.where}: the server only allows ClickSend test recipients (--test-numbers-only), and this "
                    "tool's provider is not ClickSend: its messages reach real phones, even ClickSend's test numbers",
                )
            if r.kind in ("list", "area", "stored_email"):
                raise GuardrailError(
                    "REFUSED",
                    f"{r.where}: only ClickSend test recipients are allowed (--test-numbers-only); "
                    f"{r.value} cannot be checked, send to test numbers directly",
                )
            if not r.is_test:
                raise GuardrailError(
                    "REFUSED",
                    f"{r.where}: {r.value} is not a ClickSend test recipient and the server only allows "
                    "those (--test-numbers-only); test numbers are e.g. +61411111111",
                )
    if policy.allowed_countries:
        allowed = ", ".join(sorted(policy.allowed_countries))
        for r in recipients:
            if r.kind in ("email", "stored_email"):
                continue
            if r.kind in ("list", "area"):
                raise GuardrailError(
                    "REFUSED",
                    f"{r.where}: sends are limited to {allowed} and a {r.kind} cannot be checked; "
                    "send to individual recipients instead",
                )
            if r.country not in policy.allowed_countries:
                raise GuardrailError(
                    "REFUSED",
                    f"{r.where}: {r.value} is in {r.country or 'an unknown country'}; sends are limited "
                    f"to {allowed} (--allowed-countries)",
                )
    check_count(recipients, policy)


def check_count(recipients: list[Recipient], policy: SendPolicy) -> None:
    total = sum(r.count for r in recipients)
    if total > policy.max_recipients:
        lists = [f"{r.value} ({r.where}) has {r.count} contacts" for r in recipients if r.kind == "list"]
        detail = f" ({'; '.join(lists)})" if lists else ""
        raise GuardrailError(
            "REFUSED",
            f"this send reaches {total} recipients{detail}; the operator allows at most {policy.max_recipients} "
            "per call (--max-recipients). Split it into smaller sends" + (" or smaller lists" if lists else "") + ".",
        )


def _add_tag(args: dict[str, Any], path: Path) -> str | None:
    """Put one tag on every item that has no value there, so an uncertain outcome can be looked up later."""
    tag = TAG_PREFIX + secrets.token_hex(6)
    parent_path, (leaf, _) = path[:-1], path[-1]
    used = False
    holders = [args] if not parent_path else [p for _, _, p in _walk(args, parent_path, "")]
    for holder in holders:
        if isinstance(holder, dict) and not holder.get(leaf):
            holder[leaf] = tag
            used = True
    return tag if used else None
