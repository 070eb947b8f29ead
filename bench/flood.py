"""Connection flood: many half-sent, unauthenticated requests against a token-gated server on loopback.

Bounded in count and time, 127.0.0.1 only. While the flood holds its connections it samples the server's RSS and
open file descriptors, times /healthz and an authenticated MCP initialize, then releases the flood and times
/healthz again. stderr is read all along and its growth reported. Prints a table and writes a JSON file.

    python bench/flood.py --connections 1100 --nofile 1024 --hold 15
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fake_clicksend import API_KEY, USERNAME, free_port  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}
LIMITED = (
    "import os, resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, ({n}, {n})); "
    "os.execv(sys.executable, [sys.executable, '-m', 'clicksend_mcp', *sys.argv[1:]])"
)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def timed_get(http: httpx2.AsyncClient, url: str, limit: float) -> float | None:
    """Seconds until `url` answers 200 (retrying), or None when it did not within `limit`."""
    start = time.perf_counter()
    with anyio.move_on_after(limit):
        while True:
            try:
                if (await http.get(url)).status_code == 200:
                    return time.perf_counter() - start
            except httpx2.TransportError:
                await anyio.sleep(0.05)
    return None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "CLICKSEND_BACKEND": "direct",
        "CLICKSEND_BASE_URL": "http://127.0.0.1:9/v3",  # never called: the flood and the checks stay in the server
        "CLICKSEND_USERNAME": USERNAME,
        "CLICKSEND_API_KEY": API_KEY,
        "CLICKSEND_MCP_AUTH_TOKEN": TOKEN,
        "CLICKSEND_MCP_HEADER_TIMEOUT": str(args.header_timeout),
    }
    command = [sys.executable, "-c", LIMITED.format(n=args.nofile), "--transport", "http", "--port", str(port)]
    process = await anyio.open_process(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    stderr = bytearray()
    figures: dict[str, Any] = {"connections": args.connections, "nofile": args.nofile}
    held: list[anyio.abc.SocketStream] = []

    async def drain() -> None:
        assert process.stderr is not None
        async for chunk in process.stderr:
            stderr.extend(chunk)

    async with anyio.create_task_group() as tg, httpx2.AsyncClient(timeout=5) as http:
        tg.start_soon(drain)
        try:
            assert await timed_get(http, f"{base}/healthz", 60) is not None, "the server did not start"
            figures["idle_rss_kib"], figures["idle_fds"] = rss_kib(process.pid), open_fds(process.pid)
            stderr_before = len(stderr)
            head = f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n".encode()
            limiter = anyio.CapacityLimiter(100)
            peak = {"rss": 0, "fds": 0}

            async def attacker() -> None:
                async with limiter:
                    try:
                        stream = await anyio.connect_tcp("127.0.0.1", port)
                        await stream.send(head)
                    except OSError:
                        return
                    held.append(stream)

            async def sample(stop: anyio.Event) -> None:
                while not stop.is_set():
                    peak["rss"] = max(peak["rss"], rss_kib(process.pid))
                    peak["fds"] = max(peak["fds"], open_fds(process.pid))
                    with anyio.move_on_after(0.1):
                        await stop.wait()

            stop = anyio.Event()
            tg.start_soon(sample, stop)
            started = time.perf_counter()
            with anyio.fail_after(60):
                async with anyio.create_task_group() as flood:
                    for _ in range(args.connections):
                        flood.start_soon(attacker)
            figures["flood_connected"] = len(held)
            figures["flood_open_s"] = round(time.perf_counter() - started, 2)
            during = await timed_get(http, f"{base}/healthz", 30)
            figures["healthz_during_flood_s"] = None if during is None else round(during, 3)
            authed = {
                "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json",
                "Authorization": f"Bearer {TOKEN}",
            }
            start = time.perf_counter()
            with anyio.move_on_after(30):
                ok = await http.post(f"{base}/mcp", json=INITIALIZE, headers=authed)
                figures["authed_initialize_during_flood_s"] = round(time.perf_counter() - start, 3)
                figures["authed_initialize_status"] = ok.status_code
            with anyio.move_on_after(args.hold):
                await anyio.sleep(args.hold)  # the attacker keeps its connections; the header deadline works
            figures["server_fds_while_held"] = open_fds(process.pid)
            stop.set()
            figures["peak_rss_kib"], figures["peak_fds"] = peak["rss"], peak["fds"]
            for stream in held:
                with anyio.move_on_after(1):
                    await stream.aclose()
            held.clear()
            after = await timed_get(http, f"{base}/healthz", 30)
            figures["healthz_after_release_s"] = None if after is None else round(after, 3)
            figures["rss_after_kib"], figures["fds_after"] = rss_kib(process.pid), open_fds(process.pid)
            figures["stderr_bytes_during"] = len(stderr) - stderr_before
            figures["stderr_lines_during"] = bytes(stderr[stderr_before:]).count(b"\n")
            figures["stderr_tail"] = bytes(stderr[stderr_before:][-4000:]).decode(errors="replace")
        finally:
            for stream in held:
                with anyio.move_on_after(1):
                    await stream.aclose()
            if process.returncode is None:
                process.terminate()
            with anyio.move_on_after(10):
                await process.wait()
            if process.returncode is None:
                process.kill()
            tg.cancel_scope.cancel()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1100, help="half-sent requests to open (max 5000)")
    parser.add_argument("--nofile", type=int, default=1024, help="the server's descriptor limit (ulimit -n)")
    parser.add_argument("--hold", type=float, default=15, help="seconds the flood holds on after opening (max 60)")
    parser.add_argument("--header-timeout", type=float, default=10)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "flood.json"))
    parser.add_argument("--show-stderr", action="store_true", help="print what the server logged during the flood")
    args = parser.parse_args()
    args.connections = min(args.connections, 5000)
    args.hold = min(args.hold, 60)
    figures = anyio.run(run, args)
    tail = figures.pop("stderr_tail", "")
    if args.show_stderr:
        print(tail)
    for key, value in figures.items():
        print(f"{key:<36} {value}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
