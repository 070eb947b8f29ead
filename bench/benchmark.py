"""Benchmark: clicksend-mcp side by side with the SDK's floor, the raw HTTP client and FastMCP's OpenAPI generator.

Every figure is a median over repeated runs, with its ratio to the baseline measured in the same run. Loopback only:
ClickSend is the sandbox served by bench/fake_server.py. Writes JSON and prints a table.

    pip install -e '.[bench]' && python bench/benchmark.py            # about two minutes
    python bench/benchmark.py --quick                                  # fewer repetitions
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp import Client, StdioServerParameters
from processes import running

ROOT = Path(__file__).resolve().parents[1]
OPENAPI = ROOT / "reference" / "clicksend-openapi.yaml"
USERNAME, API_KEY = "bench-user", "BENCH-KEY-0123456789"
PY = sys.executable


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mib(pid: int) -> float:
    """VmHWM: the process's peak resident set size."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


EXCLUDED_PIDS: set[int] = set()  # the fake ClickSend: a child too, but not the server being measured


def child_pids() -> list[int]:
    me = os.getpid()
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and int(stat.parent.name) not in EXCLUDED_PIDS:
            found.append(int(stat.parent.name))
    return found


BENCH_LEDGER = "sqlite://" + os.path.join(tempfile.mkdtemp(prefix="clicksend-bench-ledger-"), "ledger.db")


def base_env(**extra: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **extra}
    env.setdefault("CLICKSEND_MCP_DATABASE_URL", BENCH_LEDGER)  # never the developer's own send ledger
    if os.environ.get("PYTHONPATH"):  # lets the same benchmark measure another checkout of the server
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def ours_env(fake_url: str, **extra: str) -> dict[str, str]:
    return base_env(
        CLICKSEND_BACKEND="direct",
        CLICKSEND_BASE_URL=f"{fake_url}/v3",
        CLICKSEND_USERNAME=USERNAME,
        CLICKSEND_API_KEY=API_KEY,
        CLICKSEND_MCP_LOG_LEVEL="warning",
        CLICKSEND_RETRIES="0",
        **extra,
    )


SERVERS: dict[str, Callable[[str], tuple[list[str], dict[str, str]]]] = {
    "bare SDK": lambda url: ([PY, str(ROOT / "bench" / "bare_server.py")], base_env()),
    "clicksend-mcp (full)": lambda url: ([PY, "-m", "clicksend_mcp"], ours_env(url, CLICKSEND_TOOLSETS="all")),
    "clicksend-mcp (default)": lambda url: ([PY, "-m", "clicksend_mcp"], ours_env(url)),
    "clicksend-mcp (discovery)": lambda url: (
        [PY, "-m", "clicksend_mcp"],
        ours_env(url, CLICKSEND_TOOLSETS="all", CLICKSEND_DISCOVERY="1"),
    ),
    "FastMCP from_openapi": lambda url: (
        [PY, str(ROOT / "bench" / "fastmcp_server.py"), str(OPENAPI), url],
        base_env(CLICKSEND_USERNAME=USERNAME, CLICKSEND_API_KEY=API_KEY),
    ),
}


def listing_bytes(result: types.ListToolsResult) -> int:
    return len(result.model_dump_json(by_alias=True, exclude_none=True).encode())


async def cold_start_once(name: str, fake_url: str) -> tuple[float, int, int, float | None]:
    """Process start until tools/list is answered over stdio (initialize included)."""
    command, env = SERVERS[name](fake_url)
    started = time.perf_counter()
    params = StdioServerParameters(command=command[0], args=command[1:], env=env)
    async with Client(params, mode="legacy") as client:
        listed = await client.list_tools()
        seconds = time.perf_counter() - started
        rss = [peak_rss_mib(p) for p in child_pids()]
    return seconds, listing_bytes(listed), len(listed.tools), max(rss) if rss else None


