"""The ledger in one SQLite file: WAL, and `BEGIN IMMEDIATE` so admissions are atomic across processes."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from ..limits import Periods, RecipientUsage, Usage
from .base import (
    COLUMNS,
    COUNTED,
    INSERT_SEND_COLUMNS,
    SETTLE_SEND,
    Admission,
    DaySpend,
    Decide,
    SendIntent,
    SendRecord,
    Settlement,
    record_of,
    send_row,
    settle_row,
)
from .messages import SentCopies, StoredMessage
from .migrations import SCHEMA_VERSION_TABLE, migrations
from .sqlite_messages import SqliteMessages

T = TypeVar("T")
log = logging.getLogger("clicksend_mcp.ledger")
_COUNTED = "(" + ", ".join(f"'{o}'" for o in COUNTED) + ")"
_SETTLE_SEND = SETTLE_SEND.format(p="?")
BUSY_TIMEOUT_MS = 30_000


class SqliteStore(SqliteMessages):
    """One connection per process, used from worker threads one at a time; other processes wait on SQLite's lock."""

    def __init__(self, path: Path, *, target_version: int | None = None) -> None:
        self.path = path
        self.label = f"sqlite://{path}"
        self._target = target_version  # tests build an old database by stopping early
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    async def open(self) -> None:
        await anyio.to_thread.run_sync(self._open)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a send recorded as going out survives a power cut, not only a crash of this process.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        self._conn = conn
        self.path.chmod(0o600)
        self._migrate(conn)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute(SCHEMA_VERSION_TABLE.format(real="REAL"))
        with self._transaction(conn):
            current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            for migration in migrations("sqlite"):
                if migration.version <= current or (self._target is not None and migration.version > self._target):
                    continue
                for statement in migration.statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, time.time()),
                )

    class _transaction:
        """BEGIN IMMEDIATE takes the write lock up front, so two processes cannot both read usage then both write."""

        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def __enter__(self) -> sqlite3.Connection:
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, kind: object, *rest: object) -> None:
            self.conn.execute("ROLLBACK" if kind is not None else "COMMIT")

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                assert self._conn is not None, "the ledger store is not open"
                return work(self._conn)

        return await anyio.to_thread.run_sync(locked)

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await anyio.to_thread.run_sync(conn.close)

    async def schema_version(self) -> int:
        return await self._run(
            lambda c: int(c.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])
        )

    # --- admission ------------------------------------------------------------------------------------------------

    async def admit(
        self, intent: SendIntent, periods: Periods, replay_since: float, decide: Decide | None
    ) -> Admission:
        def work(conn: sqlite3.Connection) -> Admission:
            with self._transaction(conn):
                if intent.idempotency_key:
                    row = conn.execute(
                        f"SELECT {COLUMNS} FROM sends WHERE tenant = ? AND idempotency_key = ?",
                        (intent.tenant, intent.idempotency_key),
                    ).fetchone()
                    if row is not None:
                        earlier = record_of(row)
                        if earlier.created_at >= replay_since:
                            return Admission(existing=earlier)
                        # Older than the replay window: the key is free again.
                        conn.execute("UPDATE sends SET idempotency_key = NULL WHERE id = ?", (earlier.id,))
                hits = decide(_usage(conn, intent.tenant, list(intent.recipients), periods)) if decide else []
                if hits:
                    send_id = _insert(conn, intent, "refused", with_key=False)
                    return Admission(send_id=send_id, refused=hits)
                send_id = _insert(conn, intent, "pending", with_key=True)
                conn.executemany(
                    "INSERT INTO send_recipients (send_id, tenant, recipient, messages, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(send_id, intent.tenant, r, n, intent.created_at) for r, n in intent.recipients.items()],
                )
                return Admission(send_id=send_id)

        return await self._run(work)

    async def usage(self, tenant: str, recipients: Sequence[str], periods: Periods) -> Usage:
        return await self._run(lambda conn: _usage(conn, tenant, list(recipients), periods))

    async def settle(
        self, send_id: int, settlement: Settlement, copies: SentCopies | None = None
    ) -> list[StoredMessage]:
        def work(conn: sqlite3.Connection) -> list[StoredMessage]:
            # Only the admission must reach the disk before the request goes out. A settlement lost to a power cut
            # leaves its row pending, which the next start turns into unknown: the state a crash mid-send leaves,
            # reconciled the same way. So it skips its own fsync; the next admission's fsync carries it. The copies
            # of the sent messages ride along: one trip to the worker thread, no fsync of their own.
            conn.execute("PRAGMA synchronous = NORMAL")
            try:
                _settle(conn, send_id, settlement)
                if copies is None or not copies.events:
                    return []
                try:
                    return self._record(conn, copies.tenant, copies.events, copies.received_at)
                except Exception:  # the settlement stands; the conversation only misses our side of it
                    log.exception("storing the sent messages of send %d failed", send_id)
                    return []
            finally:
                conn.execute("PRAGMA synchronous = FULL")

        return await self._run(work)

    async def find_idempotent(self, tenant: str, key: str, since: float) -> SendRecord | None:
        return await self._one(
            f"SELECT {COLUMNS} FROM sends WHERE tenant = ? AND idempotency_key = ? AND created_at >= ?",
            (tenant, key, since),
        )

    async def find_by_tag(self, tenant: str, tag: str) -> SendRecord | None:
        return await self._one(
            f"SELECT {COLUMNS} FROM sends WHERE tenant = ? AND tag = ? ORDER BY id DESC LIMIT 1", (tenant, tag)
        )

    async def _one(self, sql: str, params: tuple[Any, ...]) -> SendRecord | None:
        row = await self._run(lambda conn: conn.execute(sql, params).fetchone())
        return record_of(row) if row is not None else None

    async def expire_pending(self, before: float) -> int:
        def work(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "UPDATE sends SET outcome = 'unknown', error_code = 'OUTCOME_UNKNOWN' "
                "WHERE outcome = 'pending' AND created_at < ?",
                (before,),
            )
            return cursor.rowcount

        return await self._run(work)

    async def recent(self, tenant: str | None, limit: int) -> list[SendRecord]:
        where, params = ("WHERE tenant = ?", (tenant,)) if tenant else ("", ())
        rows = await self._run(
            lambda conn: conn.execute(
                f"SELECT {COLUMNS} FROM sends {where} ORDER BY id DESC LIMIT ?", (*params, limit)
            ).fetchall()
        )
        return [record_of(r) for r in rows]

    async def spend_by_day(self, tenant: str | None, since: float) -> list[DaySpend]:
        where = "AND tenant = ?" if tenant else ""
        params: tuple[Any, ...] = (since, tenant) if tenant else (since,)
        rows = await self._run(
            lambda conn: conn.execute(
                "SELECT tenant, strftime('%Y-%m-%d', created_at, 'unixepoch') AS day, COUNT(*), "
                "COALESCE(SUM(recipient_count), 0), COALESCE(SUM(cost), 0), MAX(currency) "
                f"FROM sends WHERE created_at >= ? AND outcome IN {_COUNTED} {where} "
                "GROUP BY tenant, day ORDER BY day DESC, tenant",
                params,
            ).fetchall()
        )
        return [DaySpend(str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4]), r[5]) for r in rows]


