"""End to end through the MCP client: the console script over stdio, and served over SSE and streamable HTTP.

The server runs as its own process; ClickSend is the fake on 127.0.0.1, so every request it receives is checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client

from console import base_env, console_script, run_cli
from fake_clicksend import (
    API_KEY,
    MATON_CONNECTION,
    MATON_KEY,
    TEST_NUMBER,
    USERNAME,
    FakeClickSend,
    LoopbackServer,
    free_port,
)

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEND = "CLICKSEND_CREATE_SMS_SEND"
HISTORY = "CLICKSEND_GET_SMS_HISTORY"
TIMEOUT = 60


def direct_env(base_url: str) -> dict[str, str]:
    return {
        # The session's ledger (conftest.py), also for tests that build a process's environment by hand.
        "CLICKSEND_MCP_DATABASE_URL": os.environ["CLICKSEND_MCP_DATABASE_URL"],
        "CLICKSEND_BACKEND": "direct",
        "CLICKSEND_BASE_URL": base_url,
        "CLICKSEND_USERNAME": USERNAME,
        "CLICKSEND_API_KEY": API_KEY,
    }


@pytest.fixture
def fake_on_loopback() -> Iterator[tuple[FakeClickSend, LoopbackServer]]:
    fake = FakeClickSend()
    with LoopbackServer(fake) as server:
        yield fake, server


@asynccontextmanager
async def served(transport: str, env: dict[str, str], keep_process: bool = False) -> AsyncIterator[Any]:
    """Run `clicksend-mcp --transport sse|http` as a process; yield its base URL (and the process) once listening."""
    port = free_port()
    process = await anyio.open_process(
        [console_script(), "--transport", transport, "--port", str(port)],
        env=base_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stderr = b""
    try:
        with anyio.fail_after(TIMEOUT):
            assert process.stderr is not None
            async for chunk in process.stderr:
                stderr += chunk
                if b"Uvicorn running on" in stderr or b"Application startup complete" in stderr:
                    break
            else:
                pytest.fail(f"the server exited before listening:\n{stderr.decode(errors='replace')}")
        base = f"http://127.0.0.1:{port}"
        yield (base, process) if keep_process else base
    finally:
        if process.returncode is None:
            process.terminate()
        with anyio.move_on_after(10):
            await process.wait()
        if process.returncode is None:
            process.kill()
        await process.aclose()


def stdio_params(env: dict[str, str], *args: str) -> StdioServerParameters:
    return StdioServerParameters(command=console_script(), args=list(args), env=base_env(env))


async def send_then_read_history(client: Client, fake: FakeClickSend | None) -> None:
    listed = await client.list_tools()
    names = {t.name for t in listed.tools}
    assert {SEND, HISTORY, "CLICKSEND_GET_ACCOUNT"} <= names
    send_tool = next(t for t in listed.tools if t.name == SEND)
    assert send_tool.annotations is not None and send_tool.annotations.destructive_hint is True

    sent = await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": "end to end"}]})
    assert sent.is_error is False, sent.content
    assert sent.structured_content is not None and sent.structured_content["successful"] is True
    message_id = sent.structured_content["data"]["messages"][0]["message_id"]

    history = await client.call_tool(HISTORY, {"limit": 100})
    assert history.structured_content is not None
    assert message_id in [m["message_id"] for m in history.structured_content["data"]["data"]]

    before = len(fake.requests) if fake else 0
    invalid = await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER}]})
    assert invalid.is_error is True
    assert invalid.structured_content is not None
    assert invalid.structured_content["error_code"] == "INVALID_ARGUMENTS"
    assert "messages[0].body: is required" in invalid.structured_content["error"]
    if fake is not None:
        assert len(fake.requests) == before, "an invalid call reached ClickSend"

    missing = await client.call_tool("CLICKSEND_DELETE_SMS_TEMPLATES", {"template_id": 987654321})
    assert missing.is_error is True
    assert missing.structured_content is not None and missing.structured_content["error_code"] == "NOT_FOUND"


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_stdio_console_script_sends_and_reads_back(
    fake_on_loopback: tuple[FakeClickSend, LoopbackServer], mode: str
) -> None:
    fake, server = fake_on_loopback
    with anyio.fail_after(TIMEOUT):
        async with Client(stdio_params(direct_env(server.base_url)), mode=mode) as client:
            await send_then_read_history(client, fake)
    assert fake.sent("POST", "/v3/sms/send")[0].headers["authorization"].startswith("Basic ")


async def test_stdio_sandbox_needs_no_account() -> None:
    with anyio.fail_after(TIMEOUT):
        async with Client(stdio_params({}, "--backend", "sandbox"), mode="legacy") as client:
            result = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
    assert result.structured_content is not None
    assert result.structured_content["successful"] is True and result.structured_content["sandbox"] is True


async def test_an_unknown_tool_is_a_protocol_error_over_stdio() -> None:
    with anyio.fail_after(TIMEOUT):
        async with Client(stdio_params({}, "--backend", "sandbox"), mode="legacy") as client:
            with pytest.raises(Exception, match="Unknown tool: CLICKSEND_NOPE"):
                await client.call_tool("CLICKSEND_NOPE", {})


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_streamable_http_sends_and_reads_back(
    fake_on_loopback: tuple[FakeClickSend, LoopbackServer], mode: str
) -> None:
    fake, server = fake_on_loopback
    async with served("http", direct_env(server.base_url)) as base:
        with anyio.fail_after(TIMEOUT):
            async with Client(f"{base}/mcp", mode=mode) as client:
                await send_then_read_history(client, fake)


async def test_sse_sends_and_reads_back(fake_on_loopback: tuple[FakeClickSend, LoopbackServer]) -> None:
    fake, server = fake_on_loopback
    async with served("sse", direct_env(server.base_url)) as base:
        with anyio.fail_after(TIMEOUT):
            async with Client(sse_client(f"{base}/sse"), mode="legacy") as client:
                await send_then_read_history(client, fake)


async def test_the_maton_gateway_gets_its_headers_end_to_end() -> None:
    fake = FakeClickSend(prefix="/clicksend")
    with LoopbackServer(fake) as server:
        env = {
            "MATON_API_KEY": MATON_KEY,
            "MATON_CONNECTION": MATON_CONNECTION,
            "MATON_BASE_URL": f"http://127.0.0.1:{server.port}/clicksend/v3",
        }
        async with served("http", env) as base:
            with anyio.fail_after(TIMEOUT):
                async with Client(f"{base}/mcp", mode="legacy") as client:
                    result = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
    assert result.structured_content is not None and result.structured_content["successful"] is True
    [request] = fake.requests
    assert request.path == "/clicksend/v3/account"
    assert request.headers["authorization"] == f"Bearer {MATON_KEY}"
    assert request.headers["maton-connection"] == MATON_CONNECTION


async def test_healthz_answers_without_touching_clicksend(
    fake_on_loopback: tuple[FakeClickSend, LoopbackServer],
) -> None:
    fake, server = fake_on_loopback
    async with served("http", direct_env(server.base_url)) as base:
        import httpx2

        async with httpx2.AsyncClient() as http:
            response = await http.get(f"{base}/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert fake.requests == []


def test_without_credentials_the_server_refuses_and_says_what_to_set() -> None:
    done = run_cli()
    assert done.returncode == 2
    assert "CLICKSEND_USERNAME" in done.stderr and "--backend sandbox" in done.stderr
    assert done.stdout == ""


def test_the_tools_command_lists_name_toolset_and_kind() -> None:
    done = run_cli("tools")
    assert done.returncode == 0
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()}
    assert rows["CLICKSEND_GET_ACCOUNT"] == ["account", "read-only"]
    assert rows[SEND] == ["sms", "write"]


def test_the_call_command_prints_the_normalized_result() -> None:
    import json

    done = run_cli("--backend", "sandbox", "call", "CLICKSEND_GET_ACCOUNT")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["successful"] is True and result["sandbox"] is True
    assert result["data"]["_subaccount"]["api_key"] == "[REDACTED]"


def test_the_call_command_exits_nonzero_on_invalid_arguments() -> None:
    import json

    done = run_cli("--backend", "sandbox", "call", SEND, "--args", '{"messages": []}')
    assert done.returncode == 1
    assert json.loads(done.stdout)["error_code"] == "INVALID_ARGUMENTS"


def test_python_dash_m_runs_the_same_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "clicksend_mcp", "--version"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith("clicksend-mcp ")
