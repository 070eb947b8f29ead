"""Static reference data beside reference.py: regions, timezones, price lists, packages, master templates, imports."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .pricing import (
    DEDICATED_NUMBER_MONTHLY,
    DIRECT_MAIL_PRICES,
    EMAIL_PRICES,
    FAX_PRICES,
    LETTER_COLOUR_SURCHARGE,
    LETTER_PRICES,
    MMS_PRICES,
    POSTCARD_PRICES,
    SMS_PRICES,
    VOICE_PRICES,
    money,
    part_price,
)
from .reference import COUNTRIES

Record = dict[str, Any]

REGIONS: dict[str, str] = {
    "AU": "Oceania",
    "NZ": "Oceania",
    "US": "North America",
    "CA": "North America",
    "MX": "North America",
    "AR": "South America",
    "BR": "South America",
    "ZA": "Africa",
    "AE": "Middle East",
    "IL": "Middle East",
}
_ASIA = {"AF", "CN", "HK", "IN", "ID", "JP", "MY", "PH", "SG", "KR", "TH"}

# Global Sending ids (GET /country-list): Australia is 1, then the other countries in GET /countries order.
GLOBAL_SENDING_IDS: dict[str, int] = {
    code: number for number, code in enumerate(["AU", *(c for c in COUNTRIES if c != "AU")], start=1)
}


def region_of(code: str) -> str:
    if code in REGIONS:
        return REGIONS[code]
    return "Asia" if code in _ASIA else "Europe"


def country_list() -> list[Record]:
    """GET /country-list: every Global Sending country with its numeric id."""
    by_id = sorted(GLOBAL_SENDING_IDS.items(), key=lambda item: item[1])
    return [
        {"id": number, "name": COUNTRIES[code][0], "code": code, "region": region_of(code)} for code, number in by_id
    ]


def user_country(country_id: int, agreed_at: int) -> Record:
    """One selected Global Sending country, as GET /user-countries shows it."""
    code = next(code for code, number in GLOBAL_SENDING_IDS.items() if number == country_id)
    name = COUNTRIES[code][0]
    return {
        "id": country_id,
        "name": name,
        "code": code,
        "region": region_of(code),
        "agreed_at": agreed_at,
        "registration_entity": {"id": 8, "name": "Other"},
        "registration_status": {"id": 1, "name": "NOT_INITIATED"},
        "sms_registration_type": 0,
        "block_registration": False,
        "block_leads": False,
        "restricted_sending": False,
        "trial_sending": 0,
        "has_regulation_requirements": 1,
        "regulation_requirements_description": (
            f"Messages to {name} must be commercial, sent with the recipient's consent and carry a way to opt out."
        ),
    }


TIMEZONES: tuple[str, ...] = (
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Mexico_City",
    "America/New_York",
    "America/Sao_Paulo",
    "America/Toronto",
    "America/Vancouver",
    "Asia/Dubai",
    "Asia/Hong_Kong",
    "Asia/Jakarta",
    "Asia/Kolkata",
    "Asia/Manila",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Darwin",
    "Australia/Hobart",
    "Australia/Melbourne",
    "Australia/Perth",
    "Australia/Sydney",
    "Europe/Amsterdam",
    "Europe/Berlin",
    "Europe/Dublin",
    "Europe/London",
    "Europe/Madrid",
    "Europe/Paris",
    "Europe/Rome",
    "Europe/Stockholm",
    "Pacific/Auckland",
    "UTC",
)

# Currency code -> (long name, prefix, cents prefix, units per AUD) for GET /pricing/{country}?currency=.
CURRENCIES: dict[str, tuple[str, str, str, Decimal]] = {
    "AUD": ("Australian Dollars", "$", "c", Decimal("1")),
    "USD": ("US Dollars", "$", "¢", Decimal("0.66")),
    "GBP": ("British Pounds", "£", "p", Decimal("0.52")),
    "EUR": ("Euros", "€", "c", Decimal("0.61")),
    "NZD": ("New Zealand Dollars", "$", "c", Decimal("1.09")),
}


def currency_block(code: str) -> Record:
    long_name, prefix, cents, _ = CURRENCIES[code]
    return {
        "currency_name_short": code,
        "currency_prefix_d": prefix,
        "currency_prefix_c": cents,
        "currency_name_long": long_name,
    }


def price_list(country: str, currency: str) -> Record:
    """GET /pricing/{country}: every channel's price for one country, converted from AUD."""
    rate = CURRENCIES[currency][3]

    def p(amount: Decimal) -> str:
        return money(amount * rate)

    sms = part_price(SMS_PRICES, country)
    monthly = part_price(DEDICATED_NUMBER_MONTHLY, country)
    letter = part_price(LETTER_PRICES, country)
    return {
        "country": country,
        "sms": {
            "price_rate_0": p(sms),
            "price_rate_1": p(sms * Decimal("0.93")),
            "price_rate_2": p(sms * Decimal("0.86")),
            "price_rate_3": p(sms * Decimal("0.79")),
            "dedicated_number_setup": p(Decimal(0)),
            "dedicated_number_monthly": p(monthly),
            "dedicated_number_shortcode_setup": p(Decimal(0)),
            "dedicated_number_shortcode_monthly": p(Decimal(0)),
        },
        "mms": {
            "price_mms": p(part_price(MMS_PRICES, country)),
            "dedicated_number_setup": p(Decimal(0)),
            "dedicated_number_monthly": p(monthly),
        },
        "voice": {
            "price_mobile": p(part_price(VOICE_PRICES, country)),
            "price_landline": p(part_price(VOICE_PRICES, country) * Decimal("0.75")),
        },
        "fax": {
            "price_fax": p(part_price(FAX_PRICES, country)),
            "dedicated_number_setup": p(Decimal(0)),
            "dedicated_number_monthly": p(monthly),
        },
        "email": {"price_rate_0": p(part_price(EMAIL_PRICES, country))},
        "post": {
            "price_letter_black": p(letter),
            "price_letter_colour": p(letter + LETTER_COLOUR_SURCHARGE),
            "price_letter_page_black": p(Decimal("0.1000")),
            "price_letter_page_colour": p(Decimal("0.2400")),
            "price_direct_mail_dl": p(DIRECT_MAIL_PRICES["DL"]),
            "price_direct_mail_a5": p(DIRECT_MAIL_PRICES["A5"]),
            "direct_mail_min_quantity": 5000,
        },
        "postcard": {"price_postcard": p(part_price(POSTCARD_PRICES, country))},
        "_currency": currency_block(currency),
    }


