"""Load test: many concurrent MCP sessions over streamable HTTP and SSE against the fake ClickSend on loopback.

Bounded in count and time, loopback only. Checks: no errors, every send reached ClickSend exactly once, invalid calls
reached it never, and the server's memory stays flat across rounds. Prints a table and writes a JSON file.

    python bench/load_test.py --sessions 40 --calls 20 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.sse import sse_client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from processes import running  # noqa: E402

from fake_clicksend import API_KEY, TEST_NUMBER, USERNAME, FakeClickSend, LoopbackServer, free_port  # noqa: E402

SEND = "CLICKSEND_CREATE_SMS_SEND"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@asynccontextmanager
async def server_process(transport: str, base_url: str) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "CLICKSEND_BACKEND": "direct",
        "CLICKSEND_BASE_URL": base_url,
        "CLICKSEND_USERNAME": USERNAME,
        "CLICKSEND_API_KEY": API_KEY,
        "CLICKSEND_MCP_LOG_LEVEL": "warning",
        "CLICKSEND_MAX_RECIPIENTS": "1000",
        # A ledger of its own for each run, never the developer's.
        "CLICKSEND_MCP_DATABASE_URL": "sqlite://" + os.path.join(tempfile.mkdtemp(prefix="load-ledger-"), "ledger.db"),
    }
    command = [sys.executable, "-m", "clicksend_mcp", "--transport", transport, "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    async with running(command, env, f"{url}/healthz") as process:
        yield url, process.pid


async def session(url: str, transport: str, calls: int, stats: dict[str, Any], tag: str) -> None:
    target = f"{url}/mcp" if transport == "http" else sse_client(f"{url}/sse")
    async with Client(target, mode="legacy") as client:
        await client.list_tools()
        for i in range(calls):
            kind = i % 5
            if kind == 0:
                result = await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": f"{tag}-{i}"}]})
                stats["sends"] += 1
                expect_error = False
            elif kind == 1:
                result = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
                expect_error = False
            elif kind == 2:
                result = await client.call_tool("CLICKSEND_GET_LISTS", {"limit": 10})
                expect_error = False
            elif kind == 3:
                result = await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER}]})  # invalid: no body
                stats["invalid"] += 1
                expect_error = True
            else:
                result = await client.call_tool("CLICKSEND_GET_SMS_HISTORY", {"limit": 5})
                expect_error = False
            stats["calls"] += 1
            if bool(result.is_error) != expect_error:
                stats["errors"] += 1
                stats["error_samples"].append(str(result.structured_content)[:200])


async def run_transport(transport: str, args: argparse.Namespace, fake: FakeClickSend, base_url: str) -> dict[str, Any]:
    stats: dict[str, Any] = {"calls": 0, "sends": 0, "invalid": 0, "errors": 0, "error_samples": [], "exceptions": 0}
    rss_after_round: list[int] = []
    peak = 0
    sends_before = len(fake.sent("POST", "/v3/sms/send"))
    requests_before = len(fake.requests)
    started = time.perf_counter()
    async with server_process(transport, base_url) as (url, pid):
        idle_rss = rss_kib(pid)

        async def sample() -> None:
            nonlocal peak
            while True:
                peak = max(peak, rss_kib(pid))
                await anyio.sleep(0.2)

        with anyio.fail_after(args.max_seconds):
            async with anyio.create_task_group() as sampler:
                sampler.start_soon(sample)
                for round_no in range(args.rounds):

                    async def one(n: int, round_no: int = round_no) -> None:
                        try:
                            await session(url, transport, args.calls, stats, f"{transport}-r{round_no}-s{n}")
                        except Exception as exc:  # a session that fails is counted, not fatal
                            stats["exceptions"] += 1
                            stats["error_samples"].append(f"{type(exc).__name__}: {exc}"[:200])

                    async with anyio.create_task_group() as tg:
                        for n in range(args.sessions):
                            tg.start_soon(one, n)
                    rss_after_round.append(rss_kib(pid))
                sampler.cancel_scope.cancel()
    elapsed = time.perf_counter() - started
    sends_received = len(fake.sent("POST", "/v3/sms/send")) - sends_before
    return {
        "transport": transport,
        "sessions_per_round": args.sessions,
        "rounds": args.rounds,
        "calls": stats["calls"],
        "errors": stats["errors"] + stats["exceptions"],
        "sends_made": stats["sends"],
        "sends_received_by_clicksend": sends_received,
        "invalid_calls": stats["invalid"],
        "requests_received_by_clicksend": len(fake.requests) - requests_before,
        "seconds": round(elapsed, 2),
        "calls_per_second": round(stats["calls"] / elapsed, 1),
        "rss_idle_mib": round(idle_rss / 1024, 1),
        "rss_after_each_round_mib": [round(r / 1024, 1) for r in rss_after_round],
        "rss_peak_mib": round(peak / 1024, 1),
        "error_samples": stats["error_samples"][:5],
    }


async def main(args: argparse.Namespace) -> int:
    fake = FakeClickSend()
    results = []
    with LoopbackServer(fake) as upstream:
        for transport in args.transports.split(","):
            results.append(await run_transport(transport, args, fake, upstream.base_url))
    print(
        f"{'transport':<10}{'sessions':>9}{'calls':>8}{'errors':>8}{'sends':>7}{'received':>10}"
        f"{'calls/s':>9}{'idle MiB':>10}{'peak MiB':>10}  after each round (MiB)"
    )
    ok = True
    for r in results:
        sessions = r["sessions_per_round"] * r["rounds"]
        print(
            f"{r['transport']:<10}{sessions:>9}{r['calls']:>8}{r['errors']:>8}{r['sends_made']:>7}"
            f"{r['sends_received_by_clicksend']:>10}{r['calls_per_second']:>9}{r['rss_idle_mib']:>10}"
            f"{r['rss_peak_mib']:>10}  {r['rss_after_each_round_mib']}"
        )
        lost_or_duplicated = r["sends_made"] != r["sends_received_by_clicksend"]
        ok = ok and r["errors"] == 0 and not lost_or_duplicated
        for sample in r["error_samples"]:
            print("  error:", sample)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"written to {out}; {'OK' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=40, help="concurrent sessions per round")
    parser.add_argument("--calls", type=int, default=20, help="tool calls per session")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (memory is read after each)")
    parser.add_argument("--transports", default="http,sse")
    parser.add_argument("--max-seconds", type=float, default=300, help="hard stop for each transport")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "load_test.json"))
    raise SystemExit(anyio.run(main, parser.parse_args()))
