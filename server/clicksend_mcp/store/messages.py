"""Received messages and delivery receipts in the ledger's database: the rows, the small interface, and the SQL both
databases share. The implementations live beside the ledger's (`SqliteMessages`, `PostgresMessages`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

DIRECTIONS = ("inbound", "outbound")
# Statuses after which a message's delivery is settled: a late receipt never turns them back into pending.
FINAL_STATUSES = ("delivered", "failed", "undelivered", "expired", "rejected", "cancelled")
NOTIFY_CHANNEL = "clicksend_mcp_messages"
Signal = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class MessageEvent:
    """One message or receipt as it arrived (webhook, poll, or a send's answer). Absent fields stay as stored."""

    direction: str  # inbound (a reply) | outbound (ours; receipts update it)
    channel: str  # sms | mms | voice
    message_id: str
    peer: str | None = None  # the other party's number
    own_number: str | None = None  # the account's number or sender id
    body: str | None = None
    original_message_id: str | None = None  # for a reply: the message it answers
    custom_string: str | None = None
    status: str | None = None
    status_code: str | None = None
    error_text: str | None = None
    sent_at: float | None = None


@dataclass(frozen=True)
class SentCopies:
    """Our own messages from a send's answer, stored with the send's settlement (`LedgerStore.settle`): in the same
    trip to the database and, like the settlement, without waiting for the disk. A power cut may lose them with
    the settlement; the send itself was made durable before it left, and ClickSend's history keeps the messages."""

    tenant: str
    events: Sequence[MessageEvent]
    received_at: float


@dataclass(frozen=True)
class StoredMessage:
    id: int
    direction: str
    channel: str
    message_id: str
    peer: str | None
    own_number: str | None
    body: str | None
    original_message_id: str | None
    custom_string: str | None
    status: str | None
    status_code: str | None
    error_text: str | None
    sent_at: float | None
    received_at: float
    seq: int


@dataclass(frozen=True)
class MessageFilter:
    """Which messages a waiter wants; every field given must match (none: any message)."""

    direction: str | None = None
    peer: str | None = None
    original_message_ids: tuple[str, ...] = ()
    custom_string: str | None = None
    since: float | None = None  # ClickSend's time of the message (our arrival time when it gave none), at least
    after_id: int = 0  # stored after this row (rows are numbered in the order they first arrived)


class MessageStore(Protocol):
    async def record_messages(
        self, tenant: str, events: Sequence[MessageEvent], received_at: float
    ) -> list[StoredMessage]:
        """Store what arrived, once per (direction, message id); returns the rows that are new or changed (a
        duplicate delivery changes nothing and returns nothing). Wakes listeners on other processes."""
        ...

    async def messages_after(
        self, tenant: str, after_seq: int, wanted: MessageFilter, limit: int
    ) -> list[StoredMessage]:
        """Rows changed after `after_seq` that match, oldest change first."""
        ...

    async def last_seq(self, tenant: str) -> int: ...

    async def conversation(self, tenant: str, peer: str, before_id: int | None, limit: int) -> list[StoredMessage]:
        """Messages exchanged with `peer`, newest first, below `before_id` (pagination)."""
        ...

    async def outbound(self, tenant: str, message_ids: Sequence[str]) -> list[StoredMessage]: ...

    def message_signals(self) -> AbstractAsyncContextManager[Signal]:
        """While open, `await signal(timeout)` returns when another process may have stored messages, or after
        `timeout` (PostgreSQL: LISTEN/NOTIFY; SQLite: only the timeout, so waiters poll)."""
        ...


MESSAGE_COLUMNS = (
    "id, direction, channel, message_id, peer, own_number, body, original_message_id, custom_string, status, "
    "status_code, error_text, sent_at, received_at, seq"
)
INSERT_COLUMNS = (
    "tenant, direction, channel, message_id, peer, own_number, body, original_message_id, custom_string, status, "
    "status_code, error_text, sent_at, received_at, seq"
)
# Inbound messages never change once stored; an outbound row takes what a later event adds (a receipt's status, a
# send's body and number), and a final status is not replaced by a non-final one.
_FINAL = "(" + ", ".join(f"'{s}'" for s in FINAL_STATUSES) + ")"
# Whether an event's status replaces the stored one: it says something, and does not undo a final status.
_TAKES_STATUS = (
    f"(excluded.status IS NOT NULL AND NOT (LOWER(COALESCE(messages.status, '')) IN {_FINAL} "
    f"AND LOWER(excluded.status) NOT IN {_FINAL}))"
)
UPSERT_TAIL = f"""
    ON CONFLICT (tenant, direction, message_id) DO UPDATE SET
        peer = COALESCE(messages.peer, excluded.peer),
        own_number = COALESCE(messages.own_number, excluded.own_number),
        body = COALESCE(messages.body, excluded.body),
        custom_string = COALESCE(messages.custom_string, excluded.custom_string),
        sent_at = COALESCE(messages.sent_at, excluded.sent_at),
        status = CASE WHEN {_TAKES_STATUS} THEN excluded.status ELSE messages.status END,
        status_code = CASE WHEN {_TAKES_STATUS} THEN excluded.status_code ELSE messages.status_code END,
        error_text = CASE WHEN {_TAKES_STATUS} THEN excluded.error_text ELSE messages.error_text END,
        seq = excluded.seq
    WHERE messages.direction = 'outbound' AND (
        ({_TAKES_STATUS} AND messages.status IS DISTINCT FROM excluded.status)
        OR (messages.peer IS NULL AND excluded.peer IS NOT NULL)
        OR (messages.body IS NULL AND excluded.body IS NOT NULL))
    RETURNING {MESSAGE_COLUMNS}
"""


def filter_sql(wanted: MessageFilter, mark: str) -> tuple[str, list[object]]:
    """The WHERE conditions for a filter (`mark`: the driver's placeholder, ? or %s)."""
    conditions: list[str] = []
    params: list[object] = []
    if wanted.direction:
        conditions.append(f"direction = {mark}")
        params.append(wanted.direction)
    if wanted.peer:
        conditions.append(f"peer = {mark}")
        params.append(wanted.peer)
    if wanted.original_message_ids:
        marks = ", ".join(mark for _ in wanted.original_message_ids)
        conditions.append(f"(original_message_id IN ({marks}) OR message_id IN ({marks}))")
        params += [*wanted.original_message_ids, *wanted.original_message_ids]
    if wanted.custom_string:
        conditions.append(f"custom_string = {mark}")
        params.append(wanted.custom_string)
    if wanted.after_id:
        conditions.append(f"id > {mark}")
        params.append(wanted.after_id)
    if wanted.since:
        conditions.append(f"COALESCE(sent_at, received_at) >= {mark}")
        params.append(wanted.since)
    return "".join(f" AND {c}" for c in conditions), params


def event_values(tenant: str, event: MessageEvent, received_at: float) -> tuple[object, ...]:
    return (
        tenant,
        event.direction,
        event.channel,
        event.message_id,
        event.peer,
        event.own_number,
        event.body,
        event.original_message_id,
        event.custom_string,
        event.status,
        event.status_code,
        event.error_text,
        event.sent_at,
        received_at,
    )


def message_of(row: Sequence[Any]) -> StoredMessage:
    def text(value: object) -> str | None:
        return str(value) if value is not None else None

    return StoredMessage(
        id=int(row[0]),
        direction=str(row[1]),
        channel=str(row[2]),
        message_id=str(row[3]),
        peer=text(row[4]),
        own_number=text(row[5]),
        body=text(row[6]),
        original_message_id=text(row[7]),
        custom_string=text(row[8]),
        status=text(row[9]),
        status_code=text(row[10]),
        error_text=text(row[11]),
        sent_at=float(row[12]) if row[12] is not None else None,
        received_at=float(row[13]),
        seq=int(row[14]),
    )
