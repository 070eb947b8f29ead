"""What the send ledger costs: time added to one send, and disk per 10,000 sends, on SQLite and PostgreSQL.

One send = one CLICKSEND_CREATE_SMS_SEND through the dispatcher (validation, guardrails, ledger, HTTP) against the
sandbox ClickSend served by bench/fake_server.py on 127.0.0.1. Modes run interleaved in rounds so drift hits them
alike; the overhead is each mode's median minus the median with the ledger off. "+ limits" adds a daily budget (so
every send is first quoted: one more request), a per-recipient limit and quiet hours.

PostgreSQL is started in a temp dir like the tests do (Debian's package; skipped with a note when missing).

    python bench/ledger_overhead.py --sends 200 --rounds 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from processes import running  # noqa: E402

from clicksend_mcp.assembly import build_dispatcher  # noqa: E402
from clicksend_mcp.dispatcher import Dispatcher  # noqa: E402
from clicksend_mcp.fingerprints import Fingerprints, key_from_text  # noqa: E402
from clicksend_mcp.limits import Limits, Periods, to_micros  # noqa: E402
from clicksend_mcp.settings import Settings  # noqa: E402
from clicksend_mcp.store import locate, open_store  # noqa: E402
from clicksend_mcp.store.base import SendIntent, Settlement  # noqa: E402
from fake_clicksend import free_port  # noqa: E402

PY = sys.executable
SEND = "CLICKSEND_CREATE_SMS_SEND"
KEY = "bench-ledger-key-00112233445566778899aabb"
LIMITS = {"max_spend_per_day": "100000", "max_messages_per_recipient": "100000/day", "quiet_hours": "00:00-00:01"}


def settings(base_url: str, database_url: str, **extra: Any) -> Settings:
    return Settings(
        backend="direct",
        clicksend_username="bench-user",
        clicksend_api_key="BENCH-KEY-0123456789",
        clicksend_base_url=base_url,
        database_url=database_url,
        ledger_key=KEY,
        log_level="warning",
        **extra,
    )


def start_postgres(stack: ExitStack) -> Any:
    from services import PostgresServer, postgres_bin

    bindir = postgres_bin()
    if bindir is None:
        print("PostgreSQL not installed (apt-get install postgresql): its rows are skipped", file=sys.stderr)
        return None
    server = PostgresServer(bindir, durable=True)  # fsync on, like a real deployment
    server.start()
    stack.callback(server.stop)
    return server


async def time_sends(dispatcher: Dispatcher, count: int, offset: int) -> list[float]:
    took = []
    for n in range(count):
        number = f"+6141111{(offset + n) % 10000:04d}"  # distinct recipients: the per-recipient limit never bites
        args = {"messages": [{"to": number, "body": f"bench {n}"}]}
        started = time.perf_counter()
        result = await dispatcher.call(SEND, args)
        took.append((time.perf_counter() - started) * 1000)
        if not result["successful"]:
            raise SystemExit(f"a send failed: {result['error']}")
    return took


async def overhead(base_url: str, modes: dict[str, Settings], sends: int, rounds: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in modes}
    async with AsyncExitStack() as stack:
        dispatchers = {}
        for name, mode_settings in modes.items():
            dispatcher = build_dispatcher(mode_settings)
            stack.push_async_callback(dispatcher.aclose)
            await dispatcher.start()
            await time_sends(dispatcher, 20, 90_000)  # warm up: connections, compiled validators, page cache
            dispatchers[name] = dispatcher
        per_round = max(1, sends // rounds)
        for r in range(rounds):
            for name, dispatcher in dispatchers.items():
                timings[name] += await time_sends(dispatcher, per_round, r * per_round)
    return timings


async def size_per_10k(database_url: str, sealed_share: float) -> int:
    """Bytes the ledger grows by for 10,000 one-recipient sends, a share of them with an idempotency key."""
    location = locate(database_url)
    assert location is not None
    store = open_store(location)
    await store.open()
    fingerprints = Fingerprints(key_from_text(KEY))
    tenant = fingerprints.tenant("direct", "bench-user")
    # A real send answer's shape and size, to seal as a replayable result.
    answer = {
        "successful": True,
        "data": {
            "total_price": 0.077,
            "total_count": 1,
            "queued_count": 1,
            "messages": [
                {
                    "to": "+61411111111",
                    "body": "Your appointment is tomorrow at 10:00. Reply STOP to opt out.",
                    "message_id": "1F1C4B4B-6B49-4F2B-9C44-0D3E0F1A2B3C",
                    "status": "SUCCESS",
                    "message_price": "0.0770",
                    "custom_string": "mcp-0123456789ab",
                    "country": "AU",
                    "carrier": "Telstra",
                    "message_parts": 1,
                }
            ],
            "_currency": {"currency_name_short": "AUD", "currency_prefix_d": "$"},
        },
        "error": None,
        "error_code": None,
        "http_code": 200,
        "response_code": "SUCCESS",
        "response_msg": "Messages queued for delivery.",
        "tag": "mcp-0123456789ab",
    }
    before = await _size(location, store)
    now = time.time()
    periods = Periods.at(now, Limits())
    every = int(1 / sealed_share) if sealed_share else 0
    for n in range(10_000):
        keyed = bool(every) and n % every == 0
        intent = SendIntent(
            tenant=tenant,
            tool=SEND,
            channel="sms",
            created_at=now + n / 1000,
            recipient_count=1,
            recipients={fingerprints.recipient("phone", f"+6141{n:07d}"): 1},
            cost=to_micros("0.077"),
            currency="AUD",
            tag=f"mcp-{n:012x}",
            idempotency_key=fingerprints.idempotency_key(tenant, f"key-{n}") if keyed else None,
            arguments_hash=Fingerprints.arguments(SEND, {"n": n}) if keyed else None,
        )
        admission = await store.admit(intent, periods, now - 86_400, lambda usage: [])
        assert admission.send_id is not None
        sealed = fingerprints.seal(tenant, f"key-{n}", answer) if keyed else None
        await store.settle(
            admission.send_id,
            Settlement(
                "sent",
                now + n / 1000,
                cost=to_micros("0.077"),
                currency="AUD",
                message_ids=[f"{n:08X}-6B49-4F2B-9C44-0D3E0F1A2B3C"],
                sealed_result=sealed,
            ),
        )
    after = await _size(location, store)
    await store.close()
    return after - before


async def _size(location: Any, store: Any) -> int:
    if location.kind == "sqlite":
        import sqlite3

        with sqlite3.connect(location.path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(p.stat().st_size for p in location.path.parent.glob(location.path.name + "*"))
    import psycopg

    with psycopg.connect(location.url) as conn:
        row = conn.execute(
            "SELECT pg_total_relation_size('sends') + pg_total_relation_size('send_recipients')"
        ).fetchone()
    return int(row[0]) if row else 0


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


async def main(args: argparse.Namespace) -> int:
    with ExitStack() as sync_stack, tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        postgres = start_postgres(sync_stack) if not args.no_postgres else None
        pg_url = postgres.new_database() if postgres else None
        fake_port = free_port()
        fake_url = f"http://127.0.0.1:{fake_port}"
        env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp}
        async with running([PY, str(ROOT / "bench" / "fake_server.py"), str(fake_port)], env, fake_url):
            base = f"{fake_url}/v3"
            modes: dict[str, Settings] = {
                "ledger off": settings(base, "off"),
                "SQLite": settings(base, f"sqlite://{tmp}/a/ledger.db"),
                "SQLite + limits": settings(base, f"sqlite://{tmp}/b/ledger.db", **LIMITS),
            }
            if pg_url:
                modes["PostgreSQL"] = settings(base, pg_url)
                modes["PostgreSQL + limits"] = settings(base, pg_url, **LIMITS)
            timings = await overhead(base, modes, args.sends, args.rounds)
        base_median = statistics.median(timings["ledger off"])
        rows = [["mode", "sends", "median ms", "p90 ms", "overhead (median) ms"]]
        report: dict[str, Any] = {"sends_per_mode": args.sends, "rounds": args.rounds, "modes": {}}
        for name, took in timings.items():
            median = statistics.median(took)
            p90 = statistics.quantiles(took, n=10)[-1]
            rows.append([name, str(len(took)), f"{median:.2f}", f"{p90:.2f}", f"{median - base_median:+.2f}"])
            report["modes"][name] = {"median_ms": median, "p90_ms": p90, "overhead_ms": median - base_median}
        print(table(rows))
        sizes = [["ledger", "idempotency keys", "bytes per 10,000 sends", "bytes per send"]]
        targets = [("SQLite", f"sqlite://{tmp}/size-{{}}/ledger.db")] + ([("PostgreSQL", None)] if pg_url else [])
        report["size_per_10000"] = {}
        for label, template in targets:
            for share in (0.0, 1.0):
                url = template.format(int(share * 100)) if template else postgres.new_database()
                assert url is not None
                grown = await size_per_10k(url, share)
                sizes.append([label, f"{share:.0%}", f"{grown:,}", f"{grown / 10_000:.0f}"])
                report["size_per_10000"][f"{label}, keys {share:.0%}"] = grown
        print()
        print(table(sizes))
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=200, help="timed sends per mode (default 200)")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds (default 4)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    raise SystemExit(anyio.run(main, parser.parse_args()))