async def cold_starts(fake_url: str, runs: int) -> dict[str, dict[str, Any]]:
    """Median and best over `runs`, the servers interleaved round-robin so a drifting machine affects each alike."""
    samples: dict[str, list[tuple[float, int, int, float | None]]] = {name: [] for name in SERVERS}
    for _ in range(runs):
        for name in SERVERS:
            samples[name].append(await cold_start_once(name, fake_url))
    out = {}
    for name, rows in samples.items():
        rss = [r[3] for r in rows if r[3] is not None]
        out[name] = {
            "seconds": median([r[0] for r in rows]),
            "best_seconds": min(r[0] for r in rows),  # least disturbed by a noisy machine
            "bytes": rows[0][1],
            "tools": rows[0][2],
            "rss_mib": median(rss) if rss else None,
            "all_seconds": [round(r[0], 3) for r in rows],
        }
    return out


async def spec_load(runs: int) -> float:
    """Load, validate and compile every spec in a fresh interpreter, as the server starts (spec cache included)."""
    code = (  # the package is imported first: this times loading, validating and compiling the specs
        "import time; from clicksend_mcp.assembly import load_tools; t=time.perf_counter();"
        "load_tools(); print(time.perf_counter()-t)"
    )
    values = []
    for _ in range(runs):
        done = await anyio.run_process([PY, "-c", code], env=base_env())
        values.append(float(done.stdout.decode().strip()))
    return median(values)


async def timed_calls(call: Callable[[], Awaitable[Any]], count: int) -> float:
    for _ in range(5):
        await call()  # warm up
    times = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return median(times) * 1000


@asynccontextmanager
async def http_server(command: list[str], env: dict[str, str], port: int) -> AsyncIterator[tuple[str, int]]:
    url = f"http://127.0.0.1:{port}"
    async with running(command, env, url + "/healthz") as process:
        yield url, process.pid


async def per_call(fake_url: str, count: int, fastmcp_tool: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    headers = {"Authorization": "Basic " + __import__("base64").b64encode(f"{USERNAME}:{API_KEY}".encode()).decode()}
    async with httpx2.AsyncClient(base_url=fake_url, headers=headers) as http:
        out["raw HTTP"] = await timed_calls(lambda: http.get("/v3/account"), count)
    command, env = SERVERS["clicksend-mcp (full)"](fake_url)
    async with Client(StdioServerParameters(command=command[0], args=command[1:], env=env), mode="legacy") as c:
        out["clicksend-mcp stdio"] = await timed_calls(lambda: c.call_tool("CLICKSEND_GET_ACCOUNT", {}), count)
    port = free_port()
    async with http_server(command + ["--transport", "http", "--port", str(port)], env, port) as (url, _):
        async with Client(f"{url}/mcp", mode="legacy") as c:
            out["clicksend-mcp HTTP"] = await timed_calls(lambda: c.call_tool("CLICKSEND_GET_ACCOUNT", {}), count)
    if fastmcp_tool:
        command, env = SERVERS["FastMCP from_openapi"](fake_url)
        async with Client(StdioServerParameters(command=command[0], args=command[1:], env=env), mode="legacy") as c:
            out["FastMCP stdio"] = await timed_calls(lambda: c.call_tool(fastmcp_tool, {}), count)
    return out


async def throughput(fake_url: str, seconds: float) -> dict[str, Any]:
    """Calls per second with N concurrent in-flight calls over streamable HTTP, against the raw client's ceiling."""

    async def measure(call: Callable[[], Awaitable[Any]], concurrency: int) -> float:
        done = 0
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                await call()
                done += 1

        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(concurrency):
                tg.start_soon(worker)
        return done / (time.perf_counter() - started)

    out: dict[str, Any] = {}
    limits = httpx2.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx2.AsyncClient(base_url=fake_url, limits=limits) as http:
        for n in (1, 8, 64):
            out[f"raw HTTP x{n}"] = await measure(lambda: http.get("/v3/account"), n)
    command, env = SERVERS["clicksend-mcp (full)"](fake_url)
    port = free_port()
    async with http_server(command + ["--transport", "http", "--port", str(port)], env, port) as (url, _):
        async with Client(f"{url}/mcp", mode="legacy") as c:
            for n in (1, 8, 64):
                out[f"clicksend-mcp x{n}"] = await measure(lambda: c.call_tool("CLICKSEND_GET_ACCOUNT", {}), n)
    return out


def fastmcp_account_tool(listed: types.ListToolsResult) -> str | None:
    for tool in listed.tools:
        if tool.name in ("view-account-details", "view_account_details") or "account-details" in tool.name:
            return tool.name
    return None


async def main(args: argparse.Namespace) -> int:
    if not OPENAPI.is_file():
        # The reference data ships in reference/; without it the comparison cannot run, so say so in one line.
        print(f"benchmark: {OPENAPI} is missing (it ships with the repository in reference/)", file=sys.stderr)
        return 2
    runs = 3 if args.quick else args.runs
    calls = 50 if args.quick else args.calls
    fake_port = free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    report: dict[str, Any] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    }
    async with running([PY, str(ROOT / "bench" / "fake_server.py"), str(fake_port)], base_env(), fake_url) as fake:
        EXCLUDED_PIDS.add(fake.pid)
        report["cold_start"] = await cold_starts(fake_url, runs)
        report["spec_load_seconds"] = await spec_load(runs)
        command, env = SERVERS["FastMCP from_openapi"](fake_url)
        async with Client(StdioServerParameters(command=command[0], args=command[1:], env=env), mode="legacy") as c:
            tool = fastmcp_account_tool(await c.list_tools())
        report["per_call_ms"] = await per_call(fake_url, calls, tool)
        report["throughput_calls_per_s"] = await throughput(fake_url, 2.0 if args.quick else 5.0)
    print_report(report)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {out}")
    return 0


