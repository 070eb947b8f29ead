"""Where one stdio call's time goes inside the server: perf_counter_ns spans around each stage, medians over N calls.

    python bench/call_spans.py --calls 2000 --tool read            # GET /account, ledger off
    python bench/call_spans.py --calls 1000 --tool send --ledger   # POST /sms/send, ledger on (SQLite)

The server runs as usual (stdio, the full catalogue, the sandbox served by bench/fake_server.py on loopback), started
through this script with `--serve`, which wraps the stages below before handing over to the server's own main:
line read -> message parsed -> [the SDK's dispatch] -> prepare (validate, guard, build, ledger plan) -> execute
(ledger admit, HTTP, normalize, finish, ledger settle) -> CallToolResult -> [the SDK's serialization] -> written.
A stage is the time from one mark to the next, so the SDK's own work shows as the gaps between ours. The wrapping
costs about a microsecond a mark; the first 30 calls (warm-up) are left out. The client's side and the hop back
are not in these spans: compare the client's time per call (printed) with the span total.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EVENTS: list[tuple[str, int]] = []
WARM_UP = 30


def mark(name: str) -> None:
    EVENTS.append((name, time.perf_counter_ns()))


def wrap(owner: Any, attr: str, name: str, *, is_async: bool = True, start: bool = True) -> None:
    """Marks `name>` as the call starts (unless `start` is False: a wait, not work) and `name<` as it returns."""
    original = getattr(owner, attr)
    if is_async:

        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            if start:
                mark(name + ">")
            try:
                return await original(*args, **kwargs)
            finally:
                mark(name + "<")

        setattr(owner, attr, timed_async)
    else:

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            mark(name + ">")
            try:
                return original(*args, **kwargs)
            finally:
                mark(name + "<")

        setattr(owner, attr, timed)


def serve() -> int:
    """The server with its stages wrapped; the spans are written to $CALL_SPANS_OUT at exit."""
    import clicksend_mcp.compiler as compiler
    import clicksend_mcp.confirmation as confirmation
    import clicksend_mcp.dispatcher as dispatcher
    import clicksend_mcp.http as http
    import clicksend_mcp.ledger as ledger
    import clicksend_mcp.transports.stdio as stdio
    from clicksend_mcp.cli import main

    wrap(stdio._MessagesIn, "receive", "parsed", start=False)  # its start is a wait for the next line
    wrap(stdio._MessagesOut, "send", "write")
    wrap(dispatcher.Dispatcher, "prepare", "prepare")
    wrap(dispatcher.Dispatcher, "execute", "execute")
    wrap(dispatcher.Dispatcher, "_finish", "finish", is_async=False)
    wrap(compiler.CompiledTool, "check_arguments", "validate", is_async=False)
    wrap(http.ClickSendHttp, "send", "http")
    for step in ("plan", "admit", "settle"):
        wrap(ledger.Ledger, step, "ledger." + step)
    for module, attr, name in (
        (dispatcher, "build_request", "build"),
        (dispatcher, "check_send", "guard"),
        (confirmation, "call_result", "call_result"),
    ):
        wrap(module, attr, name, is_async=False)
    atexit.register(write_spans, Path(os.environ["CALL_SPANS_OUT"]))
    return int(main() or 0)


def write_spans(out: Path) -> None:
    calls: list[list[tuple[str, int]]] = []
    current: list[tuple[str, int]] | None = None
    for name, at in EVENTS:
        if name == "parsed<":  # a message read and parsed: a new call begins (if it turns out to be a tools/call)
            current = [(name, at)]
        elif current is not None:
            current.append((name, at))
            if name == "write<":
                if any(n == "prepare>" for n, _ in current):
                    calls.append(current)
                current = None
    calls = calls[WARM_UP:]
    stages: dict[str, list[int]] = {}
    for call in calls:
        for (a, at_a), (b, at_b) in itertools.pairwise(call):
            stages.setdefault(f"{a} -> {b}", []).append(at_b - at_a)
        stages.setdefault("total: message parsed -> answer written", []).append(call[-1][1] - call[0][1])
    lines = [f"calls measured: {len(calls)}"]
    for stage, values in stages.items():
        lines.append(f"{stage:45} median {statistics.median(values) / 1000:8.1f} us   min {min(values) / 1000:8.1f} us")
    out.write_text("\n".join(lines) + "\n")


async def drive(args: argparse.Namespace) -> None:
    import anyio
    from benchmark import PY, ROOT, SEND_ARGS, SERVERS, free_port
    from mcp import Client, StdioServerParameters
    from processes import running

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    out = Path(tempfile.mkdtemp(prefix="call-spans-")) / "spans.txt"
    async with running([PY, str(ROOT / "bench" / "fake_server.py"), str(port)], SERVERS["bare SDK"](url)[1], url):
        _, env = SERVERS["clicksend-mcp (full)"](url)
        env["CALL_SPANS_OUT"] = str(out)
        env["CLICKSEND_MCP_DATABASE_URL"] = f"sqlite:///{out.parent / 'ledger.db'}" if args.ledger else "off"
        params = StdioServerParameters(command=PY, args=[str(Path(__file__).resolve()), "--serve"], env=env)
        async with Client(params, mode="legacy") as client:
            read = args.tool == "read"
            name, arguments = ("CLICKSEND_GET_ACCOUNT", {}) if read else ("CLICKSEND_CREATE_SMS_SEND", SEND_ARGS)
            took = []
            for _ in range(WARM_UP + args.calls):
                started = time.perf_counter_ns()
                result = await client.call_tool(name, arguments)
                took.append(time.perf_counter_ns() - started)
                assert not result.is_error, result
        with anyio.fail_after(30):
            while not out.exists():  # written by the server as it exits
                await anyio.sleep(0.05)
    print(out.read_text(), end="")
    client_side = statistics.median(took[WARM_UP:]) / 1000
    print(f"{'the client: call_tool sent -> result validated':45} median {client_side:8.1f} us")
    print(f"load average (1, 5, 15 min): {[round(x, 2) for x in os.getloadavg()]}")


if __name__ == "__main__":
    if "--serve" in sys.argv:
        sys.argv.remove("--serve")
        raise SystemExit(serve())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--tool", choices=["read", "send"], default="read")
    parser.add_argument("--ledger", action="store_true", help="the send ledger on (SQLite in a temp dir)")
    import anyio

    anyio.run(drive, parser.parse_args())
