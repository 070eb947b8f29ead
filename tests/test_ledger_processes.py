"""The ledger across real processes: servers sharing PostgreSQL or one SQLite file, restarts, and kill -9 mid-send.

Each server is the console script serving streamable HTTP; ClickSend is the fake on 127.0.0.1, which counts what
reached it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from fake_clicksend import TEST_NUMBER, FakeClickSend, LoopbackServer
from test_e2e import direct_env, run_cli, served

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEND = "CLICKSEND_CREATE_SMS_SEND"
LEDGER_KEY = "test-ledger-key-6f1d2c3b4a59687766554433"
PRICE = "0.077"  # the fake's price of one SMS part to an Australian number
TIMEOUT = 90


@pytest.fixture
def fake_on_loopback() -> Iterator[tuple[FakeClickSend, LoopbackServer]]:
    fake = FakeClickSend()
    with LoopbackServer(fake) as server:
        yield fake, server


def ledger_env(base_url: str, database_url: str, **extra: str) -> dict[str, str]:
    return {
        **direct_env(base_url),
        "CLICKSEND_MCP_DATABASE_URL": database_url,
        "CLICKSEND_MCP_LEDGER_KEY": LEDGER_KEY,
        "CLICKSEND_TOOLSETS": "default,ledger",
        **extra,
    }


def structured(result: Any) -> dict[str, Any]:
    assert result.structured_content is not None, result.content
    return dict(result.structured_content)


def sms_args(n: int) -> dict[str, Any]:
    return {"messages": [{"to": TEST_NUMBER, "body": f"message {n}"}]}


async def _forty_sends_through_two_servers(fake: FakeClickSend, env: dict[str, str]) -> None:
    budget = f"{20 * float(PRICE):.3f}"  # exactly twenty sends
    env = {**env, "CLICKSEND_MAX_SPEND_PER_DAY": budget}
    outcomes: list[dict[str, Any]] = []
    async with AsyncExitStack() as stack:
        bases = [await stack.enter_async_context(served("http", env)) for _ in range(2)]
        clients = [await stack.enter_async_context(Client(f"{base}/mcp", mode="legacy")) for base in bases]

        async def send(n: int) -> None:
            outcomes.append(structured(await clients[n % 2].call_tool(SEND, sms_args(n))))

        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as tg:
                for n in range(40):
                    tg.start_soon(send, n)
            ledger = structured(await clients[0].call_tool("CLICKSEND_GET_SEND_LEDGER", {"limit": 100}))
    sent = [o for o in outcomes if o["successful"]]
    refused = [o for o in outcomes if o["error_code"] == "REFUSED"]
    assert len(sent) == 20 and len(refused) == 20, [o["error"] for o in outcomes if not o["successful"]][:3]
    assert all("max-spend-per-day" in o["error"] for o in refused)
    assert len(fake.sent("POST", "/v3/sms/send")) == 20
    [today] = ledger["data"]["spend_by_day"]
    assert today["sends"] == 20 and today["spent"] == f"{float(budget):.4f}"
    outcomes_in_ledger = [s["outcome"] for s in ledger["data"]["recent_sends"]]
    assert outcomes_in_ledger.count("sent") == 20 and outcomes_in_ledger.count("refused") == 20


async def test_two_servers_sharing_postgresql_never_overspend(
    fake_on_loopback: tuple[FakeClickSend, LoopbackServer], postgres_url: str
) -> None:
    fake, server = fake_on_loopback
    await _forty_sends_through_two_servers(fake, ledger_env(server.base_url, postgres_url))


async def test_two_servers_sharing_one_sqlite_file_never_overspend(
    fake_on_loopback: tuple[FakeClickSend, LoopbackServer], tmp_path: Path
) -> None:
    fake, server = fake_on_loopback
    await _forty_sends_through_two_servers(fake, ledger_env(server.base_url, f"sqlite://{tmp_path}/ledger.db"))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_one_idempotency_key_from_two_servers_at_once_makes_one_post(
    fake_on_loopback: tuple[FakeClickSend, LoopbackServer],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    database: str,
) -> None:
    fake, server = fake_on_loopback
    url = f"sqlite://{tmp_path}/ledger.db" if database == "sqlite" else request.getfixturevalue("postgres_url")
    env = ledger_env(server.base_url, url)
    args = {**sms_args(0), "idempotency_key": "two-servers-one-key"}
    found: list[dict[str, Any]] = []
    async with AsyncExitStack() as stack:
        bases = [await stack.enter_async_context(served("http", env)) for _ in range(2)]
        clients = [await stack.enter_async_context(Client(f"{base}/mcp", mode="legacy")) for base in bases]

        async def send(client: Client) -> None:
            found.append(structured(await client.call_tool(SEND, args)))

        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as tg:
                for client in clients * 3:
                    tg.start_soon(send, client)
    assert len(fake.sent("POST", "/v3/sms/send")) == 1
    assert all(r["successful"] for r in found)
    assert [bool(r.get("replayed")) for r in found].count(False) == 1
    assert len({r["data"]["messages"][0]["message_id"] for r in found}) == 1


def test_the_budget_is_remembered_across_restarts_of_the_process(
    fake_on_loopback: tuple[FakeClickSend, LoopbackServer], tmp_path: Path
) -> None:
    fake, server = fake_on_loopback
    env = ledger_env(
        server.base_url, f"sqlite://{tmp_path}/ledger.db", CLICKSEND_MAX_SPEND_PER_DAY=f"{2 * float(PRICE):.3f}"
    )
    runs = [run_cli("call", SEND, "--args", json.dumps(sms_args(n)), env=env) for n in range(3)]
    assert [r.returncode for r in runs] == [0, 0, 1], runs[-1].stderr
    assert json.loads(runs[2].stdout)["error_code"] == "REFUSED"
    assert len(fake.sent("POST", "/v3/sms/send")) == 2
    table = run_cli("ledger", env=env)
    assert table.returncode == 0, table.stderr
    assert "spent 0.1540, 0.0000 left of 0.154" in table.stdout
    assert table.stdout.count(" sent ") == 2 and table.stdout.count(" refused ") == 1


class StallingClickSend(FakeClickSend):
    """Stores each SMS send like ClickSend, then never answers it (until released): the server dies waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Event()
        self.released = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/sms/send") and not self.released:
            await super().__call__(scope, receive, _discard)
            self.arrived.set()
            while not self.released:  # bounded by the test, which releases it on the way out
                await anyio.sleep(0.05)
            return
        await super().__call__(scope, receive, send)


