"""The hosted topology, for real: nginx (Debian's package) on loopback in front of three server processes (streamable
HTTP) that share the confirmation state keys and one PostgreSQL ledger (Debian's package, started by the test),
against the fake ClickSend on loopback.

Proves: 2026-era calls spread over every replica; a confirmation whose second leg lands on another replica
succeeds; state sealed with a key the replicas do not hold is refused; handshake-era sessions stay on their replica;
an idempotency key used on one replica replays on another; a spend budget holds across replicas; killing a replica
under load loses no answered call and duplicates no send.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from fake_clicksend import API_KEY, TEST_NUMBER, USERNAME, FakeClickSend, LoopbackServer, free_port, free_ports
from nginx_process import main_config, nginx_binary, render_deploy_config
from services import PostgresServer
from test_e2e import console_script

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEND = "CLICKSEND_CREATE_SMS_SEND"
ACCOUNT = "CLICKSEND_GET_ACCOUNT"
STATE_KEY = "topology-state-key-" + "7" * 40
ROTATED_OUT = "rotated-out-state-key-" + "3" * 40
SENDS_PATH = "/v3/sms/send"
LEDGER_KEY = "topology-ledger-key-" + "9" * 40  # the same on every replica, as PostgreSQL requires
PRICE = "0.077"  # the fake's quote for one SMS part to an Australian number


@dataclass
class Topology:
    url: str  # nginx's /mcp
    fake: Any  # a FakeClickSend, or an AccountsFake serving several accounts
    fake_url: str
    database_url: str  # the PostgreSQL ledger every replica shares
    replicas: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)  # port -> process

    @property
    def ports(self) -> set[int]:
        return set(self.replicas)

    def sent_messages(self) -> list[dict[str, Any]]:
        return [m for r in self.fake.sent("POST", SENDS_PATH) for m in (r.json or {}).get("messages", [])]

    def sent_bodies(self) -> Counter[str]:
        return Counter(m["body"] for m in self.sent_messages())

    def ledger(self, since: float) -> list[tuple[str, str | None]]:
        """(outcome, tag) of every send the replicas recorded in the shared database since `since`, oldest first."""
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT outcome, tag FROM sends WHERE created_at >= %s ORDER BY id", (since,)
            ).fetchall()
        return [(str(outcome), tag) for outcome, tag in rows]


def replica_env(fake_url: str, keys: str, replica: str, database_url: str, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "CLICKSEND_MCP_CACHE_DIR": os.environ.get("CLICKSEND_MCP_CACHE_DIR", tempfile.gettempdir()),
        "CLICKSEND_BACKEND": "direct",
        "CLICKSEND_BASE_URL": fake_url,
        "CLICKSEND_USERNAME": USERNAME,
        "CLICKSEND_API_KEY": API_KEY,
        "CLICKSEND_MCP_STATE_KEYS": keys,
        "CLICKSEND_MCP_REPLICA_ID": replica,
        "CLICKSEND_MCP_DATABASE_URL": database_url,
        "CLICKSEND_MCP_LEDGER_KEY": LEDGER_KEY,
        "CLICKSEND_RETRIES": "0",
        "CLICKSEND_MCP_LOG_LEVEL": "warning",
        **extra,
    }


def start_replica(port: int, env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    with (logs / f"replica-{port}.log").open("wb") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [console_script(), "--transport", "http", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )


def wait_healthy(url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> None:
    """Bounded wait until `url` answers 200 (a process start has no event to wait on from here)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            if httpx2.get(url, timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not become healthy in {timeout} s")


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def topology(postgres_server: PostgresServer) -> Iterator[Topology]:
    """The module's topology: three replicas asking for confirmation of sends, sharing one fresh database."""
    with running_topology(postgres_server.new_database(), CLICKSEND_CONFIRM_SENDS="true") as running:
        yield running


@contextmanager
def running_topology(
    database_url: str, fake: Any = None, *, stored_credentials: bool = True, **extra_env: str
) -> Iterator[Topology]:
    """nginx on a free loopback port in front of three replicas sharing the ledger at `database_url` (their settings
    plus `extra_env`), and the fake (a FakeClickSend unless given). Without `stored_credentials` the replicas hold
    no ClickSend credentials and no backend (multi-tenant mode: each request brings its own)."""
    binary = nginx_binary()
    fake = fake if fake is not None else FakeClickSend()
    with LoopbackServer(fake) as upstream, tempfile.TemporaryDirectory(prefix="clicksend-topology-") as tmp:
        workdir = Path(tmp)
        *ports, listen = free_ports(4)
        topology = Topology(
            url=f"http://127.0.0.1:{listen}/mcp", fake=fake, fake_url=upstream.base_url, database_url=database_url
        )
        nginx: subprocess.Popen[bytes] | None = None
        try:
            for index, port in enumerate(ports, start=1):
                env = replica_env(upstream.base_url, STATE_KEY, f"replica-{index}", database_url, **extra_env)
                if not stored_credentials:
                    del env["CLICKSEND_USERNAME"], env["CLICKSEND_API_KEY"], env["CLICKSEND_BACKEND"]
                topology.replicas[port] = start_replica(port, env, workdir)
            for port, process in topology.replicas.items():
                wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
            conf = main_config(workdir, render_deploy_config(workdir, listen, ports))
            nginx = subprocess.Popen(
                [binary, "-p", str(workdir), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            wait_healthy(f"http://127.0.0.1:{listen}/healthz", nginx)
            yield topology
        finally:
            if nginx is not None:
                stop(nginx)
            for process in topology.replicas.values():
                stop(process)


class Recorder:
    """httpx event hook: which replica (nginx's X-Upstream-Addr) answered each MCP request, and its session."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int | None, str | None]] = []  # (method, replica port, session id)
        self.calls: list[tuple[str, int | None]] = []  # (first message body of a tools/call, replica port)

    async def __call__(self, response: httpx2.Response) -> None:
        request = response.request
        try:
            message = json.loads(request.content) if request.content else {}
            method = message.get("method", "") if message else request.method
        except (ValueError, AttributeError):
            message, method = {}, request.method
        upstream = response.headers.get("x-upstream-addr", "")
        last = upstream.split(",")[-1].strip()  # after a retry nginx lists every address it tried
        port = int(last.rsplit(":", 1)[1]) if ":" in last else None
        session = request.headers.get("mcp-session-id") or response.headers.get("mcp-session-id")
        self.seen.append((method, port, session))
        if method == "tools/call":
            messages = (message.get("params") or {}).get("arguments", {}).get("messages") or [{}]
            self.calls.append((str(messages[0].get("body", "")), port))


async def accept(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"confirm": True})


def client(url: str, recorder: Recorder, mode: str = "auto") -> tuple[httpx2.AsyncClient, Client]:
    http = httpx2.AsyncClient(timeout=30, event_hooks={"response": [recorder]})
    return http, Client(
        streamable_http_client(url, http_client=http),
        mode=mode,  # type: ignore[arg-type]
        elicitation_callback=accept,
    )


async def test_2026_era_calls_spread_over_every_replica(topology: Topology) -> None:
    recorder = Recorder()
    http, mcp = client(topology.url, recorder)
    with anyio.fail_after(60):
        async with http, mcp:
            for _ in range(12):
                result = await mcp.call_tool(ACCOUNT, {})
                assert result.structured_content is not None and result.structured_content["successful"] is True
    calls = [port for method, port, session in recorder.seen if method == "tools/call"]
    assert len(calls) == 12
    assert set(calls) == topology.ports
    assert all(session is None for method, _, session in recorder.seen if method == "tools/call")


async def test_a_confirmation_whose_second_leg_lands_on_another_replica_succeeds(topology: Topology) -> None:
    recorder = Recorder()
    http, mcp = client(topology.url, recorder)
    bodies = [f"confirmed across replicas {i}" for i in range(6)]
    with anyio.fail_after(60):
        async with http, mcp:
            for body in bodies:
                result = await mcp.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": body}]})
                assert result.structured_content is not None and result.structured_content["successful"] is True
    legs = [port for method, port, _ in recorder.seen if method == "tools/call"]
    assert len(legs) == 2 * len(bodies)  # every send: ask (input_required), then the confirmed call
    pairs = list(zip(legs[::2], legs[1::2], strict=True))
    assert any(first != second for first, second in pairs), pairs
    sent = topology.sent_bodies()
    assert all(sent[body] == 1 for body in bodies)


async def test_state_sealed_with_a_key_the_replicas_do_not_hold_is_refused(topology: Topology, tmp_path: Path) -> None:
    port = free_port()
    env = replica_env(topology.fake_url, ROTATED_OUT, "outsider", topology.database_url, CLICKSEND_CONFIRM_SENDS="true")
    outsider = start_replica(port, env, tmp_path)
    arguments = {"messages": [{"to": TEST_NUMBER, "body": "sealed with a rotated-out key"}]}
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", outsider)
        with anyio.fail_after(60):
            async with (
                httpx2.AsyncClient(timeout=30) as http,
                Client(
                    streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http),
                    elicitation_callback=accept,
                ) as mcp,
            ):
                asked = await mcp.session.call_tool(SEND, arguments, allow_input_required=True)
            assert isinstance(asked, types.InputRequiredResult) and asked.request_state
            http, mcp = client(topology.url, Recorder())
            async with http, mcp:
                await mcp.list_tools()
                try:
                    await mcp.call_tool(
                        SEND,
                        arguments,
                        input_responses={
                            "confirm_send": types.ElicitResult(action="accept", content={"confirm": True})
                        },
                        request_state=asked.request_state,
                    )
                    refused: MCPError | None = None
                except MCPError as exc:
                    refused = exc
    finally:
        stop(outsider)
    assert refused is not None and "Invalid or expired requestState" in str(refused)
    assert topology.sent_bodies()["sealed with a rotated-out key"] == 0


async def test_handshake_sessions_stay_on_their_replica(topology: Topology) -> None:
    recorder = Recorder()
    with anyio.fail_after(90):
        for _ in range(6):
            http, mcp = client(topology.url, recorder, mode="legacy")
            async with http, mcp:
                for _ in range(4):
                    result = await mcp.call_tool(ACCOUNT, {})
                    assert result.structured_content is not None and result.structured_content["successful"] is True
    by_session: dict[str, set[int | None]] = {}
    for _, port, session in recorder.seen:
        if session:
            by_session.setdefault(session, set()).add(port)
    assert len(by_session) == 6
    assert all(len(ports) == 1 for ports in by_session.values()), by_session
    assert all(session.startswith("replica-") for session in by_session)
    assert len({next(iter(ports)) for ports in by_session.values()}) > 1  # sessions themselves are spread


async def test_an_idempotency_key_used_on_one_replica_replays_on_every_other_replica(
    topology: Topology,
) -> None:
    recorder = Recorder()
    http, mcp = client(topology.url, recorder)
    body = "one key, many replicas"
    arguments = {"messages": [{"to": TEST_NUMBER, "body": body}], "idempotency_key": "topology-retry-key-0001"}
    with anyio.fail_after(60):
        async with http, mcp:
            first = await mcp.call_tool(SEND, arguments)  # asks, is confirmed, and sends
            assert first.structured_content is not None and first.structured_content["successful"] is True
            [*_, (_, sent_on)] = recorder.calls
            retries: list[dict[str, Any]] = []
            retried_on: list[int | None] = []
            # nginx spreads the retries (least_conn: one at a time, they go round): bounded, until every other
            # replica has answered one.
            while len(retries) < 9 and not topology.ports - {sent_on} <= set(retried_on):
                before = len(recorder.calls)
                retried = await mcp.call_tool(SEND, arguments)
                assert retried.structured_content is not None
                retries.append(retried.structured_content)
                legs = recorder.calls[before:]
                # One leg: a replica that finds the key replays at once; one that does not would ask again.
                assert len(legs) == 1, f"replica {legs[0][1]} asked to confirm the retry: it did not find the key"
                retried_on.append(legs[0][1])
    assert topology.ports - {sent_on} <= set(retried_on), (sent_on, retried_on)
    message_id = first.structured_content["data"]["messages"][0]["message_id"]
    for replay in retries:
        assert replay["successful"] is True and replay.get("replayed") is True, replay
        assert replay["data"]["messages"][0]["message_id"] == message_id
    assert topology.sent_bodies()[body] == 1  # the retries on other replicas sent nothing


async def test_a_spend_budget_holds_across_replicas(postgres_server: PostgresServer) -> None:
    allowed, workers, each = 12, 6, 5  # 30 sends, six at a time, against a budget for 12
    budget = f"{allowed * float(PRICE):.3f}"
    outcomes: dict[str, dict[str, Any]] = {}
    recorder = Recorder()
    with running_topology(postgres_server.new_database(), CLICKSEND_MAX_SPEND_PER_DAY=budget) as topology:

        async def worker(index: int) -> None:
            http, mcp = client(topology.url, recorder)
            async with http, mcp:
                for n in range(each):
                    body = f"budget {index}-{n}"
                    result = await mcp.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": body}]})
                    assert result.structured_content is not None
                    outcomes[body] = result.structured_content

        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                for index in range(workers):
                    tg.start_soon(worker, index)
        rows = topology.ledger(0)
        reached = topology.sent_bodies()
    sent = sorted(body for body, result in outcomes.items() if result["successful"])
    refused = [result for result in outcomes.values() if not result["successful"]]
    assert len(outcomes) == workers * each
    assert len(sent) == allowed and sum(reached.values()) == allowed and set(reached) == set(sent)
    assert all(r["error_code"] == "REFUSED" and "max-spend-per-day" in r["error"] for r in refused), refused[:2]
    landed = dict(recorder.calls)  # message body -> the replica that answered it
    assert {landed[body] for body in outcomes} == topology.ports  # every replica took its share of the calls
    assert len({landed[body] for body in sent}) > 1, "every send that went out was admitted by one replica"
    assert Counter(outcome for outcome, _ in rows) == {"sent": allowed, "refused": workers * each - allowed}


async def test_killing_a_replica_under_load_loses_no_answered_call_and_duplicates_no_send(
    topology: Topology,
) -> None:
    answered: list[str] = []
    unanswered: list[str] = []
    victim = sorted(topology.ports)[1]
    killed = anyio.Event()
    since = time.time()

    async def worker(index: int) -> None:
        bodies = [f"load {index}-{n}" for n in range(12)]
        in_flight: str | None = None
        while bodies:
            try:
                http, mcp = client(topology.url, Recorder())
                async with http, mcp:
                    while bodies:
                        in_flight = body = bodies.pop(0)
                        try:
                            result = await mcp.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": body}]})
                        except (MCPError, httpx2.HTTPError):
                            in_flight = None
                            unanswered.append(body)
                            continue
                        in_flight = None
                        assert result.structured_content is not None
                        if result.structured_content["successful"]:
                            answered.append(body)
                        else:
                            unanswered.append(body)
                        if len(answered) >= 15 and not killed.is_set():
                            killed.set()
                            topology.replicas[victim].send_signal(signal.SIGKILL)
            except* httpx2.HTTPError:
                # The replica died while its answer was being read (nginx had passed on its headers): the client's
                # transport fails as a whole. The call in flight is unanswered; a client reconnects, and so do we.
                if in_flight is not None:
                    unanswered.append(in_flight)
                    in_flight = None

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for index in range(6):
                tg.start_soon(worker, index)
    assert killed.is_set()
    sent = topology.sent_bodies()
    load = {body: count for body, count in sent.items() if body.startswith("load ")}
    assert all(count == 1 for count in load.values()), {b: c for b, c in load.items() if c != 1}
    assert all(load.get(body) == 1 for body in answered)  # every answered send really went out, once
    assert len(answered) + len(unanswered) == 72
    assert len(unanswered) <= 6  # at most the calls in flight on the killed replica
    assert len(answered) > 15  # the survivors kept serving after the kill
    # The shared ledger agrees with what reached ClickSend: one row per admitted call, every send made under its own
    # reservation (the tag ClickSend got back names it), none twice. The killed replica's calls in flight are left
    # pending (sent or not: nothing resends them); they become unknown after the pending timeout, for
    # CLICKSEND_CHECK_SEND_OUTCOME to settle.
    rows = topology.ledger(since)
    tags = Counter(tag for _, tag in rows)
    assert None not in tags and all(n == 1 for n in tags.values()), tags
    at_fake = Counter(m.get("custom_string") for m in topology.sent_messages() if m["body"].startswith("load "))
    assert set(at_fake) <= set(tags), "a send went out without a row in the ledger"
    outcomes = Counter(outcome for outcome, _ in rows)
    assert set(outcomes) <= {"sent", "pending"}, outcomes
    assert all(at_fake[tag] == 1 for outcome, tag in rows if outcome == "sent")
    assert all(at_fake[tag] <= 1 for outcome, tag in rows if outcome == "pending")
    assert len(answered) <= outcomes["sent"] and outcomes["sent"] + outcomes["pending"] <= 72
    assert outcomes["sent"] - len(answered) + outcomes["pending"] <= len(unanswered)
