"""The gateways end to end: the server as its own process over streamable HTTP, driven by the real MCP client in both
protocol eras, against the Maton and SkillBoss fakes on 127.0.0.1; every result and the whole stderr log (at debug
level) are searched for the keys."""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client

from console import base_env
from fake_clicksend import TEST_NUMBER, LoopbackServer, free_port
from fake_gateways import CONNECTION_A, CONNECTION_B, MATON_KEY, SKILLBOSS_KEY, TEMPLATE_ID, FakeMaton, FakeSkillBoss
from test_e2e import TIMEOUT, console_script, run_cli

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEND = "CLICKSEND_CREATE_SMS_SEND"


@asynccontextmanager
async def serving(env: dict[str, str], log: list[bytes]) -> AsyncIterator[str]:
    """`clicksend-mcp --transport http` as a process; its whole stderr is kept in `log` (read until it exits)."""
    port = free_port()
    process = await anyio.open_process(
        [console_script(), "--transport", "http", "--port", str(port), "--log-level", "debug"],
        env=base_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    listening = anyio.Event()

    async def collect() -> None:
        assert process.stderr is not None
        async for chunk in process.stderr:
            log.append(chunk)
            if b"Uvicorn running on" in b"".join(log):
                listening.set()
        listening.set()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(collect)
            with anyio.fail_after(TIMEOUT):
                await listening.wait()
            assert process.returncode is None, b"".join(log).decode(errors="replace")
            yield f"http://127.0.0.1:{port}/mcp"
            process.terminate()
            with anyio.fail_after(TIMEOUT):
                await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
        await process.aclose()


def result_of(answer: Any) -> dict[str, Any]:
    assert answer.structured_content is not None
    content: dict[str, Any] = answer.structured_content
    return content


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_one_agent_works_with_two_clicksend_accounts_through_maton(mode: str) -> None:
    maton = FakeMaton()
    maton.add_connection(CONNECTION_A, created="2026-02-10T10:04:12Z")
    maton.add_connection(CONNECTION_B, created="2026-02-11T08:00:00Z")
    log: list[bytes] = []
    produced: list[dict[str, Any]] = []
    with LoopbackServer(maton) as upstream:
        base = f"http://127.0.0.1:{upstream.port}"
        env = {
            "MATON_API_KEY": MATON_KEY,
            "MATON_BASE_URL": f"{base}/clicksend/v3",
            "MATON_CTRL_BASE_URL": base,
            "CLICKSEND_MATON_CONNECTION_ARG": "true",
        }
        async with serving(env, log) as url:
            with anyio.fail_after(TIMEOUT):
                async with Client(url, mode=mode) as client:
                    tools = {t.name: t for t in (await client.list_tools()).tools}
                    assert "maton_connection" in tools[SEND].input_schema["properties"]
                    assert "CLICKSEND_MATON_CREATE_CONNECTION" in tools
                    listed = result_of(await client.call_tool("CLICKSEND_MATON_LIST_CONNECTIONS", {"status": "ACTIVE"}))
                    ids = [c["connection_id"] for c in listed["data"]["connections"]]
                    assert ids == [CONNECTION_A, CONNECTION_B]
                    for connection in ids:
                        arguments = {"messages": [{"to": TEST_NUMBER, "body": f"via {connection}"}]}
                        sent = result_of(await client.call_tool(SEND, {**arguments, "maton_connection": connection}))
                        assert sent["successful"] is True, sent
                        produced.append(sent)
                    default = result_of(await client.call_tool("CLICKSEND_SMS_HISTORY_GET", {}))
                    chosen = result_of(
                        await client.call_tool("CLICKSEND_SMS_HISTORY_GET", {"maton_connection": CONNECTION_B})
                    )
                    created = result_of(await client.call_tool("CLICKSEND_MATON_CREATE_CONNECTION", {}))
                    produced += [listed, default, chosen, created]
    # Without a choice, Maton's oldest active connection (A) answered; with one, that account did.
    assert [m["body"] for m in default["data"]["data"]] == [f"via {CONNECTION_A}"]
    assert [m["body"] for m in chosen["data"]["data"]] == [f"via {CONNECTION_B}"]
    assert created["authorize_url"].startswith("https://connect.maton.ai/") and "open" in created["next_step"]
    gateway = [r for r in maton.requests if r.path.startswith("/clicksend/")]
    assert [r.headers.get("maton-connection") for r in gateway] == [CONNECTION_A, CONNECTION_B, None, CONNECTION_B]
    stderr = b"".join(log).decode(errors="replace")
    assert "call tool=CLICKSEND_CREATE_SMS_SEND backend=maton" in stderr
    assert MATON_KEY not in stderr and MATON_KEY not in json.dumps(produced)


async def test_a_skillboss_key_alone_sends_a_templated_sms_and_verifies_a_passcode() -> None:
    skillboss = FakeSkillBoss()
    log: list[bytes] = []
    produced: list[dict[str, Any]] = []
    with LoopbackServer(skillboss) as upstream:
        env = {"SKILLBOSS_API_KEY": SKILLBOSS_KEY, "SKILLBOSS_BASE_URL": f"http://127.0.0.1:{upstream.port}/v1"}
        async with serving(env, log) as url:
            with anyio.fail_after(TIMEOUT):
                async with Client(url, mode="auto") as client:
                    names = {t.name for t in (await client.list_tools()).tools}
                    assert names == {
                        "CLICKSEND_SKILLBOSS_SEND_TEMPLATED_SMS",
                        "CLICKSEND_SKILLBOSS_SEND_VERIFICATION",
                        "CLICKSEND_SKILLBOSS_CHECK_VERIFICATION",
                    }
                    number = "+12015550123"
                    arguments = {"template_id": TEMPLATE_ID, "to": number, "variables": {"message": "hi"}}
                    produced.append(
                        result_of(await client.call_tool("CLICKSEND_SKILLBOSS_SEND_TEMPLATED_SMS", arguments))
                    )
                    produced.append(
                        result_of(await client.call_tool("CLICKSEND_SKILLBOSS_SEND_VERIFICATION", {"to": number}))
                    )
                    check = {"to": number, "code": skillboss.codes[number]}
                    produced.append(result_of(await client.call_tool("CLICKSEND_SKILLBOSS_CHECK_VERIFICATION", check)))
                    unsupported = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
                    produced.append(result_of(unsupported))
    sms, verify, checked, refused = produced
    assert sms["successful"] and verify["successful"] and checked["data"]["status"] == "success"
    assert unsupported.is_error is True and refused["error_code"] == "NOT_SUPPORTED_BY_BACKEND"
    assert [r.json["model"] for r in skillboss.requests] == [
        "prelude/notify-send",
        "prelude/verify-send",
        "prelude/verify-check",
    ]
    stderr = b"".join(log).decode(errors="replace")
    assert "backend=skillboss" in stderr
    assert SKILLBOSS_KEY not in stderr and SKILLBOSS_KEY not in json.dumps(produced)


def test_the_tools_command_lists_what_the_configured_backend_serves() -> None:
    done = run_cli("tools", env={"SKILLBOSS_API_KEY": SKILLBOSS_KEY})
    assert done.returncode == 0, done.stderr
    assert sorted(line.split()[0] for line in done.stdout.splitlines()) == [
        "CLICKSEND_SKILLBOSS_CHECK_VERIFICATION",
        "CLICKSEND_SKILLBOSS_SEND_TEMPLATED_SMS",
        "CLICKSEND_SKILLBOSS_SEND_VERIFICATION",
    ]
    maton = run_cli("--toolsets", "maton", "tools", env={"MATON_API_KEY": MATON_KEY})
    assert len(maton.stdout.splitlines()) == 4 and MATON_KEY not in maton.stdout + maton.stderr
