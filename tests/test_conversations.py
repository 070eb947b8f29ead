"""Replies and delivery receipts through the real MCP client: polling ClickSend (stdio, the loopback fake), webhooks
(right and wrong secret, duplicates, formats, limits), timeouts, cancellation, the sandbox's responder, the rules
tool, and a reply received by one replica waking a waiter on another (PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning

from clicksend_mcp.app import build_server
from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.dispatcher import Dispatcher
from clicksend_mcp.sandbox.responder import Responder, set_responder
from clicksend_mcp.settings import ConfigError
from clicksend_mcp.transports.asgi import HttpOptions, http_app
from conftest import direct_settings
from fake_clicksend import TEST_NUMBER, FakeClickSend, LoopbackServer
from test_e2e import console_script, direct_env, served

pytestmark = pytest.mark.anyio

SEND = "CLICKSEND_CREATE_SMS_SEND"
WAIT = "CLICKSEND_WAIT_FOR_REPLY"
CONVERSATION = "CLICKSEND_GET_CONVERSATION"
SECRET = "s3cret-webhook-token-0123456789abcdefXYZ"
PERSON = "+61422222222"
CONVERSING = {"CLICKSEND_TOOLSETS": "default,conversations"}  # a server whose agent waits for answers


def outcome(result: types.CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None
    return result.structured_content


def database(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path}/ledger.db"


@asynccontextmanager
async def in_process(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path, **settings: Any
) -> AsyncIterator[tuple[Client, Dispatcher, Any]]:
    """A server over a private ledger: its MCP client, its dispatcher, and its HTTP app (webhooks in front)."""
    dispatcher = build_dispatcher(
        direct_settings(database_url=database(tmp_path), **settings), tools=tools, asgi_app=fake
    )
    server = build_server(dispatcher)
    app = http_app(
        server,
        HttpOptions(auth_token="bearer-token-for-mcp", conversations=dispatcher.conversations, webhook_secret=SECRET),
    )
    try:
        with anyio.fail_after(60):
            async with Client(server) as client:
                yield client, dispatcher, app
    finally:
        await dispatcher.aclose()


def webhooks(**extra: Any) -> dict[str, Any]:
    return {"transport": "http", "webhook_secret": SECRET, "public_url": "https://mcp.example.com", **extra}


async def post(app: Any, path: str, **kwargs: Any) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        return await http.post(path, **kwargs)


def inbound(message_id: str = "IN-1", body: str = "Yes, 3pm works", original: str = "") -> dict[str, str]:
    """An inbound SMS as ClickSend's URL rule posts it (form fields)."""
    return {
        "timestamp": "1796000000",
        "from": PERSON,
        "to": "+61481000000",
        "body": body,
        "message": body,
        "original_message_id": original,
        "original_body": "Are you free at 3?",
        "custom_string": "",
        "message_id": message_id,
        "user_id": "1",
        "subaccount_id": "1",
    }


# --- webhooks ---------------------------------------------------------------------------------------------------