PACKAGE_PRICES: dict[int, int] = {1: 20, 2: 50, 3: 100, 4: 500}  # package_id -> price in AUD


def _quantity(budget: int, unit: Decimal) -> int:
    return int(Decimal(budget) / unit) if unit else 0


def packages(country: str) -> list[Record]:
    """GET /recharge/packages: what each package buys in one country."""
    sms, mms = part_price(SMS_PRICES, country), part_price(MMS_PRICES, country)
    voice, fax = part_price(VOICE_PRICES, country), part_price(FAX_PRICES, country)
    email, letter = part_price(EMAIL_PRICES, country), part_price(LETTER_PRICES, country)
    postcard = part_price(POSTCARD_PRICES, country)
    return [
        {
            "package_id": package_id,
            "package_price": str(price),
            "price_rate": 0,
            "sms_price": float(sms),
            "sms_quantity": _quantity(price, sms),
            "voice_mobile_price": float(voice),
            "voice_mobile_quantity": _quantity(price, voice),
            "mms_price": float(mms),
            "mms_quantity": _quantity(price, mms),
            "fax_price": float(fax),
            "fax_quantity": _quantity(price, fax),
            "email_price": float(email),
            "email_quantity": _quantity(price, email),
            "post_letter_black_price": float(letter),
            "post_letter_black_quantity": _quantity(price, letter),
            "postcard_price": float(postcard),
            "postcard_quantity": _quantity(price, postcard),
        }
        for package_id, price in PACKAGE_PRICES.items()
    ]


_THUMBS = "https://s3-ap-southeast-2.amazonaws.com/clicksend-api-downloads/_email-marketing/_templates-master"
EMAIL_CATEGORIES: dict[int, str] = {2: "Alerts/Notifications", 3: "Art", 4: "Birthday", 23: "Blank Template"}
# template_id_master -> (name, category_id, slug, date_added)
MASTER_TEMPLATES: dict[int, tuple[str, int, str, int]] = {
    1: ("Minty", 3, "minty", 1445848821),
    23: ("Blank", 23, "blank", 1445848821),
    41: ("Service Alert", 2, "alert", 1447736880),
    57: ("Welcome Email", 2, "basic2", 1436157486),
    64: ("Happy Birthday", 4, "birthday", 1449042967),
}


def master_template(template_id: int, *, with_body: bool) -> Record:
    name, category_id, slug, added = MASTER_TEMPLATES[template_id]
    record: Record = {
        "template_id_master": template_id,
        "category_id": category_id,
        "template_name": name,
        "date_added": added,
        "thumbnail": {"small": f"{_THUMBS}/{slug}/thumb-small.jpg", "large": f"{_THUMBS}/{slug}/thumb-large.jpg"},
    }
    if with_body:
        record["body"] = master_body(template_id)
    return record


