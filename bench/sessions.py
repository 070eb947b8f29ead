"""Abandoned sessions: one client opens (and never closes) many handshake-era sessions over streamable HTTP.

Bounded in count and time, 127.0.0.1 only (the abandoning client connects from 127.0.0.2, another loopback
address). Reports how many sessions the server kept, what the rest were answered, the server's RSS, and how long
another client then takes to open a session and list the tools. Prints a table and writes a JSON file.

    python bench/sessions.py --sessions 10000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from processes import running  # noqa: E402

from fake_clicksend import API_KEY, USERNAME, free_port  # noqa: E402

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def run(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "CLICKSEND_BACKEND": "direct",
        "CLICKSEND_BASE_URL": "http://127.0.0.1:9/v3",  # never called
        "CLICKSEND_USERNAME": USERNAME,
        "CLICKSEND_API_KEY": API_KEY,
        "CLICKSEND_MCP_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "clicksend_mcp", "--transport", "http", "--port", str(port)]
    figures: dict[str, Any] = {"sessions_attempted": args.sessions}
    async with running(command, env, f"{base}/healthz") as process:
        figures["idle_rss_kib"] = rss_kib(process.pid)
        statuses: Counter[int] = Counter()
        transport = httpx2.AsyncHTTPTransport(local_address="127.0.0.2")
        started = time.perf_counter()
        with anyio.fail_after(300):
            async with httpx2.AsyncClient(transport=transport, timeout=10) as greedy:
                limiter = anyio.CapacityLimiter(20)

                async def open_one() -> None:
                    async with limiter:
                        statuses[(await greedy.post(f"{base}/mcp", json=INITIALIZE, headers=HEADERS)).status_code] += 1

                async with anyio.create_task_group() as tg:
                    for _ in range(args.sessions):
                        tg.start_soon(open_one)
        figures["flood_s"] = round(time.perf_counter() - started, 1)
        figures["answers"] = {str(k): v for k, v in sorted(statuses.items())}
        figures["rss_after_flood_kib"] = rss_kib(process.pid)
        async with httpx2.AsyncClient(timeout=10) as other:
            start = time.perf_counter()
            opened = await other.post(f"{base}/mcp", json=INITIALIZE, headers=HEADERS)
            session = {
                **HEADERS,
                "Mcp-Session-Id": opened.headers["mcp-session-id"],
                "Mcp-Protocol-Version": "2025-11-25",
            }
            await other.post(
                f"{base}/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session
            )
            listed = await other.post(
                f"{base}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=session
            )
            figures["other_client_status"] = listed.status_code
            figures["other_client_open_and_list_s"] = round(time.perf_counter() - start, 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000, help="sessions to open and abandon (max 20000)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "sessions.json"))
    args = parser.parse_args()
    args.sessions = min(args.sessions, 20_000)
    figures = anyio.run(run, args)
    for key, value in figures.items():
        print(f"{key:<32} {value}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
