"""SMS and MMS campaigns to a contact list: send, price, list, get, update and cancel, plus SMS link tracking."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..call import Call
from ..channels import Channel, Record
from ..collection import Collection, public
from ..envelope import Reply, bad_request, missing_fields
from ..files import export_handler
from ..listing import listing, page_of
from ..message_store import SCHEDULED, cancel_message
from ..messaging import NO_CREDIT_MSG, Outcome, evaluate, parse_schedule, queue
from ..pricing import money
from ..routing import Handler, Route
from ..state import CURRENCY, SANDBOX_SENDER
from .mms import MMS
from .sms import SMS

CANCELLED = "Cancelled"
MESSAGE_IDS = "__message_ids"


def campaign_status(record: Record, now: int) -> str:
    """Cancelled, Scheduled until its time comes, then Sent (the sandbox delivers on schedule)."""
    if record.get("status") == CANCELLED:
        return CANCELLED
    return "Scheduled" if int(record.get("schedule") or 0) > now else "Sent"


@dataclass(frozen=True)
class CampaignKind:
    """One kind of campaign: where it lives, which channel sends it, and what it says."""

    collection: str
    id_param: str  # also the record's id field
    path: str
    channel: Channel
    required: tuple[str, ...]
    fields: tuple[str, ...]
    label: str  # "SMS", "MMS"
    created_msg: str
    listed_msg: str
    cancelled_msg: str


SMS_CAMPAIGNS = CampaignKind(
    collection="sms_campaigns",
    id_param="sms_campaign_id",
    path="/sms-campaigns",
    channel=SMS,
    required=("name", "list_id", "body"),
    fields=("name", "list_id", "body", "from", "schedule", "url_to_shorten", "senders", "source", "custom_string"),
    label="SMS",
    created_msg="Your new campaign has been added.",
    listed_msg="Here are your SMS campaign(s) (shared included).",
    cancelled_msg="Your SMS Campaign has been cancelled.",
)
MMS_CAMPAIGNS = CampaignKind(
    collection="mms_campaigns",
    id_param="mms_campaign_id",
    path="/mms-campaigns",
    channel=MMS,
    required=("name", "list_id", "body", "subject", "media_file"),
    fields=("name", "list_id", "body", "from", "subject", "media_file", "schedule", "source", "custom_string"),
    label="MMS",
    created_msg="MMS campaign has been created.",
    listed_msg="Here are your MMS campaigns.",
    cancelled_msg="Scheduled MMS campaign has been cancelled.",
)


def _items(call: Call, kind: CampaignKind) -> Collection:
    return call.state.collection(kind.collection)


def view(call: Call, record: Record) -> Record:
    shown = public(record)
    owner = call.state.lists.get(record.get("list_id") or 0)
    shown.update(status=campaign_status(record, call.now), _list_name=owner["list_name"] if owner else None)
    return shown


def _fields(call: Call, kind: CampaignKind) -> Record:
    """The campaign fields of the request: required ones present, list known, schedule valid."""
    body = call.json_object(required=True)
    missing = [name for name in kind.required if body.get(name) in (None, "")]
    if missing:
        raise missing_fields(*missing)
    fields = {name: body[name] for name in kind.fields if name in body}
    list_id = fields["list_id"]
    if isinstance(list_id, str) and list_id.strip().isdigit():
        list_id = int(list_id.strip())
    if not isinstance(list_id, int) or isinstance(list_id, bool):
        raise bad_request(f"list_id must be an integer (got {fields['list_id']!r}).")
    call.state.lists.require(list_id)
    send_at, ok = parse_schedule(fields.get("schedule"), call.now)
    if not ok or send_at is None:
        raise bad_request(
            "The schedule specified is invalid. Use a unix timestamp e.g. 1429170372.", "INVALID_SCHEDULE"
        )
    fields.update(list_id=list_id, schedule=send_at, **{"from": fields.get("from") or SANDBOX_SENDER})
    return fields


def _channel_body(kind: CampaignKind, fields: Record) -> Record:
    message = {name: fields.get(name) for name in ("list_id", "body", "from", "schedule", "subject", "custom_string")}
    return {"messages": [message], "media_file": fields.get("media_file")}


def _price(outcomes: list[Outcome]) -> tuple[int, Decimal]:
    ok = [o for o in outcomes if o.send_at is not None]
    return len(ok), sum((o.price for o in ok), Decimal(0))


def _record_fields(call: Call, kind: CampaignKind, fields: Record, count: int) -> Record:
    extra: Record = {"custom_string": fields.get("custom_string") or "", "source": fields.get("source") or "rest.v3"}
    if kind is SMS_CAMPAIGNS:
        extra.update(url_to_shorten=fields.get("url_to_shorten") or "", unsubscribe_link=0)
        extra["senders"] = fields.get("senders") or []
    else:
        media = str(fields.get("media_file"))
        extra.update(file_name=media.rsplit("/", 1)[-1], _media_file_url=media)
    return {
        "name": fields["name"],
        "user_id": call.state.account["user_id"],
        "subaccount_id": call.state.account["_subaccount"]["subaccount_id"],
        "list_id": fields["list_id"],
        "from": fields["from"],
        **({"subject": fields.get("subject")} if kind is MMS_CAMPAIGNS else {}),
        "body": fields["body"],
        "schedule": fields["schedule"],
        "status": "Queued",
        **extra,
        "_total_count": count,
    }


def send_handler(kind: CampaignKind) -> Handler:
    def handle(call: Call) -> Reply:
        fields = _fields(call, kind)
        _, outcomes = evaluate(call, kind.channel, _channel_body(kind, fields))
        count, _total = _price(outcomes)
        if call.caller.no_credit:
            return Reply(None, NO_CREDIT_MSG, "INSUFFICIENT_CREDIT")
        records = queue(call, kind.channel, [o for o in outcomes if o.send_at is not None])
        draft = _record_fields(call, kind, fields, count)
        campaign = _items(call, kind).add(
            {**draft, "date_added": call.now, MESSAGE_IDS: [r["message_id"] for r in records]}
        )
        return Reply(view(call, campaign), kind.created_msg)

    return handle


def price_handler(kind: CampaignKind) -> Handler:
    def handle(call: Call) -> Reply:
        fields = _fields(call, kind)
        _, outcomes = evaluate(call, kind.channel, _channel_body(kind, fields))
        count, total = _price(outcomes)
        data = {name: fields.get(name) for name in ("from", "body", "schedule")}
        summary = {"total_count": count, "total_price": money(total), "data": data, "_currency": dict(CURRENCY)}
        return Reply(summary, f"Here is your price for your {kind.label} Campaign.")

    return handle


def list_handler(kind: CampaignKind) -> Handler:
    def handle(call: Call) -> Reply:
        records = [view(call, record) for record in reversed(_items(call, kind).all())]
        return Reply(listing(call, records, date_field="date_added"), kind.listed_msg)

    return handle


def get_handler(kind: CampaignKind) -> Handler:
    def handle(call: Call) -> Reply:
        return Reply(view(call, _items(call, kind).lookup(call.params[kind.id_param])), f"Your {kind.label} Campaign.")

    return handle


def _scheduled(call: Call, kind: CampaignKind, action: str) -> Record:
    record = _items(call, kind).lookup(call.params[kind.id_param])
    status = campaign_status(record, call.now)
    if status != "Scheduled":
        raise bad_request(f"{kind.label} campaign #{record[kind.id_param]} cannot be {action}: its status is {status}.")
    return record


def update_handler(kind: CampaignKind) -> Handler:
    """PUT: replaces a scheduled campaign; its queued messages are replaced by messages from the new details."""

    def handle(call: Call) -> Reply:
        record = _scheduled(call, kind, "updated")
        fields = _fields(call, kind)
        store = call.state.messages[kind.channel.name]
        for message_id in record[MESSAGE_IDS]:
            store.pop(message_id, None)
        _, outcomes = evaluate(call, kind.channel, _channel_body(kind, fields))
        count, _total = _price(outcomes)
        records = queue(call, kind.channel, [o for o in outcomes if o.send_at is not None])
        record.update(_record_fields(call, kind, fields, count))
        record[MESSAGE_IDS] = [r["message_id"] for r in records]
        return Reply(view(call, record), f"Your {kind.label} Campaign has been updated.")

    return handle


def cancel_handler(kind: CampaignKind) -> Handler:
    def handle(call: Call) -> Reply:
        record = _scheduled(call, kind, "cancelled")
        store = call.state.messages[kind.channel.name]
        for message_id in record[MESSAGE_IDS]:
            message = store.get(message_id)
            if message is not None and message["status"] == SCHEDULED:
                cancel_message(message, call.now)
        record["status"] = CANCELLED
        return Reply(view(call, record), kind.cancelled_msg)

    return handle


def _campaign_contacts(call: Call) -> list[Record]:
    """The contacts an SMS campaign with a tracked link went to (none without url_to_shorten)."""
    record = _items(call, SMS_CAMPAIGNS).lookup(call.params["campaign_id"])
    if not record.get("url_to_shorten"):
        return []
    store = call.state.messages[SMS.name]
    messages = [store[m] for m in record[MESSAGE_IDS] if m in store]
    return [call.state.contacts.get(m["contact_id"]) or {"phone_number": m["to"]} for m in messages]


def link_tracking(call: Call) -> Reply:
    rows = [
        {
            "contact_id": contact.get("contact_id"),
            "phone_number": contact.get("phone_number"),
            "first_name": contact.get("first_name"),
            "last_name": contact.get("last_name"),
            "open_count": 0,
            "date_opened": None,
            "user_device": None,
            "user_browser": None,
            "user_os": None,
            "user_geo_country": None,
            "user_geo_region": None,
        }
        for contact in _campaign_contacts(call)
    ]
    return Reply(page_of(call, rows), "Here is your result.")


def link_statistics(call: Call) -> Reply:
    """Nobody has opened a sandbox link: every recipient counts as unopened."""
    unopened = len(_campaign_contacts(call))
    stats = {"links": {"opened": 0, "unopened": unopened}, "browser": [], "country": [], "device": [], "os": []}
    return Reply(stats, "Here is your result.")


def _kind_routes(kind: CampaignKind) -> list[Route]:
    item = f"{kind.path}/{{{kind.id_param}}}"
    return [
        Route("POST", f"{kind.path}/send", send_handler(kind)),
        Route("POST", f"{kind.path}/price", price_handler(kind)),
        Route("GET", kind.path, list_handler(kind)),
        Route("GET", item, get_handler(kind)),
        Route("PUT", item, update_handler(kind)),
        Route("PUT", f"{item}/cancel", cancel_handler(kind)),
    ]


def _campaign_exists(call: Call) -> Record:
    return _items(call, SMS_CAMPAIGNS).lookup(call.params["campaign_id"])


ROUTES: list[Route] = [
    *_kind_routes(SMS_CAMPAIGNS),
    *_kind_routes(MMS_CAMPAIGNS),
    Route("GET", "/sms-campaigns/{campaign_id}/link-tracking", link_tracking),
    Route("GET", "/sms-campaigns/{campaign_id}/link-statistics", link_statistics),
    Route("GET", "/sms-campaigns/{campaign_id}/link-export", export_handler("link_tracking.csv", _campaign_exists)),
]
