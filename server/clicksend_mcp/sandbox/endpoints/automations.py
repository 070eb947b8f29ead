"""Automation rules: inbound SMS/fax rules and delivery receipt rules for SMS, voice, fax and email (CRUD each)."""

from __future__ import annotations

from ..call import Call
from ..collection import Record
from ..crud import Messages, Resource, crud_routes
from ..envelope import bad_request
from ..routing import Route

RECEIPT_FIELDS = ("rule_name", "match_type", "action", "action_address", "enabled")
INBOUND_SMS_FIELDS = (
    "rule_name",
    "dedicated_number",
    "message_search_type",
    "message_search_term",
    "action",
    "action_address",
    "enabled",
    "webhook_type",
)
INBOUND_FAX_FIELDS = ("rule_name", "dedicated_number", "action", "action_address", "enabled")


def _as_flag(value: object, name: str) -> int:
    if value in (0, 1, "0", "1", True, False):
        return int(value in (1, "1", True))
    raise bad_request(f"{name} must be 0 or 1 (got {value!r}).")


def check_rule(_call: Call, draft: Record) -> None:
    """Rules are enabled (1) or disabled (0); names and actions are non-empty strings; types are integers."""
    draft["enabled"] = _as_flag(draft.get("enabled", 1), "enabled")
    for name in ("rule_name", "action"):
        if not isinstance(draft.get(name), str) or not str(draft[name]).strip():
            raise bad_request(f"{name} must be a non-empty string.")
    for name in ("match_type", "message_search_type"):
        value = draft.get(name)
        if name in draft and (isinstance(value, bool) or not isinstance(value, int)):
            raise bad_request(f"{name} must be an integer (got {value!r}).")


def _receipt_rules(channel: str, collection: str, label: str) -> Resource:
    return Resource(
        collection=collection,
        path=f"/automations/{channel}/receipts",
        id_param="receipt_rule_id",
        fields=RECEIPT_FIELDS,
        required=RECEIPT_FIELDS,
        messages=Messages(
            listed=f"Your list of {label} receipt rules.",
            fetched=f"Your rule incoming {label} receipt.",
            created=f"Your new {label} receipt rule has been added.",
            updated=f"Your rule incoming {label} receipt has been updated.",
            deleted=f"Your rule incoming {label} receipt has been deleted.",
        ),
        defaults=lambda _call: {"match_type": 0, "enabled": 1},
        validate=check_rule,
        deleted_data=[],
    )


SMS_INBOUND = Resource(
    collection="sms_inbound_rules",
    path="/automations/sms/inbound",
    id_param="inbound_rule_id",
    fields=INBOUND_SMS_FIELDS,
    required=("rule_name", "dedicated_number", "message_search_type", "action", "action_address", "enabled"),
    messages=Messages(
        listed="Your list of inbound rules.",
        fetched="Your inbound rule.",
        created="Your record has been added.",
        updated="Your record has been updated.",
        deleted="Your record has been deleted.",
    ),
    defaults=lambda _call: {"message_search_term": None, "body": None, "webhook_type": "post"},
    validate=check_rule,
    deleted_data=[],
)

FAX_INBOUND = Resource(
    collection="fax_inbound_rules",
    path="/automations/fax/inbound",
    id_param="inbound_rule_id",
    fields=INBOUND_FAX_FIELDS,
    required=INBOUND_FAX_FIELDS,
    messages=Messages(
        listed="Here is your result.",
        fetched="Your inbound fax rule.",
        created="New rule has been added.",
        updated="Your inbound fax rule has been updated.",
        deleted="Your fax inbound rule has been deleted.",
    ),
    defaults=lambda call: {"user_id": call.state.account["user_id"]},
    validate=check_rule,
    deleted_data=[],
)

RESOURCES: tuple[Resource, ...] = (
    SMS_INBOUND,
    FAX_INBOUND,
    _receipt_rules("sms", "sms_receipt_rules", "sms"),
    _receipt_rules("voice", "voice_receipt_rules", "voice"),
    _receipt_rules("fax", "fax_receipt_rules", "fax"),
    _receipt_rules("email", "email_receipt_rules", "email"),
)

ROUTES: list[Route] = [item for resource in RESOURCES for item in crud_routes(resource)]
