"""What happens to stored messages: delivery (receipts, test-number replies), due schedules, history, cancelling."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .call import Call
from .channels import Channel, Record
from .envelope import Reply, bad_request, not_found
from .listing import listing
from .responder import announce, release_replies, schedule_reply
from .routing import Handler
from .state import SANDBOX_USERNAME, SandboxState

SCHEDULED, CANCELLED = "Scheduled", "Cancelled"
DELIVERED_CODE = "201"


def history_record(state: SandboxState, answer: Record, send_at: int) -> Record:
    """The history entry for a queued message (status Scheduled until delivered)."""
    contact = state.contacts.get(answer["contact_id"]) if isinstance(answer.get("contact_id"), int) else None
    return {
        **answer,
        "date": send_at,
        "date_added": answer["date"],
        "schedule": send_at,
        "status": SCHEDULED,
        "status_code": None,
        "status_text": None,
        "first_name": contact.get("first_name") if contact else None,
        "last_name": contact.get("last_name") if contact else None,
        "_api_username": SANDBOX_USERNAME,
    }


def deliver(state: SandboxState, channel: Channel, record: Record, now: int) -> None:
    """Mark a message delivered, add its delivery receipt, and let a test number reply (when the channel does)."""
    record.update(status=channel.sent_status, status_code=DELIVERED_CODE, status_text=channel.delivered_text)
    state.receipts[channel.name].append(
        {
            "timestamp_send": record["date"],
            "timestamp": now,
            "message_id": record["message_id"],
            "status_code": DELIVERED_CODE,
            "status_text": channel.delivered_text,
            "error_code": None,
            "error_text": None,
            "custom_string": record.get("custom_string"),
            "subaccount_id": record.get("subaccount_id"),
            "message_type": channel.name,
            "digits": None,
        }
    )
    announce(state, f"{channel.name}-receipts", state.receipts[channel.name][-1])
    schedule_reply(state, channel, record, now)


def deliver_due(state: SandboxState, channels: Iterable[Channel], now: int) -> None:
    """Deliver every scheduled message whose time has come (run before each request)."""
    for channel in channels:
        for record in state.messages.get(channel.name, {}).values():
            if record["status"] == SCHEDULED and int(record["schedule"]) <= now:
                deliver(state, channel, record, now)
    release_replies(state, now)


def newest_first(items: Iterable[Record]) -> list[Record]:
    return list(reversed(list(items)))


def history_handler(channel: Channel) -> Handler:
    """GET /<channel>/history: q/operator/order_by, date_from/date_to on `date`, paginated, newest first."""

    def handle(call: Call) -> Reply:
        records = newest_first(call.state.messages.get(channel.name, {}).values())
        return Reply(listing(call, records, default_order="date:desc", date_field="date"), "Here is your history.")

    return handle


def cancel_message(record: Record, now: int) -> None:
    record.update(status=CANCELLED, status_code=None, status_text="Cancelled by the user.", date_cancelled=now)


def cancel_handler(channel: Channel, msg: str, data: Any) -> Handler:
    """PUT /<channel>/{message_id}/cancel: only a Scheduled message can be cancelled."""

    def handle(call: Call) -> Reply:
        raw_id = call.params["message_id"]
        record = call.state.messages.get(channel.name, {}).get(raw_id.upper())
        if record is None:
            raise not_found(f"{channel.label.upper()} message {raw_id} not found.")
        if record["status"] != SCHEDULED:
            raise bad_request(
                f"{channel.label.upper()} message {raw_id} cannot be cancelled: its status is {record['status']}. "
                "Only scheduled messages can be cancelled."
            )
        cancel_message(record, call.now)
        return Reply(data, msg)

    return handle


def cancel_all_handler(channel: Channel) -> Handler:
    """PUT /<channel>/cancel-all: cancels every Scheduled message (optionally only those with `custom_string`)."""

    def handle(call: Call) -> Reply:
        body = call.json_object()
        only = body.get("custom_string")
        count = 0
        for record in call.state.messages.get(channel.name, {}).values():
            if record["status"] != SCHEDULED or (only not in (None, "") and record.get("custom_string") != only):
                continue
            cancel_message(record, call.now)
            count += 1
        return Reply({"count": count}, f"{count} {channel.label} messages have been cancelled.")

    return handle
