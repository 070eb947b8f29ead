"""The send ledger through the dispatcher: budgets, contact limits, quiet hours, idempotency, reconciliation and
what the ledger may hold, against the fake ClickSend with a clock the test controls."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import pytest

from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.clock import ManualClock
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.dispatcher import Dispatcher
from clicksend_mcp.settings import ConfigError
from conftest import direct_settings
from fake_clicksend import API_KEY, USERNAME, FakeClickSend

pytestmark = pytest.mark.anyio

SEND = "CLICKSEND_CREATE_SMS_SEND"
AU = "+61411111111"
AU_2 = "+61422222222"
NEW_YORK = "+12015550123"
PRICE_AU = "0.0770"  # the fake's price of one AU SMS part


def sms(to: str = AU, body: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"messages": [{"to": to, "body": body, **extra}]}


def new_york(days_ahead: int, hour: int, minute: int = 0) -> float:
    """A New York wall-clock time a few days from now (the fake accepts schedules only in the real future)."""
    day = datetime.now(ZoneInfo("America/New_York")).date() + timedelta(days=days_ahead)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("America/New_York")).timestamp()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(time.time())


@pytest.fixture
async def make(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Callable[..., Dispatcher]]:
    """Dispatchers on one SQLite ledger in the test's temp dir (several of them stand for restarts)."""
    made: list[Dispatcher] = []

    def build(**settings: Any) -> Dispatcher:
        settings.setdefault("database_url", f"sqlite://{tmp_path}/ledger.db")
        dispatcher = build_dispatcher(direct_settings(**settings), tools=tools, asgi_app=fake, clock=clock)
        made.append(dispatcher)
        return dispatcher

    yield build
    for dispatcher in made:
        await dispatcher.aclose()


def posts(fake: FakeClickSend) -> int:
    return len(fake.sent("POST", "/v3/sms/send"))


async def test_a_send_over_the_daily_budget_is_refused_with_what_is_left_and_when_it_resets(
    make: Callable[..., Dispatcher], fake: FakeClickSend
) -> None:
    dispatcher = make(max_spend_per_day="0.2")
    assert (await dispatcher.call(SEND, sms()))["successful"]
    assert (await dispatcher.call(SEND, sms()))["successful"]
    refused = await dispatcher.call(SEND, sms())
    assert refused["error_code"] == "REFUSED"
    assert f"quoted at {PRICE_AU} AUD" in refused["error"] and "has 0.0460 AUD left until" in refused["error"]
    assert "Nothing was sent" in refused["error"]
    [why] = refused["data"]["refusals"]
    assert why["limit"] == "max_spend_per_day" and why["remaining"] == "0.0460"
    assert why["resets_at"].endswith("T00:00:00Z")
    assert posts(fake) == 2
    await dispatcher.aclose()


async def test_a_dry_run_reports_the_limits_a_real_send_would_meet_and_reserves_nothing(
    make: Callable[..., Dispatcher], fake: FakeClickSend
) -> None:
    dispatcher = make(max_spend_per_day="0.1", max_messages_per_recipient="1/day")
    assert (await dispatcher.call(SEND, sms()))["successful"]
    dry = await dispatcher.call(SEND, {**sms(), "dry_run": True})
    assert dry["successful"] and dry["data"]["sent"] is False
    limits = dry["data"]["limits"]
    assert limits["would_be_refused"] is True
    assert {r["limit"] for r in limits["refusals"]} == {"max_spend_per_day", "max_messages_per_recipient"}
    fine = await dispatcher.call(SEND, {**sms(AU_2), "dry_run": True})
    assert fine["data"]["limits"]["would_be_refused"] is True  # the budget is spent whoever the recipient
    ledger = await dispatcher.call("CLICKSEND_GET_SEND_LEDGER", {})
    assert [s["outcome"] for s in ledger["data"]["recent_sends"]] == ["sent"]
    assert posts(fake) == 1
    await dispatcher.aclose()


