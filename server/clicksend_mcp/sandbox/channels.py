"""What a message channel (sms, mms, voice, fax, email, post) is: prices, parts, per-message checks, extras."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Record = dict[str, Any]

# (message, whole request body) -> an application status code when the message is invalid, else None.
Check = Callable[[Record, Record], "str | None"]
# (message, whole request body, now) -> channel-specific fields for the stored record and the answer.
Extras = Callable[[Record, Record, int], Record]


def no_check(_message: Record, _body: Record) -> str | None:
    return None


def no_extras(_message: Record, _body: Record, _now: int) -> Record:
    return {}


@dataclass(frozen=True)
class Channel:
    """One sending channel. The shared send/price/history/cancel logic is driven entirely by these fields."""

    name: str  # key in SandboxState.messages/receipts/inbound, and `message_type` of receipts
    label: str  # in messages: "sms", "mms", "voice", "fax"
    prices: Mapping[str, Decimal]
    parts: Callable[[str], int]
    sent_status: str  # history status once delivered
    body_required: bool = True
    check_sender: bool = True  # INVALID_SENDER_ID for a malformed `from`
    auto_reply: bool = False  # test numbers answer with an inbound message
    required_top_level: tuple[str, ...] = ()  # body fields besides `messages`
    check: Check = field(default=no_check)
    extras: Extras = field(default=no_extras)
    contact_field: str = "phone_number"  # what a list_id fans out to: each contact's phone_number, fax_number, ...
    queued_msg: str = "Messages queued for delivery."
    delivered_text: str = "Success: Message received on handset."


_ALPHA_SENDER = re.compile(r"^[A-Za-z0-9]{1,11}$")
_NUMERIC_SENDER = re.compile(r"^\+?\d{3,16}$")


def valid_sender(sender: object) -> bool:
    """An alphanumeric tag of at most 11 characters without spaces, or a phone number."""
    if not isinstance(sender, str):
        return False
    return bool(_NUMERIC_SENDER.fullmatch(sender) or _ALPHA_SENDER.fullmatch(sender))
