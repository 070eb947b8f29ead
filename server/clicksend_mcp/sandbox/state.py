"""The sandbox's memory: the account, resource collections and per-channel message stores, and the seed data."""

from __future__ import annotations

import secrets
import string
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from .catalog import GLOBAL_SENDING_IDS
from .collection import Collection, Record


@dataclass(frozen=True)
class CollectionSpec:
    """How a named collection numbers and names its records."""

    id_field: str
    label: str
    first_id: int = 1
    uuid_ids: bool = False


SANDBOX_USER_ID = 672721
SANDBOX_SUBACCOUNT_ID = 563840

# Every collection the sandbox knows; add a line here for a new simple resource.
COLLECTIONS: dict[str, CollectionSpec] = {
    "lists": CollectionSpec("list_id", "List", 3555277),
    "contacts": CollectionSpec("contact_id", "Contact", 1581565666),
    "sms_templates": CollectionSpec("template_id", "Template", 632497),
    "email_addresses": CollectionSpec("email_address_id", "Email address", 2),
    "email_templates": CollectionSpec("template_id", "Email template", 292),
    "email_sms_addresses": CollectionSpec("email_address_id", "Email-to-SMS allowed address", 84),
    "stripped_strings": CollectionSpec("rule_id", "Stripped string", 18),
    "sms_inbound_rules": CollectionSpec("inbound_rule_id", "Inbound SMS rule", 10),
    "sms_receipt_rules": CollectionSpec("receipt_rule_id", "SMS receipt rule", 5),
    "voice_receipt_rules": CollectionSpec("receipt_rule_id", "Voice receipt rule", 2),
    "fax_inbound_rules": CollectionSpec("inbound_rule_id", "Inbound fax rule", 14),
    "fax_receipt_rules": CollectionSpec("receipt_rule_id", "Fax receipt rule", 4),
    "email_receipt_rules": CollectionSpec("receipt_rule_id", "Email receipt rule", 1),
    "subaccounts": CollectionSpec("subaccount_id", "Subaccount", SANDBOX_SUBACCOUNT_ID),
    "return_addresses": CollectionSpec("return_address_id", "Return address", 4),
    "sms_campaigns": CollectionSpec("sms_campaign_id", "SMS campaign", 2145880),
    "mms_campaigns": CollectionSpec("mms_campaign_id", "MMS campaign", 96),
    "email_campaigns": CollectionSpec("email_campaign_id", "Email campaign", 64),
    "direct_mail_campaigns": CollectionSpec("campaign_id", "Direct mail campaign", 80),
    "numbers": CollectionSpec("dedicated_number", "Dedicated number"),  # keyed by the number itself
    "alpha_tags": CollectionSpec("id", "Alpha tag", uuid_ids=True),
    "own_numbers": CollectionSpec("id", "Own number", uuid_ids=True),
    "own_number_verifications": CollectionSpec("id", "Verification", uuid_ids=True),
    "default_senders": CollectionSpec("id", "Default sender", uuid_ids=True),
    "transactions": CollectionSpec("transaction_id", "Transaction", 1),
    "delivery_issues": CollectionSpec("issue_id", "Delivery issue", 1),
    "reseller_accounts": CollectionSpec("user_id", "Client account", 700001),
    "signups": CollectionSpec("user_id", "Account", 800001),
    "uploads": CollectionSpec("upload_id", "Upload", 15),
    "referrals": CollectionSpec("referral_rule_id", "Referral", 1),
}

CURRENCY: dict[str, str] = {
    "currency_name_short": "AUD",
    "currency_prefix_d": "$",
    "currency_prefix_c": "c",
    "currency_name_long": "Australian Dollars",
}

SANDBOX_USERNAME = "sandbox"
# A fake key shaped like a live one: the server must redact `_subaccount.api_key` before showing /account.
SANDBOX_SUBACCOUNT_API_KEY = "7C1E4F2A-93B5-4D68-A0E7-5B2D9F3C8E41"
SANDBOX_SENDER = "+61481000000"  # the shared number messages come from when no `from` is given


