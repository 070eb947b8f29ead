"""Throughput through nginx with 1, 2 and 3 replicas: 2026-07-28-era tools/call POSTs (no sessions) from concurrent
workers, against the sandbox ClickSend in its own process on loopback. Reports calls/s, median and p99 latency,
and each replica's resident memory after the run. Needs nginx (Debian's package).

    python bench/replicas.py --workers 32 --seconds 15
    python bench/replicas.py --tool send --database postgresql      # sends, through one shared PostgreSQL ledger
    python bench/replicas.py --tool send --database postgresql --budget 1000000   # ... counted against a budget
    python bench/replicas.py --tool send --database postgresql --tenants 8        # ... for 8 accounts at once

The replicas share one send ledger: a SQLite file in a temp dir (the default), or a PostgreSQL cluster (Debian's
package, durable: fsync on) started in a temp dir on loopback as the tests start theirs, with a fresh database for
each replica count. `--tool account` (a read) never touches the ledger; `--tool send` (an SMS to a ClickSend test
number) reserves and settles a row per call, and with `--budget` is quoted and counted under the account's lock.

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
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from processes import running, wait_until_answering  # noqa: E402

from fake_clicksend import free_port, free_ports  # noqa: E402
from nginx_process import DEPLOY_NGINX, main_config, nginx_binary  # noqa: E402
from services import PostgresServer, postgres_bin  # noqa: E402

TOOLS = {"account": "CLICKSEND_GET_ACCOUNT", "send": "CLICKSEND_CREATE_SMS_SEND"}
TEST_NUMBER = "+61411111111"  # a ClickSend test number: the sandbox accepts it, and so would ClickSend, free
LEDGER_KEY = "bench-ledger-key-" + "4" * 40
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
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone (a database backend whose connection closed): its time is no longer counted anywhere
        return 0.0
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


def tenant_headers(args: argparse.Namespace, worker: int) -> dict[str, str] | None:
    """With --tenants N, worker i speaks for account i mod N (its own ledger lock); else the configured account."""
    if not args.tenants:
        return None
    n = worker % args.tenants
    return {"X-ClickSend-Username": f"bench-{n}", "X-ClickSend-Api-Key": f"bench-key-{n:04d}-0123456789"}


def arguments(tool: str, n: int) -> dict[str, Any]:
    if tool == TOOLS["send"]:
        return {"messages": [{"to": TEST_NUMBER, "body": f"bench {n}"}]}
    return {}


async def worker(
    http: httpx2.AsyncClient,
    url: str,
    tool: str,
    stop_at: float,
    latencies: list[float],
    errors: list[str],
    tenant: dict[str, str] | None = None,
) -> None:
    headers = {
        **(tenant or {}),
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "Mcp-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/call",
        "Mcp-Name": tool,
    }
    n = 0
    while time.perf_counter() < stop_at:
        n += 1
        body = {
            "jsonrpc": "2.0",
            "id": n,
            "method": "tools/call",
            "params": {"name": tool, "arguments": arguments(tool, n), "_meta": META},
        }
        started = time.perf_counter()
        try:
            response = await http.post(url, json=body, headers=headers)
            ok = response.status_code == 200 and '"successful":true' in response.text
        except httpx2.HTTPError as exc:
            ok, response = False, None
            errors.append(type(exc).__name__)
        latencies.append(time.perf_counter() - started)
        if not ok and response is not None:
            errors.append(f"{response.status_code}: {response.text[:200]}")


async def measure(
    replicas: int,
    args: argparse.Namespace,
    fake_url: str,
    fake_pid: int,
    workdir: Path,
    database_url: str,
    database_pids: Callable[[], list[int]] | None,
) -> dict[str, Any]:
    *ports, listen = free_ports(replicas + 1)
    tool = TOOLS[args.tool]
    account = (
        {"CLICKSEND_MCP_MULTI_TENANT": "true"}  # each request brings its account's credentials in headers
        if args.tenants
        else {"CLICKSEND_BACKEND": "direct", "CLICKSEND_USERNAME": "bench", "CLICKSEND_API_KEY": "bench-key-0123456789"}
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        **account,
        "CLICKSEND_BASE_URL": fake_url,
        "CLICKSEND_MCP_STATE_KEYS": "bench-state-key-" + "5" * 40,
        "CLICKSEND_MCP_DATABASE_URL": database_url,
        "CLICKSEND_MCP_LEDGER_KEY": LEDGER_KEY,
        "CLICKSEND_MCP_LOG_LEVEL": "warning",
        **({"CLICKSEND_MAX_SPEND_PER_DAY": args.budget} if args.budget else {}),
    }
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
                await worker(http, url, tool, time.perf_counter() + 1.0, warm, warm_errors, tenant_headers(args, 0))
                if warm_errors:
                    raise SystemExit(f"the warm-up failed: {warm_errors[0]}")
                latencies: list[float] = []
                errors: list[str] = []
                pids = {
                    "replicas": [p.pid for p in processes],
                    "nginx": nginx_children(nginx.pid),
                    "fake ClickSend": [fake_pid],
                    "load generator": [os.getpid()],
                    **({"postgresql": database_pids()} if database_pids else {}),
                }
                cpu_before = cpu_of(pids)
                load_before = os.getloadavg()[0]
                started = time.perf_counter()
                stop_at = started + args.seconds
                async with anyio.create_task_group() as tg:
                    for index in range(args.workers):
                        tenant = tenant_headers(args, index)
                        tg.start_soon(worker, http, url, tool, stop_at, latencies, errors, tenant)
                elapsed = time.perf_counter() - started
                cpu_after = cpu_of(pids)
                load_after = os.getloadavg()[0]
            memory = [round(rss_mib(p.pid), 1) for p in processes]
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
    latencies.sort()
    return {
        "replicas": replicas,
        "tool": tool,
        "database": args.database,
        "budget": args.budget,
        "tenants": args.tenants or 1,
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
        # The machine's 1-minute load average as the run began and ended: other work shares these cores.
        "load_average": [round(load_before, 2), round(load_after, 2)],
    }


@contextmanager
def shared_database(kind: str) -> Iterator[tuple[Callable[[], str], Callable[[], list[int]] | None]]:
    """(a fresh ledger URL for each replica count, the database's processes or None), for `--database`."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
            runs = iter(range(1_000))
            yield (lambda: f"sqlite://{tmp}/ledger-{next(runs)}.db"), None
        return
    bindir = postgres_bin()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql")
    server = PostgresServer(bindir, durable=True)  # fsync on, as a deployment runs it
    server.start()
    try:

        def processes() -> list[int]:
            postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
            return nginx_children(postmaster)  # the postmaster, its backends and helpers

        yield server.new_database, processes
    finally:
        server.stop()


async def main(args: argparse.Namespace) -> int:
    nginx_binary()  # fail early, saying how to install it
    fake_port = free_port()
    fake_env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    fake_cmd = [sys.executable, str(ROOT / "bench" / "fake_server.py"), str(fake_port)]
    rows = []
    with shared_database(args.database) as (new_database, database_pids):
        async with running(fake_cmd, fake_env, f"http://127.0.0.1:{fake_port}/v3/account") as fake:
            for replicas in [int(n) for n in args.replicas.split(",")]:
                with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
                    fake_url = f"http://127.0.0.1:{fake_port}/v3"
                    row = await measure(replicas, args, fake_url, fake.pid, Path(tmp), new_database(), database_pids)
                rows.append(row)
                print(json.dumps(row), flush=True)
    print(
        f"\ncores: {os.cpu_count()}; tool {TOOLS[args.tool]}; ledger {args.database}; "
        f"budget {args.budget or 'none'}; accounts {args.tenants or 1}"
    )
    print(f"{'replicas':>8} {'calls/s':>9} {'median ms':>10} {'p99 ms':>8} {'errors':>7}  RSS MiB per replica")
    for r in rows:
        print(
            f"{r['replicas']:>8} {r['calls_per_s']:>9} {r['median_ms']:>10} {r['p99_ms']:>8} {r['errors']:>7}  "
            f"{r['rss_mib_per_replica']}"
        )
    print("\ncores kept busy during each run, and replica CPU per call:")
    for r in rows:
        busy = ", ".join(f"{name} {value}" for name, value in r["cores_busy"].items())
        print(
            f"  {r['replicas']} replica(s): {busy}; {r['replica_cpu_ms_per_call']} ms per call; "
            f"load average {r['load_average'][0]} -> {r['load_average'][1]}"
        )
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cores": os.cpu_count(), "rows": rows}, indent=2))
    return 0 if all(r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", default="1,2,3")
    parser.add_argument("--workers", type=int, default=32, help="concurrent requests in flight")
    parser.add_argument("--seconds", type=float, default=15, help="measured seconds per replica count")
    parser.add_argument("--tool", choices=sorted(TOOLS), default="account", help="account: a read; send: an SMS")
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql"], default="sqlite", help="the send ledger the replicas share"
    )
    parser.add_argument("--budget", help="CLICKSEND_MAX_SPEND_PER_DAY for the replicas (set it high: never reached)")
    parser.add_argument(
        "--tenants", type=int, default=0, help="N accounts (--multi-tenant, credentials in headers) instead of one"
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "replicas.json"))
    raise SystemExit(anyio.run(main, parser.parse_args()))
