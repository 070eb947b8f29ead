"""Static reference data: countries and dialling codes, voice languages, and ClickSend's published test numbers."""

from __future__ import annotations

import re

from ..clicksend_facts import TEST_PHONE_NUMBERS

# ISO code -> (name, dialling code). Order is the order GET /countries answers in.
COUNTRIES: dict[str, tuple[str, str]] = {
    "AF": ("Afghanistan", "93"),
    "AR": ("Argentina", "54"),
    "AU": ("Australia", "61"),
    "AT": ("Austria", "43"),
    "BE": ("Belgium", "32"),
    "BR": ("Brazil", "55"),
    "CA": ("Canada", "1"),
    "CN": ("China", "86"),
    "DK": ("Denmark", "45"),
    "FI": ("Finland", "358"),
    "FR": ("France", "33"),
    "DE": ("Germany", "49"),
    "HK": ("Hong Kong", "852"),
    "IN": ("India", "91"),
    "ID": ("Indonesia", "62"),
    "IE": ("Ireland", "353"),
    "IL": ("Israel", "972"),
    "IT": ("Italy", "39"),
    "JP": ("Japan", "81"),
    "MY": ("Malaysia", "60"),
    "MX": ("Mexico", "52"),
    "NL": ("Netherlands", "31"),
    "NZ": ("New Zealand", "64"),
    "NO": ("Norway", "47"),
    "PH": ("Philippines", "63"),
    "PL": ("Poland", "48"),
    "PT": ("Portugal", "351"),
    "SG": ("Singapore", "65"),
    "ZA": ("South Africa", "27"),
    "KR": ("South Korea", "82"),
    "ES": ("Spain", "34"),
    "SE": ("Sweden", "46"),
    "CH": ("Switzerland", "41"),
    "TH": ("Thailand", "66"),
    "AE": ("United Arab Emirates", "971"),
    "GB": ("United Kingdom", "44"),
    "US": ("United States", "1"),
}

# +1 is shared; like ClickSend without a `country` hint, the sandbox reads it as the US.
_PREFIX_OWNER: dict[str, str] = {code: iso for iso, (_, code) in COUNTRIES.items() if iso != "CA"}

VOICE_GENDERS: tuple[str, ...] = ("female", "male")

# code -> country label, as GET /voice/lang lists them.
VOICE_LANGUAGES: dict[str, str] = {
    "en-us": "English, US",
    "en-au": "English, Australia",
    "en-gb": "English, UK",
    "en-in": "English, India",
    "en-gb-wls": "English, Wales",
    "cy-gb-wls": "Welsh",
    "de-de": "German, Germany",
    "es-es": "Spanish, Spain",
    "es-us": "Spanish, US",
    "fr-fr": "French, France",
    "fr-ca": "French, Canada",
    "it-it": "Italian, Italy",
    "ja-jp": "Japanese, Japan",
    "ko-kr": "Korean, Korea",
    "nl-nl": "Dutch, Netherlands",
    "pt-br": "Portuguese, Brazil",
    "pt-pt": "Portuguese, Portugal",
    "zh-cn": "Chinese, Mandarin",
}

TEST_NUMBERS = TEST_PHONE_NUMBERS

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def is_e164(number: object) -> bool:
    """`+` then 8-15 digits (no leading zero): a plausible E.164 number."""
    return isinstance(number, str) and _E164.fullmatch(number) is not None


def country_of(number: str) -> str | None:
    """ISO code for an E.164 number by its longest known dialling prefix, or None."""
    digits = number.lstrip("+")
    for length in (3, 2, 1):
        owner = _PREFIX_OWNER.get(digits[:length])
        if owner is not None:
            return owner
    return None


def countries_payload() -> list[dict[str, str]]:
    return [{"code": code, "value": name} for code, (name, _) in COUNTRIES.items()]


def voice_languages_payload() -> list[dict[str, object]]:
    return [{"code": code, "country": label, "gender": list(VOICE_GENDERS)} for code, label in VOICE_LANGUAGES.items()]