def _account(created: int) -> Record:
    return {
        "user_id": SANDBOX_USER_ID,
        "username": SANDBOX_USERNAME,
        "user_email": "sandbox@example.com",
        "active": 1,
        "banned": 0,
        "date_sign_up": created,
        "balance": "100.00",
        "user_phone": "+61411111111",
        "user_first_name": "Sandbox",
        "user_last_name": "User",
        "account_name": "ClickSend Sandbox",
        "account_billing_email": "sandbox@example.com",
        "country": "AU",
        "default_country_sms": "AU",
        "timezone": "Australia/Melbourne",
        "setting_unicode_sms": 0,
        "on_trial": 0,
        "_currency": {**CURRENCY, "min_recharge_amount": "20.00", "max_recharge_amount": "10000.00"},
        "_subaccount": {
            "subaccount_id": SANDBOX_SUBACCOUNT_ID,
            "api_username": SANDBOX_USERNAME,
            "email": "sandbox@example.com",
            "phone_number": "+61411111111",
            "first_name": "Sandbox",
            "last_name": "User",
            "api_key": SANDBOX_SUBACCOUNT_API_KEY,
            "access_users": 1,
            "access_billing": 1,
            "access_reporting": 1,
            "access_contacts": 1,
            "access_settings": 1,
            "access_sms": 1,
            "access_email": 1,
            "access_voice": 1,
            "access_fax": 1,
            "access_post": 1,
            "access_mms": 1,
            "is_main": 1,
        },
    }


SEED_EMAIL_BODY = "<html><body><h1>Welcome to the ClickSend sandbox</h1><p>Hello {first_name},</p></body></html>"


def reseller_settings() -> Record:
    """The account's white-label reseller settings (GET /reseller)."""
    return {
        "reseller_user_id": SANDBOX_USER_ID,
        "subdomain": "sandbox",
        "company_name": "ClickSend Sandbox",
        "logo_url_light": "https://sandbox.example.com/logo-light.png",
        "logo_url_dark": "https://sandbox.example.com/logo-dark.png",
        "colour_navigation": "#9999FF",
        "default_margin": 10,
        "default_margin_numbers": 20,
        "trial_balance": "0.00",
        "allow_public_signups": 1,
    }


def list_email_id() -> str:
    """A list's inbound email id, like ClickSend's `KB0LHD6WXFVHZWTR`."""
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(16))


def blank_contact(list_id: int, now: int) -> Record:
    """Every contact field, empty, as ClickSend returns them."""
    return {
        "list_id": list_id,
        "phone_number": None,
        "first_name": "",
        "last_name": "",
        "email": None,
        "fax_number": None,
        "organization_name": "",
        "custom_1": "",
        "custom_2": "",
        "custom_3": "",
        "custom_4": "",
        "address_line_1": "",
        "address_line_2": "",
        "address_city": "",
        "address_state": "",
        "address_postal_code": "",
        "address_country": "",
        "date_added": now,
        "date_updated": now,
    }