def print_report(r: dict[str, Any]) -> None:
    cs = r["cold_start"]
    floor = cs["bare SDK"]
    print(f"machine: {r['machine']}\n")
    print(
        f"{'server':<28}{'cold start s':>13}{'x floor':>9}{'best s':>8}{'x floor':>9}{'tools':>7}"
        f"{'tools/list B':>14}{'~tokens':>9}{'peak RSS MiB':>14}"
    )
    for name, c in cs.items():
        rss = f"{c['rss_mib']:.1f}" if c["rss_mib"] else "-"
        print(
            f"{name:<28}{c['seconds']:>13.3f}{c['seconds'] / floor['seconds']:>9.2f}{c['best_seconds']:>8.3f}"
            f"{c['best_seconds'] / floor['best_seconds']:>9.2f}{c['tools']:>7}{c['bytes']:>14}{c['bytes'] // 4:>9}{rss:>14}"
        )
    full = cs["clicksend-mcp (full)"]["seconds"]
    print(
        f"\nspec load + compile: {r['spec_load_seconds']:.3f} s = {100 * r['spec_load_seconds'] / full:.1f}% of cold start"
    )
    pc = r["per_call_ms"]
    raw = pc["raw HTTP"]
    print(f"\n{'one call (median)':<28}{'ms':>9}{'x raw':>8}{'added ms':>10}")
    for name, ms in pc.items():
        print(f"{name:<28}{ms:>9.2f}{ms / raw:>8.2f}{ms - raw:>10.2f}")
    print(f"\n{'throughput':<28}{'calls/s':>9}")
    for name, value in r["throughput_calls_per_s"].items():
        print(f"{name:<28}{value:>9.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="repetitions for cold start and spec load")
    parser.add_argument("--calls", type=int, default=200, help="sequential calls for per-call latency")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "benchmark.json"))
    raise SystemExit(anyio.run(main, parser.parse_args()))
