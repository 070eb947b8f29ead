"""What a message costs: SMS part counting (GSM-7 vs unicode) and fixed per-country prices for each channel."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

# GSM 03.38 basic character set (one septet each) and its extension table (two septets each: escape + char).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM_SINGLE, GSM_PART = 160, 153
UNICODE_SINGLE, UNICODE_PART = 70, 67


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text)


def sms_parts(text: str) -> int:
    """Message parts: GSM-7 160 single / 153 per part; otherwise unicode 70 / 67 (UTF-16 code units)."""
    if not text:
        return 0
    if is_gsm7(text):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        single, part = GSM_SINGLE, GSM_PART
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = UNICODE_SINGLE, UNICODE_PART
    return 1 if units <= single else math.ceil(units / part)


def voice_parts(text: str) -> int:
    """Voice calls are billed per started block of 300 characters of spoken text."""
    return max(1, math.ceil(len(text) / 300)) if text else 0


def single_part(_text: str) -> int:
    """MMS: one message, whatever its length."""
    return 1


# Per-part price by recipient country; "*" is every other country.
SMS_PRICES: Mapping[str, Decimal] = {
    "AU": Decimal("0.0770"),
    "US": Decimal("0.0280"),
    "CA": Decimal("0.0280"),
    "GB": Decimal("0.0550"),
    "NZ": Decimal("0.0990"),
    "*": Decimal("0.0900"),
}
MMS_PRICES: Mapping[str, Decimal] = {
    "AU": Decimal("0.4400"),
    "US": Decimal("0.0700"),
    "CA": Decimal("0.0700"),
    "*": Decimal("0.5000"),
}
VOICE_PRICES: Mapping[str, Decimal] = {
    "AU": Decimal("0.0700"),
    "US": Decimal("0.0500"),
    "GB": Decimal("0.0600"),
    "*": Decimal("0.1200"),
}


FAX_PRICES: Mapping[str, Decimal] = {  # per page
    "AU": Decimal("0.2000"),
    "US": Decimal("0.1000"),
    "GB": Decimal("0.1500"),
    "*": Decimal("0.2500"),
}
EMAIL_PRICES: Mapping[str, Decimal] = {"*": Decimal("0.0050")}  # per recipient, wherever they are
LETTER_PRICES: Mapping[str, Decimal] = {  # one black and white page, standard post
    "AU": Decimal("1.2700"),
    "US": Decimal("1.1000"),
    "GB": Decimal("1.3500"),
    "NZ": Decimal("1.6000"),
    "*": Decimal("2.2000"),
}
LETTER_COLOUR_SURCHARGE = Decimal("0.2000")
LETTER_PRIORITY_SURCHARGE = Decimal("0.5000")
POSTCARD_PRICES: Mapping[str, Decimal] = {
    "AU": Decimal("1.7100"),
    "US": Decimal("1.4000"),
    "GB": Decimal("1.5000"),
    "*": Decimal("2.5000"),
}
DIRECT_MAIL_PRICES: Mapping[str, Decimal] = {"A5": Decimal("0.4400"), "DL": Decimal("0.4400")}  # per piece
DEDICATED_NUMBER_MONTHLY: Mapping[str, Decimal] = {
    "AU": Decimal("20.7100"),
    "US": Decimal("4.4000"),
    "CA": Decimal("4.4000"),
    "GB": Decimal("9.9000"),
    "NZ": Decimal("19.0000"),
    "*": Decimal("15.0000"),
}


def part_price(prices: Mapping[str, Decimal], country: str | None) -> Decimal:
    return prices.get(country or "*", prices["*"])


def money(amount: Decimal) -> str:
    """ClickSend's four-decimal price string, e.g. "0.0770"."""
    return f"{amount.quantize(Decimal('0.0001'))}"