def _settle(conn: sqlite3.Connection, send_id: int, settlement: Settlement) -> None:
    conn.execute(_SETTLE_SEND, settle_row(send_id, settlement))


def _insert(conn: sqlite3.Connection, intent: SendIntent, outcome: str, *, with_key: bool) -> int:
    cursor = conn.execute(
        f"INSERT INTO sends ({INSERT_SEND_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        send_row(intent, outcome, with_key=with_key),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _usage(conn: sqlite3.Connection, tenant: str, recipients: list[str], periods: Periods) -> Usage:
    today, month = conn.execute(
        "SELECT COALESCE(SUM(CASE WHEN created_at >= ? THEN cost END), 0), COALESCE(SUM(cost), 0) "
        f"FROM sends WHERE tenant = ? AND created_at >= ? AND outcome IN {_COUNTED}",
        (periods.day_start, tenant, min(periods.month_start, periods.day_start)),
    ).fetchone()
    seen: dict[str, RecipientUsage] = {}
    for start in range(0, len(recipients), 500):
        chunk = recipients[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for recipient, count, oldest in conn.execute(
            "SELECT r.recipient, SUM(r.messages), MIN(r.created_at) FROM send_recipients r "
            f"JOIN sends s ON s.id = r.send_id WHERE r.tenant = ? AND r.created_at >= ? AND r.recipient IN ({marks}) "
            f"AND s.outcome IN {_COUNTED} GROUP BY r.recipient",
            (tenant, periods.window_start, *chunk),
        ):
            seen[recipient] = RecipientUsage(int(count), float(oldest))
    return Usage(int(today), int(month), seen)
