"""Streamable HTTP throughput of one server with `--workers 1..N`: 2026-07-28-era tools/call POSTs (stateless, so
the kernel may hand any request to any worker) from a lean load generator, against the sandbox ClickSend in its own
process on loopback. Reports calls/s, median and p99 latency, the CPU each part used per call and the cores it
kept busy, so what bounds the figure is visible.

    python bench/workers.py --workers 1,2 --seconds 6 --rounds 3 --in-flight 16

The load generator posts pre-built JSON-RPC bodies with httpx2 and checks each answer for `"successful":true`; it
does not run an MCP client, whose own per-call CPU (pydantic models, the outputSchema check) would otherwise be the
bound on a small machine (see benchmark.py's throughput figure, which uses the SDK's client). Worker counts are
measured in turn within each round, so a machine that drifts affects each alike. Loopback only, bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from processes import running  # noqa: E402
from replicas import TOOLS, cpu_of, nginx_children, rss_mib, worker  # noqa: E402

from fake_clicksend import free_port  # noqa: E402


def server_env(fake_url: str, ledger: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "CLICKSEND_BACKEND": "direct",
        "CLICKSEND_USERNAME": "bench",
        "CLICKSEND_API_KEY": "bench-key-0123456789",
        "CLICKSEND_BASE_URL": fake_url,
        "CLICKSEND_MCP_DATABASE_URL": ledger,
        "CLICKSEND_MCP_LOG_LEVEL": "warning",
        "CLICKSEND_RETRIES": "0",
    }


async def run_once(
    http: httpx2.AsyncClient, url: str, tool: str, seconds: float, in_flight: int, pids: dict[str, list[int]]
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    cpu_before = cpu_of(pids)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    stop_at = started + seconds
    async with anyio.create_task_group() as tg:
        for _ in range(in_flight):
            tg.start_soon(worker, http, url, tool, stop_at, latencies, errors)
    elapsed = time.perf_counter() - started
    cpu_after = cpu_of(pids)
    latencies.sort()
    calls = max(1, len(latencies))
    return {
        "calls": len(latencies),
        "errors": len(errors),
        "calls_per_s": len(latencies) / elapsed,
        "median_ms": statistics.median(latencies) * 1000 if latencies else None,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else None,
        "cpu_ms_per_call": {name: (cpu_after[name] - cpu_before[name]) * 1000 / calls for name in pids},
        "cores_busy": {name: (cpu_after[name] - cpu_before[name]) / elapsed for name in pids},
        "load_average": [load_before, os.getloadavg()[0]],
    }


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    names = runs[0]["cores_busy"].keys()
    return {
        "calls_per_s": round(med("calls_per_s"), 1),
        "best_calls_per_s": round(max(r["calls_per_s"] for r in runs), 1),
        "median_ms": round(med("median_ms"), 2),
        "p99_ms": round(med("p99_ms"), 2),
        "errors": sum(r["errors"] for r in runs),
        "cpu_ms_per_call": {n: round(statistics.median(r["cpu_ms_per_call"][n] for r in runs), 3) for n in names},
        "cores_busy": {n: round(statistics.median(r["cores_busy"][n] for r in runs), 2) for n in names},
        "load_average": [round(runs[0]["load_average"][0], 2), round(runs[-1]["load_average"][1], 2)],
        "rounds": [round(r["calls_per_s"], 1) for r in runs],
    }


async def main(args: argparse.Namespace) -> int:
    counts = [int(n) for n in args.workers.split(",")]
    tool = TOOLS[args.tool]
    fake_port = free_port()
    fake_env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    fake_cmd = [sys.executable, str(ROOT / "bench" / "fake_server.py"), str(fake_port)]
    results: dict[int, list[dict[str, Any]]] = {n: [] for n in counts}
    memory: dict[int, list[float]] = {}
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        async with AsyncExitStack() as stack:
            fake = await stack.enter_async_context(
                running(fake_cmd, fake_env, f"http://127.0.0.1:{fake_port}/v3/account")
            )
            servers: dict[int, tuple[str, dict[str, list[int]]]] = {}
            for n in counts:
                port = free_port()
                command = ["clicksend-mcp", "--transport", "http", "--port", str(port), "--workers", str(n)]
                env = server_env(f"http://127.0.0.1:{fake_port}/v3", f"sqlite://{tmp}/ledger-{n}.db")
                process = await stack.enter_async_context(running(command, env, f"http://127.0.0.1:{port}/healthz"))
                servers[n] = (
                    f"http://127.0.0.1:{port}/mcp",
                    {
                        "server": nginx_children(process.pid),  # the supervisor and its workers
                        "fake ClickSend": [fake.pid],
                        "load generator": [os.getpid()],
                    },
                )
            limits = httpx2.Limits(max_connections=args.in_flight, max_keepalive_connections=args.in_flight)
            async with httpx2.AsyncClient(timeout=30, limits=limits) as http:
                for url, pids in servers.values():  # warm every worker: specs loaded, connections open
                    await run_once(http, url, tool, 1.0, args.in_flight, pids)
                for _ in range(args.rounds):
                    for n, (url, pids) in servers.items():
                        results[n].append(await run_once(http, url, tool, args.seconds, args.in_flight, pids))
            for n, (_, pids) in servers.items():
                memory[n] = [round(rss_mib(p), 1) for p in pids["server"]]
    rows = {n: {**summary(runs), "rss_mib": memory[n]} for n, runs in results.items()}
    print(f"cores: {os.cpu_count()}; tool {tool}; {args.in_flight} in flight; {args.rounds} rounds of {args.seconds} s")
    print(
        f"{'workers':>7} {'calls/s':>9} {'best':>8} {'median ms':>10} {'p99 ms':>8} {'errors':>7}  server CPU ms/call"
    )
    for n, r in rows.items():
        print(
            f"{n:>7} {r['calls_per_s']:>9} {r['best_calls_per_s']:>8} {r['median_ms']:>10} {r['p99_ms']:>8} "
            f"{r['errors']:>7}  {r['cpu_ms_per_call']['server']}"
        )
    print("\ncores kept busy (median of the rounds) and the load average over the runs:")
    for n, r in rows.items():
        busy = ", ".join(f"{name} {value}" for name, value in r["cores_busy"].items())
        print(f"  {n} worker(s): {busy}; load {r['load_average'][0]} -> {r['load_average'][1]}; RSS {r['rss_mib']}")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cores": os.cpu_count(), "in_flight": args.in_flight, "rows": rows}, indent=2))
    return 0 if all(r["errors"] == 0 for r in rows.values()) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default=f"1,{os.cpu_count() or 1}", help="worker counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=6, help="measured seconds per worker count and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-flight", type=int, default=16, help="requests in flight")
    parser.add_argument("--tool", choices=sorted(TOOLS), default="account", help="account: a read; send: an SMS")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "workers.json"))
    raise SystemExit(anyio.run(main, parser.parse_args()))