class SandboxState:
    """All sandbox data; one instance per sandbox app. Plain dicts and lists: the app runs on one event loop."""

    def __init__(self, now: float | None = None, *, seed: bool = True) -> None:
        self.created = int(time.time() if now is None else now)
        self.account: Record = _account(self.created)
        self.collections: dict[str, Collection] = {}
        # channel ("sms", "mms", "voice", "fax", "email", "letters", "postcards") -> message_id -> history record
        self.messages: defaultdict[str, dict[str, Record]] = defaultdict(dict)
        self.receipts: defaultdict[str, list[Record]] = defaultdict(list)
        self.inbound: defaultdict[str, list[Record]] = defaultdict(list)
        # "<channel>:receipts" / "<channel>:inbound" -> message ids marked read (hidden from the list endpoints)
        self.read: defaultdict[str, set[str]] = defaultdict(set)
        # The test numbers' answers not yet due (responder.py says who answers, and what).
        self.pending_replies: list[tuple[int, str, Record]] = []
        self.reseller: Record = reseller_settings()
        self.credit_card: Record = {
            "display_number": "XXXX-XXXX-XXXX-4242",
            "expiry_month": 12,
            "expiry_year": 2030,
            "name": "Sandbox User",
        }
        self.user_countries: dict[int, int] = {}  # Global Sending country id -> agreed_at (0: not agreed yet)
        # the main user is also the first subaccount: GET /account shows the same record as GET /subaccounts
        main = self.subaccounts.add(self.account["_subaccount"])
        self.account["_subaccount"] = main
        if seed:
            self._seed()

    def collection(self, name: str) -> Collection:
        """The named collection (see COLLECTIONS), created empty on first use."""
        found = self.collections.get(name)
        if found is None:
            spec = COLLECTIONS[name]
            found = self.collections[name] = Collection(
                spec.id_field, spec.label, spec.first_id, uuid_ids=spec.uuid_ids
            )
        return found

    @property
    def lists(self) -> Collection:
        return self.collection("lists")

    @property
    def contacts(self) -> Collection:
        return self.collection("contacts")

    @property
    def sms_templates(self) -> Collection:
        return self.collection("sms_templates")

    @property
    def email_addresses(self) -> Collection:
        return self.collection("email_addresses")

    @property
    def subaccounts(self) -> Collection:
        return self.collection("subaccounts")

    def add_balance(self, amount: float) -> str:
        """Change the account balance by `amount` (negative to spend); returns the new balance string."""
        balance = f"{float(self.account['balance']) + amount:.2f}"
        self.account["balance"] = balance
        return balance

    @staticmethod
    def new_message_id() -> str:
        """An uppercase UUID, ClickSend's message id format."""
        return str(uuid.uuid4()).upper()

    def find_message(self, message_id: str) -> tuple[str, Record] | None:
        """(channel, record) for a message id in any channel."""
        wanted = message_id.upper()
        for channel, records in self.messages.items():
            if wanted in records:
                return channel, records[wanted]
        return None

    def add_list(self, name: str) -> Record:
        return self.lists.add({"list_name": name, "list_email_id": list_email_id()})

    def add_contact(self, list_id: int, fields: Record, now: int) -> Record:
        return self.contacts.add({**blank_contact(list_id, now), **fields})

    def _seed(self) -> None:
        now = self.created
        self.add_list("Opt-Out List")
        contacts_list = self.add_list("Sandbox Contacts")
        list_id = contacts_list["list_id"]
        self.add_contact(
            list_id,
            {"phone_number": "+61411111111", "first_name": "Ada", "last_name": "Lovelace", "email": "test1@test.com"},
            now,
        )
        self.add_contact(
            list_id,
            {"phone_number": "+61422222222", "first_name": "Alan", "last_name": "Turing", "email": "test2@test.com"},
            now,
        )
        self.sms_templates.add(
            {"template_name": "Sandbox Welcome", "body": "Hello {first_name}, welcome to the ClickSend sandbox."}
        )
        self.email_addresses.add({"email_address": "test1@test.com", "verified": 1, "date_added": now})
        self.collection("return_addresses").add(
            {
                "user_id": SANDBOX_USER_ID,
                "address_name": "Sandbox Office",
                "address_line_1": "Maritime Avenue",
                "address_line_2": "",
                "address_city": "Flynn",
                "address_state": "WA",
                "address_postal_code": "6302",
                "address_country": "AU",
            }
        )
        self.collection("email_templates").add(
            {"template_name": "Sandbox Welcome Email", "template_id_master": 57, "body": SEED_EMAIL_BODY}
        )
        for referred, day in ((700901, 1), (700902, 2)):
            self.collection("referrals").add(
                {"refered_user_id": referred, "date_referred": now - day * 86_400, "percentage_referral": 5}
            )
        self.user_countries[GLOBAL_SENDING_IDS["AU"]] = now

    def snapshot(self) -> dict[str, Any]:
        """Counts of everything stored, handy in tests and logs."""
        return {
            "collections": {name: len(items) for name, items in self.collections.items()},
            "messages": {channel: len(records) for channel, records in self.messages.items()},
            "receipts": {channel: len(records) for channel, records in self.receipts.items()},
            "inbound": {channel: len(records) for channel, records in self.inbound.items()},
        }
