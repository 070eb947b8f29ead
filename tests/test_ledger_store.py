"""The ledger stores, SQLite and PostgreSQL alike: migrations, atomic admission under contention, pending rows."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from clicksend_mcp.limits import Limits, Periods, SendFacts, decide, to_micros
from clicksend_mcp.store import Location, locate, open_store
from clicksend_mcp.store.base import LedgerStore, SendIntent, Settlement
from clicksend_mcp.store.migrations import latest

pytestmark = pytest.mark.anyio
NOW = 1_781_524_800.0  # 2026-06-15 12:00 UTC


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    if request.param == "sqlite":
        found = locate(f"sqlite://{tmp_path}/ledger.db")
    else:
        found = locate(request.getfixturevalue("postgres_url"))
    assert found is not None
    return found


@pytest.fixture
async def store(location: Location) -> AsyncIterator[LedgerStore]:
    opened = open_store(location)
    await opened.open()
    yield opened
    await opened.close()


def intent(n: int = 0, **extra: object) -> SendIntent:
    fields: dict[str, object] = {
        "tenant": "t1",
        "tool": "CLICKSEND_CREATE_SMS_SEND",
        "channel": "sms",
        "created_at": NOW + n,
        "recipient_count": 1,
        "recipients": {f"r{n}": 1},
        "cost": to_micros(1),
        "currency": "AUD",
        "tag": f"mcp-{n:04d}",
    }
    fields.update(extra)
    return SendIntent(**fields)  # type: ignore[arg-type]


def judge(limits: Limits, cost: int) -> Callable[..., list]:  # type: ignore[type-arg]
    periods = Periods.at(NOW, limits)
    return lambda usage: decide(limits, usage, SendFacts(cost, "AUD", {}), periods, NOW)


async def test_a_new_ledger_is_migrated_to_the_latest_schema(store: LedgerStore, location: Location) -> None:
    assert await store.schema_version() == latest(location.kind) >= 2


async def test_opening_twice_applies_nothing_again(store: LedgerStore, location: Location) -> None:
    again = open_store(location)
    await again.open()
    try:
        assert await again.schema_version() == latest(location.kind)
    finally:
        await again.close()


async def test_an_old_ledger_is_migrated_forward_and_keeps_its_rows(location: Location) -> None:
    old = open_store(location, target_version=1)
    await old.open()
    assert await old.schema_version() == 1
    await old.close()
    row = ("t1", "CLICKSEND_CREATE_SMS_SEND", "sms", NOW - 60, "sent", 1, to_micros("0.077"), "AUD", "mcp-old")
    insert = (
        "INSERT INTO sends (tenant, tool, channel, created_at, outcome, recipient_count, cost, currency, tag) "
        "VALUES ({})".format(", ".join(["?" if location.kind == "sqlite" else "%s"] * len(row)))
    )
    if location.kind == "sqlite":
        assert location.path is not None
        with sqlite3.connect(location.path) as conn:
            conn.execute(insert, row)
    else:
        import psycopg

        with psycopg.connect(location.url, autocommit=True) as pg:
            pg.execute(insert, row)  # type: ignore[arg-type]
    current = open_store(location)
    await current.open()
    try:
        assert await current.schema_version() == latest(location.kind)
        [kept] = await current.recent("t1", 10)
        assert (kept.tag, kept.outcome, kept.cost, kept.idempotency_key) == ("mcp-old", "sent", 77_000, None)
        limits = Limits(max_spend_per_day=Decimal("1"))
        admitted = await current.admit(
            intent(1, idempotency_key="k", arguments_hash="h"),
            Periods.at(NOW, limits),
            NOW - 86_400,
            judge(limits, to_micros("0.9")),
        )
        assert admitted.send_id is not None and not admitted.refused  # 0.077 + 0.9 fits in 1
        again = await current.admit(
            intent(2, idempotency_key="k", arguments_hash="h"), Periods.at(NOW, limits), NOW - 86_400, judge(limits, 1)
        )
        assert again.existing is not None and again.existing.id == admitted.send_id
    finally:
        await current.close()


async def test_two_connections_admitting_at_once_never_overspend(location: Location) -> None:
    """Two stores on one database stand for two processes: 40 admissions against a budget for exactly 20."""
    stores = [open_store(location), open_store(location)]
    for s in stores:
        await s.open()
    limits = Limits(max_spend_per_day=Decimal("20"))
    outcomes: list[bool] = []

    async def one(n: int) -> None:
        admission = await stores[n % 2].admit(
            intent(n), Periods.at(NOW, limits), NOW - 86_400, judge(limits, to_micros(1))
        )
        outcomes.append(not admission.refused)

    try:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for n in range(40):
                    tg.start_soon(one, n)
        assert outcomes.count(True) == 20 and outcomes.count(False) == 20
        recorded = await stores[0].recent("t1", 100)
        assert sorted(r.outcome for r in recorded) == ["pending"] * 20 + ["refused"] * 20
        usage = await stores[1].usage("t1", [], Periods.at(NOW, limits))
        assert usage.spent_today == to_micros(20)
    finally:
        for s in stores:
            await s.close()


async def test_refused_and_failed_sends_do_not_count_against_budgets_or_recipients(store: LedgerStore) -> None:
    periods = Periods.at(NOW, Limits())
    first = await store.admit(intent(1), periods, 0, lambda usage: [])
    assert first.send_id is not None
    await store.settle(first.send_id, Settlement("failed", NOW + 2, cost=0))
    usage = await store.usage("t1", ["r1"], periods)
    assert usage.spent_today == 0 and usage.recipients == {}


async def test_pending_rows_older_than_the_timeout_become_unknown(store: LedgerStore) -> None:
    periods = Periods.at(NOW, Limits())
    old = await store.admit(intent(0), periods, 0, lambda usage: [])
    fresh = await store.admit(intent(100), periods, 0, lambda usage: [])
    assert await store.expire_pending(NOW + 50) == 1
    by_tag = {r.tag: r.outcome for r in await store.recent("t1", 10)}
    assert by_tag == {"mcp-0000": "unknown", "mcp-0100": "pending"}
    assert old.send_id is not None and fresh.send_id is not None
    found = await store.find_by_tag("t1", "mcp-0000")
    assert found is not None and found.error_code == "OUTCOME_UNKNOWN"


async def test_settling_records_cost_ids_and_shows_in_spend_by_day(store: LedgerStore) -> None:
    periods = Periods.at(NOW, Limits())
    admitted = await store.admit(intent(1, recipient_count=2), periods, 0, lambda usage: [])
    assert admitted.send_id is not None
    await store.settle(
        admitted.send_id, Settlement("sent", NOW + 1, cost=154_000, currency="AUD", message_ids=["A", "B"])
    )
    [day] = await store.spend_by_day("t1", NOW - 86_400)
    assert (day.day, day.sends, day.recipients, day.cost, day.currency) == ("2026-06-15", 1, 2, 154_000, "AUD")
    found = await store.find_by_tag("t1", "mcp-0001")
    assert found is not None and found.message_ids == ("A", "B") and found.outcome == "sent"
    assert await store.spend_by_day("someone-else", NOW - 86_400) == []
