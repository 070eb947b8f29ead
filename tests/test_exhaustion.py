"""Exhaustion of the HTTP transports, through the real server process: half-sent requests and repeated log lines.

Every flood here is bounded in count and time and stays on 127.0.0.1.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
import httpx2
import pytest

from clicksend_mcp.logs import RepeatFilter
from fake_clicksend import free_port
from test_e2e import console_script, direct_env

TOKEN = "access-token-0123456789abcdef"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}

# Runs the console script with a low descriptor limit, as on a host whose `ulimit -n` is small.
LIMITED = (
    "import os, resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, ({n}, {n})); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


@dataclass
class Served:
    base: str
    process: anyio.abc.Process
    stderr: bytearray = field(default_factory=bytearray)


@asynccontextmanager
async def serve_limited(env: dict[str, str], nofile: int, *args: str) -> AsyncIterator[Served]:
    """The server on loopback under a descriptor limit; its stderr is drained (and counted) all along."""
    port = free_port()
    command = [sys.executable, "-c", LIMITED.format(n=nofile), console_script()]
    process = await anyio.open_process(
        [*command, "--transport", "http", "--port", str(port), *args],
        env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    served = Served(f"http://127.0.0.1:{port}", process)
    listening = anyio.Event()

    async def drain() -> None:
        assert process.stderr is not None
        async for chunk in process.stderr:
            served.stderr += chunk
            if b"Uvicorn running on" in served.stderr:
                listening.set()
        listening.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(drain)
        try:
            with anyio.fail_after(60):
                await listening.wait()
            assert process.returncode is None, served.stderr.decode(errors="replace")
            yield served
        finally:
            if process.returncode is None:
                process.terminate()
            with anyio.move_on_after(10):
                await process.wait()
            if process.returncode is None:
                process.kill()
            tg.cancel_scope.cancel()
    await process.aclose()


async def half_sent_flood(port: int, count: int, held: list[anyio.abc.SocketStream]) -> int:
    """Open `count` connections that each send part of a request head and then wait; returns how many connected."""
    head = f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n".encode()
    limiter = anyio.CapacityLimiter(50)

    async def one() -> None:
        async with limiter:
            try:
                stream = await anyio.connect_tcp("127.0.0.1", port)
                await stream.send(head)
            except OSError:
                return
            held.append(stream)

    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(one)
    return len(held)


async def release(held: list[anyio.abc.SocketStream]) -> None:
    for stream in held:
        with anyio.move_on_after(1):
            await stream.aclose()
    held.clear()


@pytest.mark.anyio
@pytest.mark.e2e
async def test_a_flood_of_half_sent_requests_starves_neither_healthz_nor_real_clients() -> None:
    env = {
        **direct_env("http://127.0.0.1:9/v3"),
        "CLICKSEND_MCP_AUTH_TOKEN": TOKEN,
        "CLICKSEND_MCP_HEADER_TIMEOUT": "5",
    }
    held: list[anyio.abc.SocketStream] = []
    async with serve_limited(env, 1024) as served:
        port = int(served.base.rsplit(":", 1)[1])
        started = len(served.stderr)
        try:
            with anyio.fail_after(60):
                connected = await half_sent_flood(port, 1100, held)
            assert connected > 1024  # more than the process could ever hold at once
            async with httpx2.AsyncClient(timeout=10) as http:
                # While the attacker still holds its connections:
                with anyio.fail_after(20):
                    assert (await http.get(f"{served.base}/healthz")).status_code == 200
                    authed = {**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"}
                    opened = await http.post(f"{served.base}/mcp", json=INITIALIZE, headers=authed)
                    assert opened.status_code == 200 and opened.headers["mcp-session-id"]
                    refused = await http.post(f"{served.base}/mcp", json=INITIALIZE, headers=MCP_HEADERS)
                    assert refused.status_code == 401
                await release(held)
                with anyio.fail_after(20):
                    assert (await http.get(f"{served.base}/healthz")).status_code == 200
        finally:
            await release(held)
        grown = len(served.stderr) - started
    assert served.process.returncode in (None, 0, -15)
    assert grown < 64 * 1024, served.stderr[-2000:].decode(errors="replace")
    assert b"file descriptors are allowed" in served.stderr  # the cap was fitted to the limit, and said so


@pytest.mark.anyio
@pytest.mark.e2e
async def test_a_connection_that_never_finishes_its_head_is_closed_after_the_deadline() -> None:
    env = {**direct_env("http://127.0.0.1:9/v3"), "CLICKSEND_MCP_HEADER_TIMEOUT": "1"}
    async with serve_limited(env, 1024) as served:
        port = int(served.base.rsplit(":", 1)[1])
        stream = await anyio.connect_tcp("127.0.0.1", port)
        async with stream:
            await stream.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            with anyio.fail_after(15):  # closed by the server: end of stream, or a reset
                with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError, OSError)):
                    while True:
                        await stream.receive()


def test_repeated_log_lines_are_suppressed_and_counted() -> None:
    now = [0.0]
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RepeatFilter(burst=3, window=10, clock=lambda: now[0]))
    logger = logging.getLogger("test.flood")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for i in range(10_000):
            logger.error("socket.accept() out of system resource (%d)", i)
        logger.error("a different line")
        now[0] = 11.0
        logger.error("socket.accept() out of system resource (%d)", 10_000)
    finally:
        logger.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert len(lines) == 5
    assert (
        lines[-1] == "socket.accept() out of system resource (10000) [9997 more like this suppressed in the last 10s]"
    )


def test_call_lines_are_never_suppressed() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RepeatFilter(burst=1))
    logger: Any = logging.getLogger("clicksend_mcp.calls")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        for _ in range(20):
            logger.info("call tool=%s", "CLICKSEND_GET_ACCOUNT")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert len(out.getvalue().splitlines()) == 20
