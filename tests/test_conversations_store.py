"""The conversation tables in both databases: one row per message id and direction, receipts that update our
messages (a final status is kept), the order waiters read changes in, and pages of one conversation."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest

from clicksend_mcp.limits import Limits, Periods
from clicksend_mcp.store import locate, open_store
from clicksend_mcp.store.base import LedgerStore, SendIntent, Settlement
from clicksend_mcp.store.messages import MessageEvent, MessageFilter, MessageStore, SentCopies
from clicksend_mcp.store.migrations import latest
from clicksend_mcp.store.sqlite import SqliteStore

pytestmark = pytest.mark.anyio

PEER = "+61411111111"


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MessageStore]:
    url = f"sqlite://{tmp_path}/ledger.db" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = open_store(locate(url))
    await opened.open()
    assert await opened.schema_version() == latest(request.param) >= 3
    yield opened  # type: ignore[misc]
    await opened.close()


def sent(message_id: str, **extra: object) -> MessageEvent:
    return MessageEvent("outbound", "sms", message_id, peer=PEER, body="Are you free?", status="Sent", **extra)  # type: ignore[arg-type]


def reply(message_id: str, original: str | None = None) -> MessageEvent:
    return MessageEvent("inbound", "sms", message_id, peer=PEER, body="Yes", original_message_id=original)


async def test_a_message_delivered_twice_is_stored_once(store: MessageStore) -> None:
    first = await store.record_messages("t", [sent("M1"), reply("R1", "M1")], 1.0)
    again = await store.record_messages("t", [sent("M1"), reply("R1", "M1")], 2.0)
    assert [m.message_id for m in first] == ["M1", "R1"] and again == []
    assert len(await store.conversation("t", PEER, None, 10)) == 2


async def test_a_receipt_updates_our_message_and_a_late_non_final_one_does_not_undo_delivered(
    store: MessageStore,
) -> None:
    await store.record_messages("t", [sent("M1")], 1.0)
    delivered = await store.record_messages("t", [MessageEvent("outbound", "sms", "M1", status="Delivered")], 2.0)
    late = await store.record_messages("t", [MessageEvent("outbound", "sms", "M1", status="Sent")], 3.0)
    [row] = await store.outbound("t", ["M1"])
    assert [m.status for m in delivered] == ["Delivered"] and delivered[0].peer == PEER
    assert late == [] and row.status == "Delivered" and row.body == "Are you free?"


async def test_a_receipt_before_the_send_is_recorded_keeps_both_halves(store: MessageStore) -> None:
    await store.record_messages("t", [MessageEvent("outbound", "sms", "M2", status="Delivered")], 1.0)
    await store.record_messages("t", [sent("M2")], 2.0)
    [row] = await store.outbound("t", ["M2"])
    assert (row.status, row.peer, row.body) == ("Delivered", PEER, "Are you free?")


async def test_waiters_read_changes_in_order_and_only_what_matches(store: MessageStore) -> None:
    await store.record_messages("t", [sent("M1"), reply("R0")], 1.0)
    mark = await store.last_seq("t")
    await store.record_messages(
        "t", [reply("R1", "M1"), MessageEvent("outbound", "sms", "M1", status="Delivered")], 2.0
    )
    await store.record_messages("other-tenant", [reply("R2", "M1")], 2.0)
    changed = await store.messages_after("t", mark, MessageFilter(), 10)
    answers = await store.messages_after("t", 0, MessageFilter("inbound", PEER, original_message_ids=("M1",)), 10)
    assert [m.message_id for m in changed] == ["R1", "M1"]
    assert [m.message_id for m in answers] == ["R1"]


async def test_a_conversation_reads_in_pages_newest_first(store: MessageStore) -> None:
    await store.record_messages("t", [reply(f"R{i}") for i in range(5)], 1.0)
    first = await store.conversation("t", PEER, None, 3)
    rest = await store.conversation("t", PEER, first[-1].id, 3)
    assert [m.message_id for m in first] == ["R4", "R3", "R2"]
    assert [m.message_id for m in rest] == ["R1", "R0"]


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = open_store(locate(f"sqlite://{tmp_path}/ledger.db"))
    assert isinstance(opened, SqliteStore)
    await opened.open()
    yield opened
    await opened.close()


def statements(store: SqliteStore) -> list[str]:
    """Every statement the store's connection runs from now on, in order (SQLite's own trace hook)."""
    seen: list[str] = []
    assert store._conn is not None
    store._conn.set_trace_callback(seen.append)
    return seen


async def test_the_next_message_number_is_read_from_an_index_not_from_every_row(sqlite_store: SqliteStore) -> None:
    with sqlite3.connect(sqlite_store.path) as conn:
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT COALESCE(MAX(seq), 0) FROM messages").fetchall()
    # An index led by tenant would be read whole: MAX over every tenant's rows needs one led by seq.
    assert plan[0][3].endswith("USING COVERING INDEX messages_by_global_seq")


async def admitted_send(store: LedgerStore) -> int:
    intent = SendIntent("t", "CLICKSEND_CREATE_SMS_SEND", "sms", 1.0, 1, {"r": 1}, tag="mcp-copies")
    admitted = await store.admit(intent, Periods.at(1.0, Limits()), 0.0, None)
    assert admitted.send_id is not None
    return admitted.send_id


async def test_a_sends_settlement_stores_its_messages_copies_on_the_same_trip(store: MessageStore) -> None:
    ledger = cast(LedgerStore, store)
    send_id = await admitted_send(ledger)
    copies = SentCopies("t", [sent("M1")], 2.0)
    stored = await ledger.settle(send_id, Settlement("sent", 2.0, message_ids=["M1"]), copies)
    assert [m.message_id for m in stored] == ["M1"]
    [row] = await store.outbound("t", ["M1"])
    found = await ledger.find_by_tag("t", "mcp-copies")
    assert row.body == "Are you free?" and found is not None and found.outcome == "sent"


async def test_copies_that_cannot_be_stored_leave_the_settlement_made(store: MessageStore) -> None:
    ledger = cast(LedgerStore, store)
    send_id = await admitted_send(ledger)
    broken = MessageEvent("sideways", "sms", "M1")  # refused by the table's CHECK on direction
    stored = await ledger.settle(send_id, Settlement("sent", 2.0, message_ids=["M1"]), SentCopies("t", [broken], 2.0))
    found = await ledger.find_by_tag("t", "mcp-copies")
    assert stored == [] and found is not None and found.outcome == "sent" and found.message_ids == ("M1",)


async def test_settling_with_copies_does_not_wait_for_the_disk_and_restores_full_sync(
    sqlite_store: SqliteStore,
) -> None:
    send_id = await admitted_send(sqlite_store)
    seen = statements(sqlite_store)
    await sqlite_store.settle(send_id, Settlement("sent", 2.0, message_ids=["M1"]), SentCopies("t", [sent("M1")], 2.0))
    assert seen[0] == "PRAGMA synchronous = NORMAL" and seen[-1] == "PRAGMA synchronous = FULL"
    assert "BEGIN IMMEDIATE" in seen and "COMMIT" in seen  # the copies' own transaction, inside the same trip
    assert sqlite_store._conn is not None
    assert sqlite_store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again for the next admission


async def test_a_received_message_waits_for_the_disk(sqlite_store: SqliteStore) -> None:
    seen = statements(sqlite_store)
    await sqlite_store.record_messages("t", [reply("R1")], 2.0)
    assert "COMMIT" in seen and not any(s.startswith("PRAGMA synchronous") for s in seen)
