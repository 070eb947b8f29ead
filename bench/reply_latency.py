"""How soon a waiter hears of a reply: from the moment one replica has stored it (a webhook's work done) to the
moment CLICKSEND_WAIT_FOR_REPLY's wait returns on another replica, or on the same one.

Two `Conversations` over two separate store connections to one database stand for two replicas (no HTTP, no MCP:
only the store and the wake-up path are measured). Modes: the same process (an in-process event), two replicas on
PostgreSQL (LISTEN/NOTIFY), two replicas on one SQLite file (the waiter's look at the store each second).

    python bench/reply_latency.py --replies 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from clicksend_mcp.conversations import Conversations, ReplyWanted  # noqa: E402
from clicksend_mcp.fingerprints import Fingerprints, key_from_text  # noqa: E402
from clicksend_mcp.store import locate, open_store  # noqa: E402
from clicksend_mcp.store.messages import MessageEvent, MessageStore  # noqa: E402

TENANT = "bench-tenant"
KEY = Fingerprints(key_from_text("b" * 40))


async def measure(receiver: Conversations, waiter: Conversations, replies: int) -> list[float]:
    took = []
    for n in range(replies):
        original = f"BENCH-Q-{n}-{time.monotonic_ns()}"
        heard = anyio.Event()
        stored_at = 0.0
        done_at = 0.0

        async def wait(original: str, heard: anyio.Event) -> None:
            nonlocal done_at
            found = await waiter.wait(ReplyWanted(message_ids=(original,), since=0), 30)
            done_at = time.perf_counter()
            assert found is not None
            heard.set()

        async with anyio.create_task_group() as group:
            group.start_soon(wait, original, heard)
            await anyio.sleep(0.3)  # the waiter has made its first look and is waiting
            event = MessageEvent(
                "inbound", "sms", f"BENCH-R-{original}", peer="+61411111111", body="yes", original_message_id=original
            )
            await receiver.ingest([event])
            stored_at = time.perf_counter()
            await heard.wait()
        took.append((done_at - stored_at) * 1000)
    return took


async def opened(url: str) -> MessageStore:
    store = open_store(locate(url))
    await store.open()
    return store  # type: ignore[return-value]


def conversations(store: MessageStore) -> Conversations:
    return Conversations(store, TENANT, poll_clicksend=False, fingerprints=KEY)


async def run(args: argparse.Namespace) -> None:
    rows: list[tuple[str, list[float]]] = []
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="reply-latency-")))
        sqlite_url = f"sqlite://{folder}/ledger.db"
        one = await opened(sqlite_url)
        same = conversations(one)
        rows.append(("same replica (SQLite)", await measure(same, same, args.replies)))
        other = await opened(sqlite_url)
        rows.append(("two replicas, one SQLite file", await measure(same, conversations(other), args.replies)))
        await one.close()
        await other.close()
        postgres = None if args.no_postgres else start_postgres(stack)
        if postgres is not None:
            url = postgres.new_database()
            a, b = await opened(url), await opened(url)
            rows.append(("two replicas, PostgreSQL", await measure(conversations(a), conversations(b), args.replies)))
            await a.close()
            await b.close()
    print(f"{'mode':32} {'median ms':>10} {'p90 ms':>8} {'max ms':>8}   ({args.replies} replies each)")
    for name, took in rows:
        p90 = statistics.quantiles(took, n=10)[-1] if len(took) >= 2 else took[0]
        print(f"{name:32} {statistics.median(took):10.1f} {p90:8.1f} {max(took):8.1f}")


def start_postgres(stack: ExitStack) -> Any:
    from services import PostgresServer, postgres_bin

    bindir = postgres_bin()
    if bindir is None:
        print("PostgreSQL not installed (apt-get install postgresql): its row is skipped", file=sys.stderr)
        return None
    server = PostgresServer(bindir, durable=True)
    server.start()
    stack.callback(server.stop)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=20, help="replies per mode (default 20)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    anyio.run(run, parser.parse_args())


if __name__ == "__main__":
    main()
