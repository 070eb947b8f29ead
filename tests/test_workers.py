"""--workers N: several processes serve the HTTP transport on one socket; 2026-era calls reach any of them, the
flags given on the command line reach every worker, and SIGTERM stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import httpx2
import mcp_types as types
import pytest
from mcp import Client

from clicksend_mcp.settings import ConfigError, Settings
from fake_clicksend import TEST_NUMBER, FakeClickSend, LoopbackServer, free_port
from test_e2e import TIMEOUT, console_script, direct_env

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

MODERN = types.LATEST_PROTOCOL_VERSION  # the stateless era: no session, so any worker serves any request
STARTED = b"Application startup complete"


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@asynccontextmanager
async def workers(env: dict[str, str], *flags: str) -> AsyncIterator[tuple[str, anyio.abc.Process]]:
    """`clicksend-mcp --transport http --workers 2`, yielded once both workers have started."""
    port = free_port()
    process = await anyio.open_process(
        [console_script(), "--transport", "http", "--port", str(port), "--workers", "2", "--log-level", "info", *flags],
        env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stderr = bytearray()
    both_started = anyio.Event()

    async def read_stderr() -> None:  # read to the end, so no worker ever blocks on a full pipe
        assert process.stderr is not None
        async for chunk in process.stderr:
            stderr.extend(chunk)
            if stderr.count(STARTED) >= 2:
                both_started.set()
        both_started.set()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(read_stderr)
            with anyio.fail_after(TIMEOUT):
                await both_started.wait()
            assert stderr.count(STARTED) >= 2, f"the workers did not start:\n{stderr.decode(errors='replace')}"
            yield f"http://127.0.0.1:{port}", process
            tg.cancel_scope.cancel()
    finally:
        if process.returncode is None:
            process.kill()
        await process.aclose()


async def worker_pids(base: str, want: int) -> set[int]:
    """The pids /healthz reports, each request on a new connection, until `want` differ (bounded in count)."""
    seen: set[int] = set()
    for _ in range(200):
        async with httpx2.AsyncClient() as http:  # a fresh connection: the kernel hands it to either worker
            seen.add((await http.get(f"{base}/healthz")).json()["pid"])
        if len(seen) >= want:
            break
    return seen


async def test_two_workers_serve_2026_era_calls_and_sigterm_stops_both() -> None:
    fake = FakeClickSend()
    with LoopbackServer(fake) as server:
        async with workers(direct_env(server.base_url)) as (base, process):
            with anyio.fail_after(TIMEOUT):
                for _ in range(4):  # each client opens its own connections, which land on either worker
                    async with Client(f"{base}/mcp", mode=MODERN) as client:
                        sent = await client.call_tool(
                            "CLICKSEND_CREATE_SMS_SEND", {"messages": [{"to": TEST_NUMBER, "body": "from a worker"}]}
                        )
                        account = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
                    assert sent.structured_content is not None and sent.structured_content["successful"] is True
                    assert account.structured_content is not None and account.structured_content["successful"]
                pids = await worker_pids(base, 2)
            assert len(pids) == 2, f"only worker {pids} answered"
            assert all(parent_of(pid) == process.pid for pid in pids)
            process.send_signal(signal.SIGTERM)
            with anyio.fail_after(TIMEOUT):
                code = await process.wait()
    assert code == 0
    assert not any(alive(pid) for pid in pids), "a worker outlived the server"
    assert sum(r.path == "/v3/sms/send" for r in fake.requests) == 4  # each send made once, whichever worker


async def test_flags_given_on_the_command_line_reach_every_worker() -> None:
    with LoopbackServer(FakeClickSend()) as server:
        async with workers(direct_env(server.base_url), "--toolsets", "all", "--read-only") as (base, _):
            with anyio.fail_after(TIMEOUT):
                assert len(await worker_pids(base, 2)) == 2
                listings = []
                for _ in range(6):
                    async with Client(f"{base}/mcp", mode=MODERN) as client:
                        listings.append(await client.list_tools())
    for listed in listings:
        assert len(listed.tools) > 100  # --toolsets all
        assert all(t.annotations and t.annotations.read_only_hint for t in listed.tools)  # --read-only


def test_workers_need_an_http_transport() -> None:
    with pytest.raises(ConfigError, match="--workers"):
        Settings(workers=2, transport="stdio").check_http_exposure()


def test_flags_exported_for_workers_are_what_their_settings_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from clicksend_mcp.cli import FLAGS, _export_flags
    from clicksend_mcp.settings import env_name

    given = {"workers": 2, "read_only": True, "toolsets": "all", "port": 1234, "timeout": 7.5}
    for flag in FLAGS:
        monkeypatch.delenv(env_name(flag.field), raising=False)  # restored after the test
    _export_flags(SimpleNamespace(command=None, **given))
    settings = Settings()
    assert {name: getattr(settings, name) for name in given} == given


async def test_workers_stop_when_the_server_process_is_killed() -> None:
    with LoopbackServer(FakeClickSend()) as server:
        async with workers(direct_env(server.base_url)) as (base, process):
            with anyio.fail_after(TIMEOUT):
                pids = await worker_pids(base, 2)
            handles = [os.pidfd_open(pid) for pid in pids]  # readable once that process has exited (a zombie too)
            try:
                process.kill()  # SIGKILL: the parent cannot pass anything on
                with anyio.fail_after(TIMEOUT):
                    for handle in handles:
                        await anyio.wait_readable(handle)
            finally:
                for handle in handles:
                    os.close(handle)