async def test_messages_per_recipient_are_counted_in_a_rolling_window(
    make: Callable[..., Dispatcher], fake: FakeClickSend, clock: ManualClock
) -> None:
    dispatcher = make(max_messages_per_recipient="2/day")
    for _ in range(2):
        assert (await dispatcher.call(SEND, sms()))["successful"]
    third = await dispatcher.call(SEND, sms())
    assert third["error_code"] == "REFUSED"
    assert "messages[0].to: this recipient already had 2 message(s)" in third["error"]
    assert "2/day (--max-messages-per-recipient)" in third["error"]
    assert (await dispatcher.call(SEND, sms(AU_2)))["successful"], "another recipient is not limited"
    clock.advance(86_400 + 1)
    assert (await dispatcher.call(SEND, sms()))["successful"], "a day later the window has moved on"
    assert posts(fake) == 4
    await dispatcher.aclose()


async def test_one_call_that_repeats_a_recipient_counts_each_message(make: Callable[..., Dispatcher]) -> None:
    dispatcher = make(max_messages_per_recipient="2/day")
    many = {"messages": [{"to": AU, "body": "a"}, {"to": AU, "body": "b"}, {"to": AU, "body": "c"}]}
    refused = await dispatcher.call(SEND, many)
    assert refused["error_code"] == "REFUSED" and "max-messages-per-recipient" in refused["error"]
    await dispatcher.aclose()


