"""Throughput through nginx with 1, 2 and 3 replicas: 2026-07-28-era tools/call POSTs (no sessions) from concurrent
workers, against the sandbox ClickSend in its own process on loopback. Reports calls/s, median and p99 latency,
and each replica's resident memory after the run. Needs nginx (Debian's package).

    python bench/replicas.py --workers 32 --seconds 15

Bounded in time; loopback only. The load generator, nginx, the fake and the replicas share this machine's cores,
so the figures are what this machine does, not what one replica does alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from processes import running, wait_until_answering  # noqa: E402

from fake_clicksend import free_port  # noqa: E402
from nginx_process import DEPLOY_NGINX, main_config, nginx_binary  # noqa: E402

TOOL = "CLICKSEND_GET_ACCOUNT"
HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "Mcp-Protocol-Version": "2026-07-28",
    "Mcp-Method": "tools/call",
    "Mcp-Name": TOOL,
}
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (from /proc), to see where the cores went."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(pids: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(cpu_seconds(p) for p in group) for name, group in pids.items()}


def nginx_children(pid: int) -> list[int]:
    found = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def nginx_config(workdir: Path, listen: int, ports: list[int]) -> Path:
    """deploy/nginx/clicksend-mcp.conf for `ports` (with fewer than three replicas, the spare lines repeat them)."""
    text = DEPLOY_NGINX.read_text().replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    for index in range(3):
        text = text.replace(f"127.0.0.1:800{index + 1}", f"127.0.0.1:{ports[index % len(ports)]}")
    include = workdir / "clicksend-mcp.conf"
    include.write_text(text)
    return main_config(workdir, include)


async def worker(http: httpx2.AsyncClient, url: str, stop_at: float, latencies: list[float], errors: list[str]) -> None:
    n = 0
    while time.perf_counter() < stop_at:
        n += 1
        body = {
            "jsonrpc": "2.0",
            "id": n,
            "method": "tools/call",
            "params": {"name": TOOL, "arguments": {}, "_meta": META},
        }
        started = time.perf_counter()
        try:
            response = await http.post(url, json=body, headers=HEADERS)
            ok = response.status_code == 200 and '"successful":true' in response.text
        except httpx2.HTTPError as exc:
            ok, response = False, None
            errors.append(type(exc).__name__)
        latencies.append(time.perf_counter() - started)
        if not ok and response is not None:
            errors.append(f"{response.status_code}: {response.text[:200]}")


async def measure(
    replicas: int, args: argparse.Namespace, fake_url: str, fake_pid: int, workdir: Path
) -> dict[str, Any]:
    ports = [free_port() for _ in range(replicas)]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "CLICKSEND_BACKEND": "direct",
        "CLICKSEND_BASE_URL": fake_url,
        "CLICKSEND_USERNAME": "bench",
        "CLICKSEND_API_KEY": "bench-key-0123456789",
        "CLICKSEND_MCP_STATE_KEYS": "bench-state-key-" + "5" * 40,
        "CLICKSEND_MCP_LOG_LEVEL": "warning",
    }
    listen = free_port()
    async with AsyncExitStack() as stack:
        processes = []
        for index, port in enumerate(ports, start=1):
            command = ["clicksend-mcp", "--transport", "http", "--port", str(port), "--replica-id", f"replica-{index}"]
            processes.append(await stack.enter_async_context(running(command, env, f"http://127.0.0.1:{port}/healthz")))
        conf = nginx_config(workdir, listen, ports)
        nginx = subprocess.Popen(
            [nginx_binary(), "-p", str(workdir), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            await wait_until_answering(f"http://127.0.0.1:{listen}/healthz")
            url = f"http://127.0.0.1:{listen}/mcp"
            limits = httpx2.Limits(max_connections=args.workers, max_keepalive_connections=args.workers)
            async with httpx2.AsyncClient(timeout=30, limits=limits) as http:
                warm: list[float] = []
                warm_errors: list[str] = []
                await worker(http, url, time.perf_counter() + 1.0, warm, warm_errors)  # warm-up, one worker
                if warm_errors:
                    raise SystemExit(f"the warm-up failed: {warm_errors[0]}")
                latencies: list[float] = []
                errors: list[str] = []
                pids = {
                    "replicas": [p.pid for p in processes],
                    "nginx": nginx_children(nginx.pid),
                    "fake ClickSend": [fake_pid],
                    "load generator": [os.getpid()],
                }
                cpu_before = cpu_of(pids)
                started = time.perf_counter()
                stop_at = started + args.seconds
                async with anyio.create_task_group() as tg:
                    for _ in range(args.workers):
                        tg.start_soon(worker, http, url, stop_at, latencies, errors)
                elapsed = time.perf_counter() - started
                cpu_after = cpu_of(pids)
            memory = [round(rss_mib(p.pid), 1) for p in processes]
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
    latencies.sort()
    return {
        "replicas": replicas,
        "workers": args.workers,
        "calls": len(latencies),
        "errors": len(errors),
        "calls_per_s": round(len(latencies) / elapsed, 1),
        "median_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "rss_mib_per_replica": memory,
        # Cores each part kept busy during the run (2.0 would be both cores of this machine).
        "cores_busy": {name: round((cpu_after[name] - cpu_before[name]) / elapsed, 2) for name in pids},
        "replica_cpu_ms_per_call": round(
            (cpu_after["replicas"] - cpu_before["replicas"]) * 1000 / max(1, len(latencies)), 2
        ),
    }


async def main(args: argparse.Namespace) -> int:
    nginx_binary()  # fail early, saying how to install it
    fake_port = free_port()
    fake_env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    fake_cmd = [sys.executable, str(ROOT / "bench" / "fake_server.py"), str(fake_port)]
    rows = []
    async with running(fake_cmd, fake_env, f"http://127.0.0.1:{fake_port}/v3/account") as fake:
        for replicas in [int(n) for n in args.replicas.split(",")]:
            with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
                row = await measure(replicas, args, f"http://127.0.0.1:{fake_port}/v3", fake.pid, Path(tmp))
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\ncores: {os.cpu_count()}")
    print(f"{'replicas':>8} {'calls/s':>9} {'median ms':>10} {'p99 ms':>8} {'errors':>7}  RSS MiB per replica")
    for r in rows:
        print(
            f"{r['replicas']:>8} {r['calls_per_s']:>9} {r['median_ms']:>10} {r['p99_ms']:>8} {r['errors']:>7}  "
            f"{r['rss_mib_per_replica']}"
        )
    print("\ncores kept busy during each run, and replica CPU per call:")
    for r in rows:
        busy = ", ".join(f"{name} {value}" for name, value in r["cores_busy"].items())
        print(f"  {r['replicas']} replica(s): {busy}; {r['replica_cpu_ms_per_call']} ms per call")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cores": os.cpu_count(), "rows": rows}, indent=2))
    return 0 if all(r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", default="1,2,3")
    parser.add_argument("--workers", type=int, default=32, help="concurrent requests in flight")
    parser.add_argument("--seconds", type=float, default=15, help="measured seconds per replica count")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "replicas.json"))
    raise SystemExit(anyio.run(main, parser.parse_args()))