async def _discard(message: Any) -> None:
    return None


async def test_kill_9_during_a_send_leaves_it_unknown_and_check_send_outcome_resolves_it(tmp_path: Path) -> None:
    fake = StallingClickSend()
    with LoopbackServer(fake) as server:
        try:
            env = ledger_env(
                server.base_url, f"sqlite://{tmp_path}/ledger.db", CLICKSEND_MCP_LEDGER_PENDING_TIMEOUT="0"
            )
            async with served("http", env, keep_process=True) as (base, process):
                client = Client(f"{base}/mcp", mode="legacy")
                async with client, anyio.create_task_group() as tg:
                    with anyio.fail_after(TIMEOUT):
                        tg.start_soon(_call_and_ignore_the_crash, client)
                        await anyio.to_thread.run_sync(fake.arrived.wait, TIMEOUT)
                        process.kill()  # SIGKILL: no handler runs, the row stays as it was written
                        await process.wait()
                        tg.cancel_scope.cancel()
            [stored] = [m for m in fake.state.messages["sms"].values()]
            async with served("http", env) as base, Client(f"{base}/mcp", mode="legacy") as client:
                with anyio.fail_after(TIMEOUT):
                    before = structured(await client.call_tool("CLICKSEND_GET_SEND_LEDGER", {}))
                    [row] = before["data"]["recent_sends"]
                    assert row["outcome"] == "unknown"
                    assert row["tag"] == stored["custom_string"]
                    checked = structured(await client.call_tool("CLICKSEND_CHECK_SEND_OUTCOME", {"tag": row["tag"]}))
                    after = structured(await client.call_tool("CLICKSEND_GET_SEND_LEDGER", {}))
        finally:
            fake.released = True
    assert checked["data"]["sent"] is True and checked["data"]["message_ids"] == [stored["message_id"]]
    [resolved] = after["data"]["recent_sends"]
    assert resolved["outcome"] == "sent" and resolved["message_ids"] == [stored["message_id"]]
    assert len(fake.sent("POST", "/v3/sms/send")) == 1, "nothing was resent"


async def _call_and_ignore_the_crash(client: Client) -> None:
    try:
        await client.call_tool(SEND, sms_args(1))
    except Exception:  # the server died mid-call: the client sees its connection go
        return


def test_the_console_script_refuses_to_start_on_an_unreachable_postgresql(tmp_path: Path) -> None:
    env = {
        "CLICKSEND_BACKEND": "sandbox",
        "CLICKSEND_MCP_DATABASE_URL": "postgresql://ledger:hunter2-secret@127.0.0.1:1/ledger?connect_timeout=2",
        "CLICKSEND_MCP_LEDGER_KEY": LEDGER_KEY,
    }
    done = run_cli("ledger", env=env)
    assert done.returncode == 2
    assert "cannot open the send ledger" in done.stderr
    assert "hunter2-secret" not in done.stderr and LEDGER_KEY not in done.stderr
    assert os.environ.get("CLICKSEND_MCP_LEDGER_KEY") is None