async def test_a_reply_posted_to_the_webhook_with_the_right_secret_is_what_wait_for_reply_returns(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    async with in_process(fake, tools, tmp_path, **webhooks()) as (client, _, app):
        response = await post(app, f"/webhooks/clicksend/{SECRET}/sms-inbound", data=inbound())
        assert response.status_code == 200 and response.json() == {"stored": 1, "duplicate": False}
        waited = outcome(await client.call_tool(WAIT, {"from_number": PERSON, "since": 0, "timeout_seconds": 5}))
    assert waited["successful"] and waited["data"]["replied"] is True
    assert waited["data"]["reply"]["body"] == "Yes, 3pm works" and waited["data"]["reply"]["from"] == PERSON
    assert waited["data"]["via"] == "webhooks"
    assert waited["untrusted_content"]["fields"] == ["data.reply.body"]
    assert fake.requests == []  # nothing was polled: the webhook brought it


async def test_a_wrong_secret_gets_404_and_nothing_is_stored(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    async with in_process(fake, tools, tmp_path, **webhooks()) as (client, _, app):
        wrong = SECRET[:-1] + ("x" if SECRET[-1] != "x" else "y")
        for path in (
            f"/webhooks/clicksend/{wrong}/sms-inbound",
            "/webhooks/clicksend/sms-inbound",
            f"/webhooks/clicksend/{SECRET}/unknown-kind",
        ):
            response = await post(app, path, data=inbound())
            assert response.status_code == 404, path
        waited = outcome(await client.call_tool(WAIT, {"from_number": PERSON, "since": 0, "timeout_seconds": 0}))
    assert waited["data"]["replied"] is False


async def test_webhooks_need_no_bearer_token_but_the_mcp_endpoint_still_does(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    async with in_process(fake, tools, tmp_path, **webhooks()) as (_, _, app):
        hook = await post(app, f"/webhooks/clicksend/{SECRET}/sms-inbound", data=inbound())
        mcp = await post(app, "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert hook.status_code == 200
    assert mcp.status_code == 401


async def test_a_duplicate_delivery_of_one_reply_is_stored_once(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    async with in_process(fake, tools, tmp_path, **webhooks()) as (client, _, app):
        first = await post(app, f"/webhooks/clicksend/{SECRET}/sms-inbound", data=inbound("DUP-1"))
        again = await post(app, f"/webhooks/clicksend/{SECRET}/sms-inbound", json=inbound("dup-1"))
        talk = outcome(await client.call_tool(CONVERSATION, {"number": PERSON}))
    assert first.json() == {"stored": 1, "duplicate": False}
    assert again.status_code == 200 and again.json() == {"stored": 0, "duplicate": True}
    assert [m["message_id"] for m in talk["data"]["messages"]] == ["DUP-1"]


async def test_a_receipt_marks_the_sent_message_delivered_in_the_conversation_and_the_send_outcome(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    async with in_process(fake, tools, tmp_path, **webhooks()) as (client, _, app):
        sent = outcome(await client.call_tool(SEND, {"messages": [{"to": PERSON, "body": "Are you free at 3?"}]}))
        message_id = sent["data"]["messages"][0]["message_id"]
        before = outcome(await client.call_tool(CONVERSATION, {"number": PERSON}))
        receipt = {
            "timestamp": "1796000100",
            "message_id": message_id,
            "status": "Delivered",
            "status_code": "201",
            "status_text": "Success: Message received on handset.",
            "custom_string": sent["tag"],
        }
        response = await post(app, f"/webhooks/clicksend/{SECRET}/sms-receipts", data=receipt)
        after = outcome(await client.call_tool(CONVERSATION, {"number": PERSON}))
        checked = outcome(await client.call_tool("CLICKSEND_CHECK_SEND_OUTCOME", {"tag": sent["tag"]}))
    assert response.status_code == 200
    assert before["data"]["messages"][0]["status"] == "Sent"
    assert after["data"]["messages"][0] == {**before["data"]["messages"][0], "status": "Delivered"}
    assert checked["data"]["delivery"]["messages"] == {message_id: "Delivered"}


async def test_bad_webhook_bodies_are_refused_naming_the_field_and_too_large_ones_get_413(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    async with in_process(fake, tools, tmp_path, **webhooks()) as (client, _, app):
        path = f"/webhooks/clicksend/{SECRET}/sms-inbound"
        missing = await post(app, path, data={k: v for k, v in inbound().items() if k != "from"})
        not_json = await post(app, path, content=b"[1, 2]", headers={"content-type": "application/json"})
        bad_id = await post(app, path, data={**inbound(), "message_id": "<script>"})
        huge = await post(app, path, data={**inbound(), "body": "x" * 70_000})
        talk = outcome(await client.call_tool(CONVERSATION, {"number": PERSON}))
    assert missing.status_code == 400 and missing.json()["error"].startswith("from:")
    assert not_json.status_code == 400 and "JSON object" in not_json.json()["error"]
    assert bad_id.status_code == 400 and bad_id.json()["error"].startswith("message_id:")
    assert huge.status_code == 413
    assert talk["data"]["messages"] == []


# --- waiting ----------------------------------------------------------------------------------------------------


async def test_wait_for_reply_says_none_came_when_the_timeout_passes(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    async with in_process(fake, tools, tmp_path, **webhooks()) as (client, _, _):
        progress: list[float] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.append(value)

        waited = outcome(
            await client.call_tool(WAIT, {"from_number": PERSON, "timeout_seconds": 1}, progress_callback=on_progress)
        )
    assert waited["successful"] and waited["data"]["replied"] is False
    assert "no reply within 1 s" in waited["data"]["note"]
    assert progress and progress[0] == 0.0


async def test_wait_for_reply_needs_someone_to_wait_for(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    async with in_process(fake, tools, tmp_path) as (client, _, _):
        waited = outcome(await client.call_tool(WAIT, {"timeout_seconds": 1}))
        bad = outcome(await client.call_tool(WAIT, {"from_number": "call me", "timeout_seconds": 1}))
    assert waited["error_code"] == "INVALID_ARGUMENTS" and "from_number, message_id or tag" in waited["error"]
    assert bad["error_code"] == "INVALID_ARGUMENTS" and "from_number: expected a phone number" in bad["error"]


async def test_a_waiter_is_woken_by_a_reply_that_arrives_while_it_waits(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    async with in_process(fake, tools, tmp_path, **webhooks()) as (client, _, app):
        sent = outcome(await client.call_tool(SEND, {"messages": [{"to": PERSON, "body": "Reply YES to confirm"}]}))
        message_id = sent["data"]["messages"][0]["message_id"]
        got: dict[str, Any] = {}
        started = anyio.Event()

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            started.set()

        async def wait() -> None:
            got.update(
                outcome(
                    await client.call_tool(
                        WAIT, {"message_id": message_id, "timeout_seconds": 30}, progress_callback=on_progress
                    )
                )
            )

        async with anyio.create_task_group() as group:
            group.start_soon(wait)
            await started.wait()
            await post(app, f"/webhooks/clicksend/{SECRET}/sms-inbound", data=inbound("R-9", "YES", message_id))
    assert got["data"]["replied"] is True and got["data"]["reply"]["body"] == "YES"
    assert got["data"]["reply"]["in_reply_to"] == message_id and got["data"]["waited_seconds"] < 30


async def test_cancelling_the_call_stops_the_wait_on_the_server(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    async with in_process(fake, tools, tmp_path, **webhooks()) as (client, dispatcher, _):
        waiting = anyio.Event()

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            waiting.set()

        async with anyio.create_task_group() as group:

            async def wait() -> None:
                await client.call_tool(
                    WAIT, {"from_number": PERSON, "timeout_seconds": 600}, progress_callback=on_progress
                )

            group.start_soon(wait)
            await waiting.wait()
            assert dispatcher.in_flight == 1
            group.cancel_scope.cancel()
        with anyio.fail_after(10):
            await dispatcher.wait_idle()
        # The server is free for the next call.
        again = outcome(await client.call_tool(WAIT, {"from_number": PERSON, "timeout_seconds": 0}))
    assert dispatcher.in_flight == 0 and again["data"]["replied"] is False


# --- polling ------------------------------------------------------------------------------------------------------


async def test_without_webhooks_the_wait_polls_the_inbound_list_of_the_loopback_fake(tmp_path: Path) -> None:
    fake = FakeClickSend()
    set_responder(fake.state, Responder("fixed", "Polled answer"))
    with LoopbackServer(fake) as loopback:
        env = {**direct_env(loopback.base_url), "CLICKSEND_MCP_DATABASE_URL": database(tmp_path), **CONVERSING}
        params = stdio_params(env)
        with anyio.fail_after(60):
            async with Client(params, mode="legacy") as client:
                sent = outcome(await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": "Ping?"}]}))
                waited = outcome(await client.call_tool(WAIT, {"tag": sent["tag"], "timeout_seconds": 30}))
    assert waited["data"]["replied"] is True and waited["data"]["via"] == "polling ClickSend"
    assert waited["data"]["reply"]["body"] == "Polled answer"
    polls = fake.sent("GET", "/v3/sms/inbound")
    assert polls and all(dict(p.query) == {"page": "1", "limit": "100"} for p in polls)
    assert fake.sent("PUT") == []  # polling marks nothing read: other readers of the account still see it


def stdio_params(env: dict[str, str], *args: str) -> Any:
    from mcp import StdioServerParameters

    return StdioServerParameters(command=console_script(), args=list(args), env={**base_env(), **env})


def base_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}


async def test_over_stdio_the_sandbox_answers_and_wait_for_reply_returns_its_answer(tmp_path: Path) -> None:
    env = {
        "CLICKSEND_BACKEND": "sandbox",
        "CLICKSEND_MCP_DATABASE_URL": database(tmp_path),
        **CONVERSING,
        "CLICKSEND_MCP_SANDBOX_RESPONDER": "script:Who is this?|OK, see you then",
        "CLICKSEND_MCP_SANDBOX_REPLY_DELAY": "1",
    }
    with anyio.fail_after(60):
        async with Client(stdio_params(env), mode="legacy") as client:
            answers = []
            for question in ("Are you free at 3?", "It's Sam"):
                await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": question}]})
                waited = outcome(await client.call_tool(WAIT, {"from_number": TEST_NUMBER, "timeout_seconds": 30}))
                answers.append(waited["data"]["reply"]["body"])
            talk = outcome(await client.call_tool(CONVERSATION, {"number": TEST_NUMBER, "limit": 3}))
    assert answers == ["Who is this?", "OK, see you then"]
    assert [m["direction"] for m in talk["data"]["messages"]] == ["inbound", "outbound", "inbound"]
    older = talk["data"]["before"]
    assert isinstance(older, int)


# --- over HTTP, as processes --------------------------------------------------------------------------------------


@asynccontextmanager
async def mcp_over_http(base: str) -> AsyncIterator[Client]:
    async with Client(f"{base}/mcp", mode="legacy") as client:
        yield client


async def test_over_http_the_sandbox_answers_through_the_servers_own_webhook(tmp_path: Path) -> None:
    env = {
        "CLICKSEND_BACKEND": "sandbox",
        "CLICKSEND_MCP_DATABASE_URL": database(tmp_path),
        **CONVERSING,
        "CLICKSEND_MCP_WEBHOOK_SECRET": SECRET,
        "CLICKSEND_MCP_PUBLIC_URL": "https://mcp.example.com",
        "CLICKSEND_MCP_SANDBOX_RESPONDER": "echo",
        "CLICKSEND_MCP_SANDBOX_REPLY_DELAY": "1",
        "CLICKSEND_MCP_LOG_LEVEL": "debug",
    }
    async with served("http", env, keep_process=True) as (base, process):
        async with mcp_over_http(base) as client:
            sent = outcome(await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": "Hello?"}]}))
            waited = outcome(await client.call_tool(WAIT, {"tag": sent["tag"], "timeout_seconds": 30}))
        async with httpx2.AsyncClient() as http:  # and one post from outside, as ClickSend's would come
            pushed = await http.post(f"{base}/webhooks/clicksend/{SECRET}/sms-inbound", data=inbound("OUT-1"))
        process.terminate()
        log = b""
        with anyio.fail_after(20):
            async for chunk in process.stderr:
                log += chunk
    assert waited["data"] == {**waited["data"], "replied": True, "via": "webhooks"}
    assert waited["data"]["reply"]["body"] == "Echo: Hello?"
    assert pushed.status_code == 200
    assert b"webhook sms-inbound: message" in log
    assert SECRET.encode() not in log


@pytest.mark.parametrize("database_kind", ["postgresql", "sqlite"])
async def test_a_reply_received_by_one_replica_wakes_a_waiter_on_another(
    fake: FakeClickSend, database_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # PostgreSQL wakes the waiter with NOTIFY; with one SQLite file, the waiter's look at the store each second.
    url = request.getfixturevalue("postgres_url") if database_kind == "postgresql" else database(tmp_path)
    with LoopbackServer(fake) as loopback:
        env = {
            **direct_env(loopback.base_url),
            "CLICKSEND_MCP_DATABASE_URL": url,
            **CONVERSING,
            "CLICKSEND_MCP_LEDGER_KEY": "k" * 40,
            "CLICKSEND_MCP_WEBHOOK_SECRET": SECRET,
            "CLICKSEND_MCP_PUBLIC_URL": "https://mcp.example.com",
        }
        async with served("http", env) as replica_a, served("http", env) as replica_b:
            got: dict[str, Any] = {}
            waiting = anyio.Event()

            async def on_progress(value: float, total: float | None, message: str | None) -> None:
                waiting.set()

            async def wait_on_b() -> None:
                async with mcp_over_http(replica_b) as client:
                    arguments = {"from_number": PERSON, "timeout_seconds": 60}
                    got.update(outcome(await client.call_tool(WAIT, arguments, progress_callback=on_progress)))

            async with anyio.create_task_group() as group:
                group.start_soon(wait_on_b)
                await waiting.wait()  # B has looked once and found nothing
                message = {k: v for k, v in inbound("XR-1", "From replica A").items() if k != "timestamp"}
                async with httpx2.AsyncClient() as http:
                    response = await http.post(f"{replica_a}/webhooks/clicksend/{SECRET}/sms-inbound", data=message)
                assert response.status_code == 200 and response.json()["stored"] == 1
    assert got["data"]["replied"] is True and got["data"]["reply"]["body"] == "From replica A"
    assert got["data"]["via"] == "webhooks" and got["data"]["waited_seconds"] < 60


# --- the rules -----------------------------------------------------------------------------------------------------


async def test_set_up_reply_webhooks_shows_the_rules_on_a_dry_run_then_creates_them_once(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    async with in_process(fake, tools, tmp_path, **webhooks()) as (client, _, _):
        dry = outcome(await client.call_tool("CLICKSEND_SET_UP_REPLY_WEBHOOKS", {"dry_run": True}))
        writes_after_dry_run = len(fake.sent("POST")) + len(fake.sent("PUT"))
        made = outcome(await client.call_tool("CLICKSEND_SET_UP_REPLY_WEBHOOKS", {}))
        again = outcome(await client.call_tool("CLICKSEND_SET_UP_REPLY_WEBHOOKS", {}))
    assert writes_after_dry_run == 0
    assert [r["change"] for r in dry["data"]["rules"]] == ["create", "create", "create"]
    assert dry["data"]["rules"][0]["fields"]["action_address"] == (
        "https://mcp.example.com/webhooks/clicksend/<webhook secret>/sms-inbound"
    )
    assert SECRET not in json.dumps([dry, made, again])
    assert [r["change"] for r in again["data"]["rules"]] == ["update", "update", "update"]
    created = fake.sent("POST", "/v3/automations/sms/inbound")
    assert len(created) == 1 and created[0].json["action_address"].endswith(f"/{SECRET}/sms-inbound")
    assert created[0].json["action"] == "URL"
    assert len(fake.sent("POST", "/v3/automations/sms/receipts")) == 1
    assert len(fake.sent("PUT")) == 3


async def test_set_up_reply_webhooks_is_refused_where_no_webhook_can_arrive(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    async with in_process(fake, tools, tmp_path) as (client, _, _):
        refused = outcome(await client.call_tool("CLICKSEND_SET_UP_REPLY_WEBHOOKS", {}))
    assert refused["error_code"] == "REFUSED" and "--public-url" in refused["error"]
    assert fake.requests == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CLICKSEND_MCP_SANDBOX_RESPONDER", "shout"),
        ("CLICKSEND_MCP_SANDBOX_REPLY_DELAY", "-1"),
        ("CLICKSEND_MCP_WEBHOOK_SECRET", "too-short"),
        ("CLICKSEND_MCP_PUBLIC_URL", "ftp://example.com"),
    ],
)
def test_a_bad_replies_setting_is_refused_at_start_naming_it(variable: str, value: str) -> None:
    done = subprocess.run(
        [console_script(), "--backend", "sandbox", "tools"],
        env={**base_env(), variable: value},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and variable in done.stderr
    assert value not in done.stderr or variable != "CLICKSEND_MCP_WEBHOOK_SECRET"  # a secret is never echoed


# --- resources ----------------------------------------------------------------------------------------------------


async def test_a_conversation_is_a_resource_and_subscribers_hear_when_a_reply_arrives(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    updated: list[str] = []
    arrived = anyio.Event()

    async def on_message(message: Any) -> None:
        root = getattr(message, "root", message)
        if isinstance(root, types.ResourceUpdatedNotification):
            updated.append(str(root.params.uri))
            arrived.set()

    dispatcher = build_dispatcher(
        direct_settings(database_url=database(tmp_path), **webhooks()), tools=tools, asgi_app=fake
    )
    server = build_server(dispatcher)
    app = http_app(server, HttpOptions(conversations=dispatcher.conversations, webhook_secret=SECRET))
    uri = f"clicksend://conversations/{PERSON}"
    try:
        with anyio.fail_after(30):
            async with Client(server, mode="legacy", message_handler=on_message) as client:
                templates = await client.list_resource_templates()
                with pytest.warns(MCPDeprecationWarning):  # the handshake era's way, still served
                    await client.subscribe_resource(uri)
                await post(app, f"/webhooks/clicksend/{SECRET}/sms-inbound", data=inbound("RES-1", "Sounds good"))
                await arrived.wait()
                read = await client.read_resource(uri)
                with pytest.raises(Exception, match="expected clicksend://conversations/"):
                    await client.read_resource("clicksend://conversations/not-a-number")
    finally:
        await dispatcher.aclose()
    assert [t.uri_template for t in templates.resource_templates] == ["clicksend://conversations/{number}"]
    assert updated == [uri]
    body = json.loads(read.contents[0].text)  # type: ignore[union-attr]
    assert [m["body"] for m in body["messages"]] == ["Sounds good"]
    assert body["untrusted_content"]["fields"] == ["messages[].body"]


async def test_in_the_2026_era_a_listen_stream_hears_when_a_reply_arrives(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    dispatcher = build_dispatcher(
        direct_settings(database_url=database(tmp_path), **webhooks()), tools=tools, asgi_app=fake
    )
    server = build_server(dispatcher)
    app = http_app(server, HttpOptions(conversations=dispatcher.conversations, webhook_secret=SECRET))
    uri = f"clicksend://conversations/{PERSON}"
    try:
        with anyio.fail_after(30):
            async with Client(server, mode="auto") as client, client.listen(resource_subscriptions=[uri]) as events:
                await post(app, f"/webhooks/clicksend/{SECRET}/sms-inbound", data=inbound("RES-2", "Listening"))
                event = await events.__anext__()
    finally:
        await dispatcher.aclose()
    assert getattr(event, "uri", None) == uri


async def test_the_database_holds_no_number_or_text_of_a_conversation_in_clear(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    async with in_process(fake, tools, tmp_path, **webhooks()) as (client, _, app):
        sent = outcome(await client.call_tool(SEND, {"messages": [{"to": PERSON, "body": "Table for 4 at Luigi's?"}]}))
        message_id = sent["data"]["messages"][0]["message_id"]
        await post(
            app, f"/webhooks/clicksend/{SECRET}/sms-inbound", data=inbound("P-1", "Yes, code ZEBRA-7741", message_id)
        )
        talk = outcome(await client.call_tool(CONVERSATION, {"number": PERSON}))
    assert [m["body"] for m in talk["data"]["messages"]] == ["Table for 4 at Luigi's?", "Yes, code ZEBRA-7741"]
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("ledger.db"))
    for value in (PERSON, PERSON[1:], "Luigi", "ZEBRA-7741", "+61481000000"):
        assert value.encode() not in stored, value


def test_webhooks_without_the_ledger_database_are_refused_at_start(tools: dict[str, CompiledTool]) -> None:
    with pytest.raises(ConfigError, match=r"CLICKSEND_MCP_WEBHOOK_SECRET: .*CLICKSEND_MCP_DATABASE_URL=off"):
        build_dispatcher(direct_settings(database_url="off", **webhooks()), tools=tools)


async def test_with_the_ledger_off_the_conversation_tools_say_why(
    fake: FakeClickSend, tools: dict[str, CompiledTool]
) -> None:
    dispatcher = build_dispatcher(direct_settings(database_url="off"), tools=tools, asgi_app=fake)
    try:
        waited = await dispatcher.call(WAIT, {"from_number": PERSON, "timeout_seconds": 0})
    finally:
        await dispatcher.aclose()
    assert waited["error_code"] == "REFUSED" and "CLICKSEND_MCP_DATABASE_URL=off" in waited["error"]


async def test_under_confirm_sends_the_person_is_asked_before_the_rules_change(
    fake: FakeClickSend, tools: dict[str, CompiledTool], tmp_path: Path
) -> None:
    asked: list[str] = []

    async def decline(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="decline")

    dispatcher = build_dispatcher(
        direct_settings(database_url=database(tmp_path), confirm_sends=True, **webhooks()), tools=tools, asgi_app=fake
    )
    try:
        with anyio.fail_after(30):
            async with Client(build_server(dispatcher), mode="legacy", elicitation_callback=decline) as client:
                declined = outcome(await client.call_tool("CLICKSEND_SET_UP_REPLY_WEBHOOKS", {}))
                shown = outcome(await client.call_tool("CLICKSEND_SET_UP_REPLY_WEBHOOKS", {"dry_run": True}))
    finally:
        await dispatcher.aclose()
    assert declined["error_code"] == "NOT_CONFIRMED" and len(asked) == 1
    assert "Route this ClickSend account's inbound SMS" in asked[0]
    assert shown["successful"] and len(asked) == 1  # a dry run changes nothing, so nobody is asked
    assert fake.sent("POST") == [] and fake.sent("PUT") == []
