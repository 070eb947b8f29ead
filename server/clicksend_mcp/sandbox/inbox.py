"""What comes back from sent messages: delivery receipts and inbound replies, their read flags, and test samples."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from .call import Call
from .channels import Channel, Record
from .envelope import Reply, bad_request, missing_fields, not_found
from .listing import listing
from .message_store import DELIVERED_CODE, newest_first
from .routing import Handler
from .state import SANDBOX_SENDER, SandboxState

RECEIPTS, INBOUND = "receipts", "inbound"
POLL = "poll"  # the test endpoints' url value that stores the sample instead of pushing it to a webhook

# (call, channel) -> a sample receipt for POST /<channel>/receipts.
Sample = Callable[[Call, Channel], Record]


def _read_key(channel: Channel, kind: str) -> str:
    return f"{channel.name}:{kind}"


def _items(state: SandboxState, channel: Channel, kind: str) -> list[Record]:
    store = state.receipts if kind == RECEIPTS else state.inbound
    return store.get(channel.name, [])


def unread(state: SandboxState, channel: Channel, kind: str) -> list[Record]:
    """Receipts or inbound messages not yet marked read, oldest first."""
    seen = state.read.get(_read_key(channel, kind), set())
    return [item for item in _items(state, channel, kind) if item["message_id"] not in seen]


def receipts_handler(channel: Channel) -> Handler:
    """GET /<channel>/receipts: unread delivery receipts, paginated, newest first."""

    def handle(call: Call) -> Reply:
        records = newest_first(unread(call.state, channel, RECEIPTS))
        return Reply(listing(call, records, default_order="timestamp:desc"), "Here are your delivery receipts.")

    return handle


def receipt_handler(channel: Channel) -> Handler:
    """GET /<channel>/receipts/{message_id}: one delivery receipt (read or not)."""

    def handle(call: Call) -> Reply:
        wanted = call.params["message_id"].upper()
        for receipt in call.state.receipts.get(channel.name, []):
            if receipt["message_id"] == wanted:
                return Reply(receipt, "Here is your receipt.")
        raise not_found(f"No delivery receipt for {channel.label} message {call.params['message_id']}.")

    return handle


def inbound_handler(channel: Channel) -> Handler:
    """GET /<channel>/inbound: unread replies, paginated, newest first."""

    def handle(call: Call) -> Reply:
        records = newest_first(unread(call.state, channel, INBOUND))
        return Reply(listing(call, records, default_order="timestamp:desc"), "Here are your data.")

    return handle


def reply_to_handler(channel: Channel) -> Handler:
    """GET /<channel>/inbound/{original_message_id}: the newest reply to one of your messages (read or not)."""

    def handle(call: Call) -> Reply:
        wanted = call.params["original_message_id"].upper()
        for item in newest_first(call.state.inbound.get(channel.name, [])):
            if str(item.get("original_message_id", "")).upper() == wanted:
                return Reply(item, "Here are your result.")
        raise not_found(f"No inbound {channel.label} answers message {call.params['original_message_id']}.")

    return handle


def _date_before(call: Call) -> int | None:
    raw = call.json_object().get("date_before")
    if raw in (None, ""):
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise bad_request("date_before must be a Unix timestamp in seconds.")
    try:
        return int(float(raw))
    except ValueError:
        raise bad_request("date_before must be a Unix timestamp in seconds.") from None


def mark_read_handler(channel: Channel, kind: str, msg: str) -> Handler:
    """PUT /<channel>/receipts-read or /inbound-read: mark every unread item (before date_before) read; counts them."""

    def handle(call: Call) -> Reply:
        before = _date_before(call)
        marked = call.state.read[_read_key(channel, kind)]
        count = 0
        for item in unread(call.state, channel, kind):
            if before is None or int(item.get("timestamp") or 0) < before:
                marked.add(item["message_id"])
                count += 1
        return Reply({"count": count}, msg)

    return handle


def mark_one_read_handler(channel: Channel, kind: str, msg: str) -> Handler:
    """PUT /<channel>/inbound-read/{message_id}: mark one item read (404 when there is none)."""

    def handle(call: Call) -> Reply:
        wanted = call.params["message_id"].upper()
        if not any(item["message_id"] == wanted for item in _items(call.state, channel, kind)):
            raise not_found(f"Inbound {channel.label} message {call.params['message_id']} not found.")
        call.state.read[_read_key(channel, kind)].add(wanted)
        return Reply({"count": 1}, msg)

    return handle


def _webhook_url(call: Call) -> str:
    body = call.json_object(required=True)
    url = body.get("url")
    if not isinstance(url, str) or not url.strip():
        raise missing_fields("url")
    url = url.strip()
    parts = urlsplit(url)
    if url.lower() != POLL and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise bad_request(f"url must be an http(s) URL or {POLL!r} (got {url!r}).")
    return url


def sample_receipt(call: Call, channel: Channel) -> Record:
    """A delivery receipt for a message that never existed, shaped like a real one."""
    return {
        "timestamp_send": call.now,
        "timestamp": call.now,
        "message_id": call.state.new_message_id(),
        "status_code": DELIVERED_CODE,
        "status_text": channel.delivered_text,
        "error_code": None,
        "error_text": None,
        "custom_string": "Test custom string",
        "subaccount_id": call.state.account["_subaccount"]["subaccount_id"],
        "message_type": channel.name,
        "digits": None,
    }


def sample_receipt_handler(channel: Channel, sample: Sample = sample_receipt) -> Handler:
    """POST /<channel>/receipts: a sample receipt for your webhook; with url=poll it is stored for GET receipts."""

    def handle(call: Call) -> Reply:
        url = _webhook_url(call)
        receipt = sample(call, channel)
        if url.lower() == POLL:
            call.state.receipts[channel.name].append(receipt)
        return Reply(receipt, "Receipt has been added")

    return handle


def sample_inbound_handler(channel: Channel) -> Handler:
    """POST /<channel>/inbound: a sample inbound message for your webhook; with url=poll it is stored."""

    def handle(call: Call) -> Reply:
        url = _webhook_url(call)
        message: Record = {
            "timestamp_send": call.now,
            "timestamp": call.now,
            "from": "+61411111111",
            "body": "This is a test incoming message.",
            "original_body": "This is the original message.",
            "original_message_id": call.state.new_message_id(),
            "to": SANDBOX_SENDER,
            "custom_string": "Test custom string",
            "message_id": call.state.new_message_id(),
            "_keyword": "this",
        }
        if url.lower() == POLL:
            call.state.inbound[channel.name].append(message)
        return Reply(message, "Test inbound message has been added.")

    return handle