async def test_quiet_hours_refuse_a_message_at_night_in_the_recipients_zone(
    make: Callable[..., Dispatcher], fake: FakeClickSend, clock: ManualClock
) -> None:
    clock.at = new_york(1, 23, 10)
    dispatcher = make(quiet_hours="21:00-08:00")
    refused = await dispatcher.call(SEND, sms(NEW_YORK))
    assert refused["error_code"] == "REFUSED"
    assert "it would be 23:10" in refused["error"] and "America/New_York" in refused["error"]
    [why] = refused["data"]["refusals"]
    morning = datetime.fromtimestamp(new_york(2, 8, 0), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert why["limit"] == "quiet_hours" and why["ends_at"] == morning
    assert (await dispatcher.call(SEND, sms(AU)))["successful"], "it is afternoon in Australia"
    assert posts(fake) == 1
    await dispatcher.aclose()


async def test_a_scheduled_send_is_judged_at_its_scheduled_time(
    make: Callable[..., Dispatcher], fake: FakeClickSend, clock: ManualClock
) -> None:
    clock.at = new_york(1, 23, 10)  # night now...
    dispatcher = make(quiet_hours="21:00-08:00")
    morning = int(new_york(2, 10, 0))  # ...but it goes out at 10:00
    sent = await dispatcher.call(SEND, sms(NEW_YORK, schedule=morning))
    assert sent["successful"], sent["error"]
    clock.at = new_york(2, 12, 0)  # day now...
    night = int(new_york(2, 22, 30))  # ...but it would go out at 22:30
    refused = await dispatcher.call(SEND, sms(NEW_YORK, schedule=night))
    assert refused["error_code"] == "REFUSED" and "it would be 22:30" in refused["error"]
    assert posts(fake) == 1
    await dispatcher.aclose()


async def test_the_same_idempotency_key_replays_the_first_result_and_sends_nothing(
    make: Callable[..., Dispatcher], fake: FakeClickSend
) -> None:
    dispatcher = make()
    args = {**sms(), "idempotency_key": "order-1234-reminder"}
    first = await dispatcher.call(SEND, args)
    again = await dispatcher.call(SEND, args)
    assert first["successful"] and "replayed" not in first
    assert again["replayed"] is True
    assert again["data"] == first["data"] and again["tag"] == first["tag"]
    assert posts(fake) == 1
    await dispatcher.aclose()


async def test_an_idempotency_key_survives_a_restart(make: Callable[..., Dispatcher], fake: FakeClickSend) -> None:
    args = {**sms(), "idempotency_key": "restart-key-0001"}
    first_run = make()
    first = await first_run.call(SEND, args)
    await first_run.aclose()
    second_run = make()
    again = await second_run.call(SEND, args)
    assert again["replayed"] is True and again["data"]["messages"] == first["data"]["messages"]
    assert posts(fake) == 1
    await second_run.aclose()


async def test_the_same_key_with_different_arguments_is_refused(
    make: Callable[..., Dispatcher], fake: FakeClickSend
) -> None:
    dispatcher = make()
    await dispatcher.call(SEND, {**sms(body="one"), "idempotency_key": "reused-key-0001"})
    other = await dispatcher.call(SEND, {**sms(body="two"), "idempotency_key": "reused-key-0001"})
    assert other["error_code"] == "IDEMPOTENCY_CONFLICT" and "different arguments" in other["error"]
    assert posts(fake) == 1
    await dispatcher.aclose()


async def test_a_key_older_than_a_day_sends_again(
    make: Callable[..., Dispatcher], fake: FakeClickSend, clock: ManualClock
) -> None:
    dispatcher = make()
    args = {**sms(), "idempotency_key": "daily-key-0001"}
    await dispatcher.call(SEND, args)
    clock.advance(24 * 3600 + 1)
    later = await dispatcher.call(SEND, args)
    assert later["successful"] and "replayed" not in later
    assert posts(fake) == 2
    await dispatcher.aclose()


async def test_concurrent_calls_with_one_key_make_one_post(
    make: Callable[..., Dispatcher], fake: FakeClickSend
) -> None:
    dispatcher = make()
    args = {**sms(), "idempotency_key": "together-key-01"}
    found: list[dict[str, Any]] = []

    async def call() -> None:
        found.append(await dispatcher.call(SEND, args))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(call)
    assert posts(fake) == 1
    assert [r.get("replayed", False) for r in found].count(False) == 1
    assert all(r["successful"] for r in found)
    await dispatcher.aclose()


async def test_the_budget_is_remembered_after_a_restart(make: Callable[..., Dispatcher], fake: FakeClickSend) -> None:
    first_run = make(max_spend_per_day="0.1")
    assert (await first_run.call(SEND, sms()))["successful"]
    await first_run.aclose()
    second_run = make(max_spend_per_day="0.1")
    refused = await second_run.call(SEND, sms())
    assert refused["error_code"] == "REFUSED" and "max-spend-per-day" in refused["error"]
    assert posts(fake) == 1
    await second_run.aclose()


class StallingClickSend(FakeClickSend):
    """A fake whose sends never answer: either after ClickSend stored the messages, or before it saw them."""

    def __init__(self, *, after: bool) -> None:
        super().__init__()
        self.after = after
        self.arrived = anyio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/sms/send"):
            if self.after:
                await super().__call__(scope, receive, _discard)
            self.arrived.set()
            await anyio.sleep_forever()
        await super().__call__(scope, receive, send)


async def _discard(message: Any) -> None:
    return None


@pytest.mark.parametrize("arrived", [True, False], ids=["sent", "not-sent"])
async def test_a_send_cut_off_midway_is_unknown_until_check_send_outcome_resolves_it(
    tools: dict[str, CompiledTool], tmp_path: Path, arrived: bool
) -> None:
    fake = StallingClickSend(after=arrived)
    settings = direct_settings(database_url=f"sqlite://{tmp_path}/ledger.db", max_spend_per_day="1")
    dispatcher = build_dispatcher(settings, tools=tools, asgi_app=fake)
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(dispatcher.call, SEND, sms())
            await fake.arrived.wait()
            tg.cancel_scope.cancel()
        ledger = await dispatcher.call("CLICKSEND_GET_SEND_LEDGER", {})
        [row] = ledger["data"]["recent_sends"]
        assert row["outcome"] == "unknown" and row["tag"].startswith("mcp-")
        assert ledger["data"]["budget"]["day"]["spent"] == PRICE_AU, "an unknown send keeps its reservation"
        checked = await dispatcher.call("CLICKSEND_CHECK_SEND_OUTCOME", {"tag": row["tag"]})
        assert checked["successful"], checked["error"]
        assert checked["data"]["sent"] is arrived and checked["data"]["ledger_updated"] is True
        assert checked["data"]["checked_with"] == "CLICKSEND_GET_SMS_HISTORY"
        after = await dispatcher.call("CLICKSEND_GET_SEND_LEDGER", {})
    [resolved] = after["data"]["recent_sends"]
    if arrived:
        assert len(checked["data"]["message_ids"]) == 1
        assert resolved["outcome"] == "sent" and resolved["message_ids"] == checked["data"]["message_ids"]
    else:
        assert checked["data"]["message_ids"] == [] and resolved["outcome"] == "failed"
        assert after["data"]["budget"]["day"]["spent"] == "0.0000", "a send that never went out costs nothing"
    await dispatcher.aclose()


async def test_check_send_outcome_without_a_ledger_record_needs_the_tool(make: Callable[..., Dispatcher]) -> None:
    dispatcher = make()
    unknown = await dispatcher.call("CLICKSEND_CHECK_SEND_OUTCOME", {"tag": "mcp-000000000000"})
    assert unknown["error_code"] == "NOT_FOUND" and "give `tool`" in unknown["error"]
    looked_up = await dispatcher.call("CLICKSEND_CHECK_SEND_OUTCOME", {"tag": "mcp-000000000000", "tool": SEND})
    assert looked_up["successful"] and looked_up["data"]["sent"] is False
    await dispatcher.aclose()


async def test_with_the_ledger_off_an_idempotency_key_is_refused(
    make: Callable[..., Dispatcher], fake: FakeClickSend
) -> None:
    dispatcher = make(database_url="off")
    assert dispatcher.ledger is None
    refused = await dispatcher.call(SEND, {**sms(), "idempotency_key": "no-ledger-0001"})
    assert refused["error_code"] == "REFUSED" and "ledger" in refused["error"]
    assert (await dispatcher.call("CLICKSEND_GET_SEND_LEDGER", {}))["error_code"] == "REFUSED"
    assert (await dispatcher.call(SEND, sms()))["successful"], "without a key a send still works"
    assert posts(fake) == 1
    await dispatcher.aclose()


def test_a_postgresql_ledger_needs_the_key_in_the_environment(tools: dict[str, CompiledTool]) -> None:
    settings = direct_settings(database_url="postgresql://ledger@127.0.0.1:1/ledger")
    with pytest.raises(ConfigError, match="CLICKSEND_MCP_LEDGER_KEY"):
        build_dispatcher(settings, tools=tools)


async def test_the_generated_ledger_key_is_private_to_its_owner(
    make: Callable[..., Dispatcher], tmp_path: Path
) -> None:
    make()
    mode = stat.S_IMODE(os.stat(tmp_path / "ledger.key").st_mode)
    assert mode == 0o600


async def test_an_unreachable_ledger_refuses_sends_rather_than_sending_unrecorded(
    tools: dict[str, CompiledTool], fake: FakeClickSend, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the ledger's folder should be")
    settings = direct_settings(database_url=f"sqlite://{blocker}/ledger.db", ledger_key="k" * 40)
    dispatcher = build_dispatcher(settings, tools=tools, asgi_app=fake)
    refused = await dispatcher.call(SEND, sms())
    assert refused["error_code"] == "REFUSED" and "could not be reached" in refused["error"]
    assert str(blocker) not in refused["error"]
    assert posts(fake) == 0
    await dispatcher.aclose()


# --- what the ledger holds ---------------------------------------------------------------------------------------

BODY = "Your table for 4 at Luigi's is ready, code ZEBRA-7741"
EMAIL = "maria.lopez@example.org"
SECRET_KEY = "idem-key-SECRET-0001"


async def _send_everything(dispatcher: Dispatcher) -> None:
    for to in (AU, AU_2, NEW_YORK):
        await dispatcher.call(SEND, {**sms(to, BODY), "idempotency_key": f"{SECRET_KEY}-{to[-4:]}"})
    await dispatcher.call(
        "CLICKSEND_EMAIL_SEND_POST",
        {
            "to": [{"email": EMAIL, "name": "Maria Lopez"}],
            "from": {"email_address_id": 1},
            "subject": "Hi",
            "body": BODY,
        },
    )


def _forbidden() -> list[bytes]:
    values = [
        AU,
        AU_2,
        NEW_YORK,
        AU[1:],
        NEW_YORK[1:],
        EMAIL,
        "Maria Lopez",
        BODY,
        "ZEBRA-7741",
        SECRET_KEY,
        API_KEY,
        USERNAME,
    ]
    return [v.encode() for v in values] + [v.encode("utf-16-le") for v in values]


async def test_the_sqlite_ledger_holds_no_number_address_body_or_secret(
    make: Callable[..., Dispatcher], tmp_path: Path
) -> None:
    dispatcher = make()
    await _send_everything(dispatcher)
    ledger = await dispatcher.call("CLICKSEND_GET_SEND_LEDGER", {})
    assert len(ledger["data"]["recent_sends"]) == 4
    await dispatcher.aclose()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("ledger.db"))
    assert len(stored) > 4096
    leaked = [v for v in _forbidden() if v in stored]
    assert not leaked, f"the ledger file holds {leaked}"


async def test_the_postgresql_ledger_holds_no_number_address_body_or_secret(
    tools: dict[str, CompiledTool], fake: FakeClickSend, postgres_url: str
) -> None:
    import psycopg

    settings = direct_settings(database_url=postgres_url, ledger_key="x" * 40)
    dispatcher = build_dispatcher(settings, tools=tools, asgi_app=fake)
    await _send_everything(dispatcher)
    await dispatcher.aclose()
    dumped = b""
    with psycopg.connect(postgres_url) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        assert {"sends", "send_recipients", "schema_version"} <= set(tables)
        for table in tables:
            for row in conn.execute(f"SELECT t::text FROM {table} t"):  # type: ignore[arg-type]
                dumped += row[0].encode() + b"\n"
            for row in conn.execute(f"SELECT sealed_result FROM {table}" if table == "sends" else "SELECT NULL"):  # type: ignore[arg-type]
                dumped += bytes(row[0] or b"")
    assert dumped.count(b"\n") > 8
    leaked = [v for v in _forbidden() if v in dumped]
    assert not leaked, f"the ledger tables hold {leaked}"


async def test_with_confirmation_on_a_send_the_limits_stopped_is_never_sent_unconfirmed(
    make: Callable[..., Dispatcher], fake: FakeClickSend, clock: ManualClock
) -> None:
    dispatcher = make(max_messages_per_recipient="1/hour", confirm_sends=True)
    assert (await dispatcher.call(SEND, sms()))["successful"]
    prepared = await dispatcher.prepare(SEND, sms())
    assert not prepared.needs_confirmation, "a send the limits stop is not put to the person"
    clock.advance(3601)  # the limit no longer applies by the time it would go out...
    refused = await dispatcher.execute(prepared)
    assert refused["error_code"] == "REFUSED", "...but it was never confirmed, so it does not go"
    assert posts(fake) == 1


async def test_a_repeat_of_a_key_still_going_out_waits_for_its_result_instead_of_meeting_the_limits(
    make: Callable[..., Dispatcher], fake: FakeClickSend
) -> None:
    dispatcher = make(max_messages_per_recipient="1/day", confirm_sends=True)
    args = {**sms(), "idempotency_key": "limited-key-0001"}
    found: list[dict[str, Any]] = []

    async def call() -> None:
        found.append(await dispatcher.call(SEND, args))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(call)
    assert [r["error_code"] for r in found] == [None] * 4, [r["error"] for r in found]
    assert [bool(r.get("replayed")) for r in found].count(False) == 1
    assert posts(fake) == 1


@pytest.mark.parametrize("key", ["short", "with space inside", "ünïcode-key-0001", "k" * 201])
async def test_an_unusable_idempotency_key_is_refused_before_anything_is_sent(
    make: Callable[..., Dispatcher], fake: FakeClickSend, key: str
) -> None:
    dispatcher = make()
    refused = await dispatcher.call(SEND, {**sms(), "idempotency_key": key})
    assert refused["error_code"] == "INVALID_ARGUMENTS" and "idempotency_key: expected 8 to 200" in refused["error"]
    assert posts(fake) == 0