def master_body(template_id: int) -> str:
    name = MASTER_TEMPLATES[template_id][0]
    return (
        '<!DOCTYPE html><html><body><table width="100%"><tr><td>'
        f"<h1>{name}</h1><p>Hello {{first_name}},</p><p>Your message here.</p>"
        "</td></tr></table></body></html>"
    )


IMPORT_FIELDS: tuple[tuple[str, str], ...] = (
    ("phone", "Phone"),
    ("first_name", "First Name"),
    ("last_name", "Last Name"),
    ("custom1", "Custom String 1"),
    ("custom2", "Custom String 2"),
    ("custom3", "Custom String 3"),
    ("custom4", "Custom String 4"),
    ("fax_number", "Fax Number"),
    ("organization_name", "Organization Name"),
    ("email", "Email"),
    ("address_line_1", "Address Line 1"),
    ("address_line_2", "Address Line 2"),
    ("address_city", "City"),
    ("address_state", "State"),
    ("address_postal_code", "Postal Code"),
    ("address_country", "Country"),
)
# Import field name -> contact field name, where they differ.
IMPORT_TO_CONTACT: dict[str, str] = {
    "phone": "phone_number",
    "custom1": "custom_1",
    "custom2": "custom_2",
    "custom3": "custom_3",
    "custom4": "custom_4",
}

# location_id -> (country, place name, postal code, state, latitude, longitude), for direct mail.
DIRECT_MAIL_LOCATIONS: dict[int, tuple[str, str, str, str, str, str]] = {
    1: ("AU", "Perth", "6000", "WA", "-31.952200", "115.858600"),
    2: ("AU", "Fremantle", "6160", "WA", "-32.056900", "115.747300"),
    3: ("AU", "Melbourne", "3000", "VIC", "-37.814000", "144.963300"),
    4: ("AU", "Sydney", "2000", "NSW", "-33.868800", "151.209300"),
    5: ("AU", "Brisbane", "4000", "QLD", "-27.469800", "153.025100"),
    6: ("GB", "London", "EC1A", "England", "51.520100", "-0.097600"),
    7: ("GB", "Manchester", "M1", "England", "53.480800", "-2.242600"),
    8: ("US", "Denver", "80202", "CO", "39.752500", "-104.998000"),
    9: ("US", "New York", "10001", "NY", "40.750600", "-73.997200"),
    10: ("NZ", "Auckland", "1010", "Auckland", "-36.848500", "174.763300"),
}


def direct_mail_location(location_id: int) -> Record:
    country, place, postal, state, latitude, longitude = DIRECT_MAIL_LOCATIONS[location_id]
    return {
        "location_id": location_id,
        "country_code": country,
        "postal_code": postal,
        "place_name": place,
        "admin_name1": state,
        "admin_code1": state,
        "latitude": latitude,
        "longitude": longitude,
        "accuracy": 4,
    }


COMPLIANT_SENDER_TYPES: tuple[Record, ...] = (
    {
        "recipient_country_code": "AU",
        "blocked_sender_types": ["tollfree", "10DLC"],
        "allowed_sender_types": [
            {"sender_type": "longcode", "allowed_sender_countries": {"global": False, "country_codes": ["AU"]}},
            {"sender_type": "alpha_tag", "allowed_sender_countries": {"global": True}},
            {"sender_type": "own_number", "allowed_sender_countries": {"global": False, "country_codes": ["AU"]}},
            {"sender_type": "shared_longcode", "allowed_sender_countries": {"global": True}},
        ],
    },
    {
        "recipient_country_code": "US",
        "blocked_sender_types": ["alpha_tag", "own_number"],
        "allowed_sender_types": [
            {"sender_type": "10DLC", "allowed_sender_countries": {"global": False, "country_codes": ["US", "CA"]}},
            {"sender_type": "tollfree", "allowed_sender_countries": {"global": False, "country_codes": ["US", "CA"]}},
        ],
    },
    {
        "recipient_country_code": "GB",
        "blocked_sender_types": ["10DLC"],
        "allowed_sender_types": [
            {"sender_type": "alpha_tag", "allowed_sender_countries": {"global": True}},
            {"sender_type": "longcode", "allowed_sender_countries": {"global": False, "country_codes": ["GB"]}},
        ],
    },
)

SDK_TYPES: tuple[str, ...] = ("cs", "java", "android", "objectivec", "angular", "ruby", "python", "php", "nodejs", "go")
