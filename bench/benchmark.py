"""Benchmark: clicksend-mcp side by side with the SDK's floor, the raw HTTP client and FastMCP's OpenAPI generator.

Every figure is a median over repeated runs, with its ratio to the baseline measured in the same run. Loopback only:
ClickSend is the sandbox served by bench/fake_server.py. Writes JSON and prints a table.

    pip install -e '.[bench]' && python bench/benchmark.py            # about four minutes
    python bench/benchmark.py --quick                                  # fewer repetitions
    python bench/benchmark.py --parts call --baseline ../before        # one call only, beside another checkout
    python bench/benchmark.py --parts start --skip-fastmcp --baseline ../before    # cold start, beside another

Figures: cold start to tools/list (full catalogue, default selection) against the bare SDK server, with tools/list
bytes and peak RSS; one stdio call (a read and a send) against a raw HTTP request for the same thing to the same fake,
with the send ledger off and on (SQLite; measured when the server knows CLICKSEND_MCP_DATABASE_URL), beside the SDK's
floor for the same read (bench/floor_server.py: a bare server whose one tool makes the raw request); streamable HTTP
throughput at 8 in flight in both protocol eras (handshake and 2026), with 1 and 2 workers (where `--workers` exists).
Nagle is off on every loopback socket: the fake, the server's client and the raw client all run on asyncio, which
sets TCP_NODELAY on each TCP transport. Servers are interleaved within each repetition, so a machine whose speed
drifts (a loaded 2-core VM does) affects each alike; ratios are taken within the run. The machine's load average
is written beside each part's figures.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import shutil
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
MODERN = "2026-07-28"  # the stateless protocol era; "legacy" is the initialize handshake with a session
IN_FLIGHT = 8
SEND_ARGS = {"messages": [{"to": "+61411111111", "body": "bench"}]}  # a published test number: never delivered


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


# The servers' own cache (specs validated at a previous start) in a directory of this run: a shared one can be
# rewritten by other checkouts between runs, and a miss would measure the first start, not the usual one.
CACHE_HOME = tempfile.mkdtemp(prefix="clicksend-bench-cache-")
atexit.register(shutil.rmtree, CACHE_HOME, True)
BENCH_LEDGER = "sqlite://" + os.path.join(tempfile.mkdtemp(prefix="clicksend-bench-ledger-"), "ledger.db")


def base_env(**extra: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "XDG_CACHE_HOME": CACHE_HOME}
    env.update(extra)
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


PAUSED_BARE = "import gc, runpy; gc.disable(); runpy.run_path({path!r}, run_name='__main__')"
SERVERS: dict[str, Callable[[str], tuple[list[str], dict[str, str]]]] = {
    "bare SDK": lambda url: ([PY, str(ROOT / "bench" / "bare_server.py")], base_env()),
    # The same floor started as clicksend-mcp starts (cyclic garbage collection paused until it serves): what this
    # server's own code costs at start, apart from what pausing the collector saves on the SDK's imports.
    "bare SDK, collector paused": lambda url: (
        [PY, "-c", PAUSED_BARE.format(path=str(ROOT / "bench" / "bare_server.py"))],
        base_env(),
    ),
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


def add_baseline_servers(checkout: Path) -> None:
    """Another checkout's server (full catalogue and default selection) as rows marked [baseline] in the same
    interleaved cold-start run, with a spec cache of its own (the two servers may keep different things there)."""
    cache = tempfile.mkdtemp(prefix="clicksend-bench-baseline-cache-")
    atexit.register(shutil.rmtree, cache, True)

    def server(name: str) -> Callable[[str], tuple[list[str], dict[str, str]]]:
        def make(url: str) -> tuple[list[str], dict[str, str]]:
            command, env = SERVERS[name](url)
            return command, {**env, "PYTHONPATH": str(checkout / "server"), "XDG_CACHE_HOME": cache}

        return make

    for name in ("clicksend-mcp (full)", "clicksend-mcp (default)"):
        SERVERS[f"{name} [baseline]"] = server(name)


def listing_bytes(result: types.ListToolsResult) -> int:
    """The tools/list `result` as a handshake-era client receives it (what `clicksend-mcp tools --size` reports)."""
    tools = [t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in result.tools]
    return len(json.dumps({"tools": tools}, ensure_ascii=False, separators=(",", ":")).encode())


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
    for name in SERVERS:
        await cold_start_once(name, fake_url)  # not counted: fills the spec cache, warms the disk cache
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
    floor = out["bare SDK"]
    for row in out.values():
        row["x_floor"] = row["seconds"] / floor["seconds"]
        row["x_floor_best"] = row["best_seconds"] / floor["best_seconds"]
        row["rss_x_floor"] = row["rss_mib"] / floor["rss_mib"] if row["rss_mib"] and floor["rss_mib"] else None
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


@asynccontextmanager
async def http_server(command: list[str], env: dict[str, str], port: int) -> AsyncIterator[tuple[str, int]]:
    url = f"http://127.0.0.1:{port}"
    async with running(command, env, url + "/healthz") as process:
        yield url, process.pid


async def server_knows(flag_or_field: str) -> bool:
    """Whether the server under measurement (this checkout or PYTHONPATH's) has a setting: the benchmark then
    measures the figure it enables, and says it skipped it otherwise."""
    code = f"from clicksend_mcp.settings import Settings; print({flag_or_field!r} in Settings.model_fields)"
    done = await anyio.run_process([PY, "-c", code], env=base_env(), check=False)
    return done.stdout.decode().strip() == "True"


def ledger_variants(tmp: Path, has_ledger: bool) -> dict[str, dict[str, str]]:
    """Env for the ledger off and, where the server has one, on (SQLite in a temp dir)."""
    if not has_ledger:
        return {"ledger off": {}}
    return {
        "ledger off": {"CLICKSEND_MCP_DATABASE_URL": "off"},
        "ledger on (SQLite)": {"CLICKSEND_MCP_DATABASE_URL": f"sqlite:///{tmp / 'ledger.db'}"},
    }


async def per_call(
    fake_url: str, count: int, fastmcp_tool: str | None, has_ledger: bool, baseline: str | None = None
) -> dict[str, Any]:
    """One call at a time, in milliseconds (median and best): a read and a send over stdio against the raw HTTP
    request for the same thing, each variant timed once per repetition in turn (interleaved). `baseline`: another
    checkout of this repository, whose server is measured beside this one in the same run (rows "[baseline]")."""
    import base64
    import tempfile
    from contextlib import AsyncExitStack

    headers = {"Authorization": "Basic " + base64.b64encode(f"{USERNAME}:{API_KEY}".encode()).decode()}
    calls: dict[str, Callable[[], Awaitable[Any]]] = {}
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx2.AsyncClient(base_url=fake_url, headers=headers))
        calls["raw HTTP read"] = lambda: http.get("/v3/account")
        calls["raw HTTP send"] = lambda: http.post("/v3/sms/send", json=SEND_ARGS)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        command, env = SERVERS["clicksend-mcp (full)"](fake_url)
        trees = {"": {}}
        if baseline:
            trees[" [baseline]"] = {"PYTHONPATH": str(Path(baseline).resolve() / "server")}
        for n, (suffix, tree) in enumerate(trees.items()):
            (tmp / str(n)).mkdir()  # a ledger of its own: the two servers' schemas may differ
            for label, extra in ledger_variants(tmp / str(n), has_ledger).items():
                params = StdioServerParameters(command=command[0], args=command[1:], env={**env, **tree, **extra})
                c = await stack.enter_async_context(Client(params, mode="legacy"))
                calls[f"stdio read, {label}{suffix}"] = lambda c=c: c.call_tool("CLICKSEND_GET_ACCOUNT", {})
                calls[f"stdio send, {label}{suffix}"] = lambda c=c: c.call_tool("CLICKSEND_CREATE_SMS_SEND", SEND_ARGS)
        # The SDK's floor for the same read: a bare low-level server whose one tool makes the raw request.
        floor = [PY, str(ROOT / "bench" / "floor_server.py"), fake_url, USERNAME, API_KEY]
        params = StdioServerParameters(command=floor[0], args=floor[1:], env=base_env())
        c = await stack.enter_async_context(Client(params, mode="legacy"))
        calls["stdio read, bare SDK floor"] = lambda c=c: c.call_tool("CLICKSEND_GET_ACCOUNT", {})
        port = free_port()
        url, _ = await stack.enter_async_context(
            http_server(command + ["--transport", "http", "--port", str(port)], env, port)
        )
        c = await stack.enter_async_context(Client(f"{url}/mcp", mode="legacy"))
        calls["streamable HTTP read"] = lambda c=c: c.call_tool("CLICKSEND_GET_ACCOUNT", {})
        if fastmcp_tool:
            fcommand, fenv = SERVERS["FastMCP from_openapi"](fake_url)
            params = StdioServerParameters(command=fcommand[0], args=fcommand[1:], env=fenv)
            c = await stack.enter_async_context(Client(params, mode="legacy"))
            calls["FastMCP stdio read"] = lambda c=c: c.call_tool(fastmcp_tool, {})
        for call in calls.values():
            for _ in range(5):
                await call()  # warm up: connections open, validators compiled
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(count):
            for name, call in calls.items():
                started = time.perf_counter()
                await call()
                samples[name].append((time.perf_counter() - started) * 1000)
    out: dict[str, Any] = {name: {"ms": median(v), "best_ms": min(v)} for name, v in samples.items()}
    for name, row in out.items():
        raw = out["raw HTTP send" if " send" in name else "raw HTTP read"]
        row["x_raw"] = row["ms"] / raw["ms"]
        row["x_raw_best"] = row["best_ms"] / raw["best_ms"]
    return out


async def measure_rate(call: Callable[[], Awaitable[Any]], concurrency: int, seconds: float) -> tuple[float, int]:
    """Calls per second with `concurrency` calls in flight for `seconds`, and how many failed."""
    done = failed = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, failed
        while time.perf_counter() < deadline:
            try:
                result = await call()
            except Exception:  # a lost session (handshake era across workers) fails the call: counted, not fatal
                failed += 1
                continue
            if getattr(result, "is_error", False):
                failed += 1
            else:
                done += 1

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker)
    return done / (time.perf_counter() - started), failed


async def throughput(fake_url: str, seconds: float, rounds: int, has_workers: bool) -> dict[str, Any]:
    """Calls/s over streamable HTTP at IN_FLIGHT in flight, per protocol era and worker count, against the raw
    client's ceiling. Every server runs throughout; each round measures each in turn for seconds/rounds."""
    from contextlib import AsyncExitStack

    calls: dict[str, Callable[[], Awaitable[Any]]] = {}
    command, env = SERVERS["clicksend-mcp (full)"](fake_url)
    async with AsyncExitStack() as stack:
        limits = httpx2.Limits(max_connections=100, max_keepalive_connections=100)
        http = await stack.enter_async_context(httpx2.AsyncClient(base_url=fake_url, limits=limits))
        calls["raw HTTP"] = lambda: http.get("/v3/account")
        for workers in (1, 2) if has_workers else (1,):
            port = free_port()
            argv = command + ["--transport", "http", "--port", str(port)]
            argv += ["--workers", str(workers)] if has_workers else []
            url, _ = await stack.enter_async_context(http_server(argv, env, port))
            for era in ("legacy", MODERN):
                c = await stack.enter_async_context(Client(f"{url}/mcp", mode=era))
                label = f"{'handshake' if era == 'legacy' else '2026'} era, {workers} worker{'s' * (workers > 1)}"
                calls[label] = lambda c=c: c.call_tool("CLICKSEND_GET_ACCOUNT", {})
        rates: dict[str, list[float]] = {name: [] for name in calls}
        failures: dict[str, int] = dict.fromkeys(calls, 0)
        for _ in range(rounds):
            for name, call in calls.items():
                rate, failed = await measure_rate(call, IN_FLIGHT, seconds / rounds)
                rates[name].append(rate)
                failures[name] += failed
    raw = median(rates["raw HTTP"])
    return {
        name: {
            "calls_per_s": median(v),
            "best_calls_per_s": max(v),
            "x_raw": median(v) / raw,
            "failed_calls": failures[name],
            "in_flight": IN_FLIGHT,
        }
        for name, v in rates.items()
    }


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
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "cores": os.cpu_count(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": runs,
        "calls": calls,
    }
    if args.skip_fastmcp:
        del SERVERS["FastMCP from_openapi"]
    if args.baseline:
        add_baseline_servers(Path(args.baseline).resolve())
    parts = set(args.parts.split(","))
    # The machine's load average (1, 5 and 15 minutes) before and after each part: on a shared machine the
    # figures are only comparable with it beside them.
    load: dict[str, dict[str, list[float]]] = {}
    report["load_average"] = load
    async with running([PY, str(ROOT / "bench" / "fake_server.py"), str(fake_port)], base_env(), fake_url) as fake:
        EXCLUDED_PIDS.add(fake.pid)
        if "start" in parts:
            load["start"] = {"before": load_average()}
            report["cold_start"] = await cold_starts(fake_url, runs)
            report["spec_load_seconds"] = await spec_load(runs)
            load["start"]["after"] = load_average()
        if "call" in parts:
            load["call"] = {"before": load_average()}
            tool = None
            if "FastMCP from_openapi" in SERVERS:
                command, env = SERVERS["FastMCP from_openapi"](fake_url)
                params = StdioServerParameters(command=command[0], args=command[1:], env=env)
                async with Client(params, mode="legacy") as c:
                    tool = fastmcp_account_tool(await c.list_tools())
            report["ledger_measured"] = await server_knows("database_url")
            report["per_call_ms"] = await per_call(fake_url, calls, tool, report["ledger_measured"], args.baseline)
            report["baseline"] = args.baseline
            load["call"]["after"] = load_average()
        if "throughput" in parts:
            load["throughput"] = {"before": load_average()}
            report["workers_measured"] = await server_knows("workers")
            seconds, rounds = (6.0, 3) if args.quick else (24.0, 6)
            report["throughput"] = await throughput(fake_url, seconds, rounds, report["workers_measured"])
            load["throughput"]["after"] = load_average()
    print_report(report)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {out}")
    return 0


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def print_report(r: dict[str, Any]) -> None:
    print(f"machine: {r['machine']}")
    for part, seen in r.get("load_average", {}).items():
        print(f"load average during {part}: {seen['before']} before, {seen.get('after')} after (1, 5, 15 min)")
    print()
    if "cold_start" in r:
        print_start(r)
    if "per_call_ms" in r:
        print_calls(r)
    if "throughput" in r:
        print_throughput(r)


def print_start(r: dict[str, Any]) -> None:
    cs = r["cold_start"]
    floor = cs["bare SDK"]
    print(
        f"{'server':<28}{'cold start s':>13}{'x floor':>9}{'best s':>8}{'x floor':>9}{'tools':>7}"
        f"{'tools/list B':>14}{'~tokens':>9}{'peak RSS MiB':>14}{'x floor':>9}"
    )
    for name, c in cs.items():
        rss = f"{c['rss_mib']:.1f}" if c["rss_mib"] else "-"
        rss_x = f"{c['rss_x_floor']:.2f}" if c["rss_x_floor"] else "-"
        print(
            f"{name:<28}{c['seconds']:>13.3f}{c['seconds'] / floor['seconds']:>9.2f}{c['best_seconds']:>8.3f}"
            f"{c['best_seconds'] / floor['best_seconds']:>9.2f}{c['tools']:>7}{c['bytes']:>14}{c['bytes'] // 4:>9}"
            f"{rss:>14}{rss_x:>9}"
        )
    full = cs["clicksend-mcp (full)"]["seconds"]
    print(
        f"\nspec load + compile: {r['spec_load_seconds']:.3f} s = {100 * r['spec_load_seconds'] / full:.1f}% of cold start"
    )


def print_calls(r: dict[str, Any]) -> None:
    print(f"\n{'one call':<45}{'median ms':>10}{'x raw':>7}{'best ms':>9}{'x raw':>7}")
    for name, row in r["per_call_ms"].items():
        print(f"{name:<45}{row['ms']:>10.2f}{row['x_raw']:>7.2f}{row['best_ms']:>9.2f}{row['x_raw_best']:>7.2f}")
    if not r["ledger_measured"]:
        print("(this server has no send ledger: measured with it off only)")


def print_throughput(r: dict[str, Any]) -> None:
    print(f"\n{'throughput, 8 in flight':<34}{'calls/s':>10}{'best':>8}{'x raw':>7}{'failed':>8}")
    for name, row in r["throughput"].items():
        print(
            f"{name:<34}{row['calls_per_s']:>10.1f}{row['best_calls_per_s']:>8.1f}{row['x_raw']:>7.2f}"
            f"{row['failed_calls']:>8}"
        )
    if not r["workers_measured"]:
        print("(this server has no --workers: measured with one worker only)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="repetitions for cold start and spec load")
    parser.add_argument("--calls", type=int, default=200, help="repetitions of each call for per-call latency")
    parser.add_argument("--skip-fastmcp", action="store_true", help="leave FastMCP out (it needs the bench extra)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--parts", default="start,call,throughput", help="which figures, comma-separated (call: one call's latency)"
    )
    parser.add_argument(
        "--baseline",
        metavar="CHECKOUT",
        help="another checkout of this repository (e.g. before a change): its server's cold starts and calls are "
        "measured in the same interleaved run, as rows marked [baseline]",
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "benchmark.json"))
    raise SystemExit(anyio.run(main, parser.parse_args()))
