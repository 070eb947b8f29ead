"""The ledger in PostgreSQL (psycopg 3 with a pool), shared by processes and replicas.

Admissions serialize per tenant with a transaction-scoped advisory lock: two replicas admitting sends for one
tenant take turns reading usage and writing the pending row, while other tenants proceed in parallel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

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
from .postgres_messages import PostgresMessages

log = logging.getLogger("clicksend_mcp.ledger")
_COUNTED = "(" + ", ".join(f"'{o}'" for o in COUNTED) + ")"
_SETTLE_SEND = SETTLE_SEND.format(p="%s")
MIGRATION_LOCK = 0x636C6B73656E64  # any constant: every replica migrating takes the same advisory lock


def redact_url(url: str) -> str:
    """The URL without its password, for logs and the CLI."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        parts = conninfo_to_dict(url)
    except Exception:  # an unreadable URL: show nothing of it
        return "postgresql://(unreadable URL)"
    parts.pop("password", None)
    return "postgresql: " + make_conninfo("", **{k: str(v) for k, v in parts.items() if v is not None})


class PostgresStore(PostgresMessages):
    def __init__(self, url: str, *, max_connections: int = 10, target_version: int | None = None) -> None:
        self.label = redact_url(url)
        self._url = url
        self._target = target_version
        self._pool: AsyncConnectionPool[AsyncConnection[TupleRow]] = AsyncConnectionPool(
            url, min_size=1, max_size=max_connections, open=False, kwargs={"autocommit": True}
        )

    async def open(self) -> None:
        # One plain connection first: an unreachable database fails at once with its own reason, rather than
        # after the pool's patient retries.
        conn = await AsyncConnection.connect(self._url, autocommit=True)
        async with conn:
            await self._migrate(conn)
        await self._pool.open(wait=True, timeout=30)

    async def _migrate(self, conn: AsyncConnection[Any]) -> None:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            await conn.execute(SCHEMA_VERSION_TABLE.format(real="DOUBLE PRECISION"))
            cur = await conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            row = await cur.fetchone()
            current = int(row[0]) if row else 0
            for migration in migrations("postgresql"):
                if migration.version <= current or (self._target is not None and migration.version > self._target):
                    continue
                for statement in migration.statements:
                    await conn.execute(statement)  # our own files, not user input
                await conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, time.time()),
                )

    async def close(self) -> None:
        await self._pool.close()

    async def schema_version(self) -> int:
        row = await self._fetchone("SELECT COALESCE(MAX(version), 0) FROM schema_version", ())
        return int(row[0]) if row else 0

    async def admit(
        self, intent: SendIntent, periods: Periods, replay_since: float, decide: Decide | None
    ) -> Admission:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (intent.tenant,))
            if intent.idempotency_key:
                cur = await conn.execute(
                    f"SELECT {COLUMNS} FROM sends WHERE tenant = %s AND idempotency_key = %s",
                    (intent.tenant, intent.idempotency_key),
                )
                row = await cur.fetchone()
                if row is not None:
                    earlier = record_of(row)
                    if earlier.created_at >= replay_since:
                        return Admission(existing=earlier)
                    await conn.execute("UPDATE sends SET idempotency_key = NULL WHERE id = %s", (earlier.id,))
            hits = decide(await _usage(conn, intent.tenant, list(intent.recipients), periods)) if decide else []
            if hits:
                return Admission(send_id=await _insert(conn, intent, "refused", with_key=False), refused=hits)
            send_id = await _insert(conn, intent, "pending", with_key=True)
            if intent.recipients:
                async with conn.cursor() as cur:
                    await cur.executemany(
                        "INSERT INTO send_recipients (send_id, tenant, recipient, messages, created_at) "
                        "VALUES (%s, %s, %s, %s, %s)",
                        [(send_id, intent.tenant, r, n, intent.created_at) for r, n in intent.recipients.items()],
                    )
            return Admission(send_id=send_id)

    async def usage(self, tenant: str, recipients: Sequence[str], periods: Periods) -> Usage:
        async with self._pool.connection() as conn:
            return await _usage(conn, tenant, list(recipients), periods)

    async def settle(
        self, send_id: int, settlement: Settlement, copies: SentCopies | None = None
    ) -> list[StoredMessage]:
        # Only the admission must be durable before the request goes out; a settlement lost to a server crash
        # leaves the row pending, which becomes unknown and is reconciled like a crash mid-send. So it does not
        # wait for its WAL flush; nor do the sent messages' copies, stored on the same connection.
        async with self._pool.connection() as conn:
            async with conn.transaction():
                await conn.execute("SET LOCAL synchronous_commit TO OFF")
                await conn.execute(_SETTLE_SEND, settle_row(send_id, settlement))
            if copies is None or not copies.events:
                return []
            try:
                return await self._record(conn, copies.tenant, copies.events, copies.received_at, durable=False)
            except Exception:  # the settlement stands; the conversation only misses our side of it
                log.exception("storing the sent messages of send %d failed", send_id)
                return []

    async def find_idempotent(self, tenant: str, key: str, since: float) -> SendRecord | None:
        row = await self._fetchone(
            f"SELECT {COLUMNS} FROM sends WHERE tenant = %s AND idempotency_key = %s AND created_at >= %s",
            (tenant, key, since),
        )
        return record_of(row) if row else None

    async def find_by_tag(self, tenant: str, tag: str) -> SendRecord | None:
        row = await self._fetchone(
            f"SELECT {COLUMNS} FROM sends WHERE tenant = %s AND tag = %s ORDER BY id DESC LIMIT 1", (tenant, tag)
        )
        return record_of(row) if row else None

    async def expire_pending(self, before: float) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE sends SET outcome = 'unknown', error_code = 'OUTCOME_UNKNOWN' "
                "WHERE outcome = 'pending' AND created_at < %s",
                (before,),
            )
            return cur.rowcount

    async def recent(self, tenant: str | None, limit: int) -> list[SendRecord]:
        where, params = ("WHERE tenant = %s", (tenant,)) if tenant else ("", ())
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {COLUMNS} FROM sends {where} ORDER BY id DESC LIMIT %s",
                (*params, limit),
            )
            return [record_of(r) for r in await cur.fetchall()]

    async def spend_by_day(self, tenant: str | None, since: float) -> list[DaySpend]:
        where = "AND tenant = %s" if tenant else ""
        params: tuple[Any, ...] = (since, tenant) if tenant else (since,)
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT tenant, to_char(to_timestamp(created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, COUNT(*), "
                "COALESCE(SUM(recipient_count), 0), COALESCE(SUM(cost), 0), MAX(currency) "
                f"FROM sends WHERE created_at >= %s AND outcome IN {_COUNTED} {where} "
                "GROUP BY tenant, day ORDER BY day DESC, tenant",
                params,
            )
            rows = await cur.fetchall()
        return [DaySpend(str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4]), r[5]) for r in rows]

    async def _fetchone(self, sql: str, params: tuple[Any, ...]) -> Any:
        async with self._pool.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchone()


async def _insert(conn: AsyncConnection[Any], intent: SendIntent, outcome: str, *, with_key: bool) -> int:
    cur = await conn.execute(
        f"INSERT INTO sends ({INSERT_SEND_COLUMNS}) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        send_row(intent, outcome, with_key=with_key),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def _usage(conn: AsyncConnection[Any], tenant: str, recipients: list[str], periods: Periods) -> Usage:
    cur = await conn.execute(
        "SELECT COALESCE(SUM(CASE WHEN created_at >= %s THEN cost END), 0), COALESCE(SUM(cost), 0) "
        f"FROM sends WHERE tenant = %s AND created_at >= %s AND outcome IN {_COUNTED}",
        (periods.day_start, tenant, periods.month_start),
    )
    row = await cur.fetchone()
    today, month = (int(row[0]), int(row[1])) if row else (0, 0)
    seen: dict[str, RecipientUsage] = {}
    if recipients:
        cur = await conn.execute(
            "SELECT r.recipient, SUM(r.messages), MIN(r.created_at) FROM send_recipients r "
            "JOIN sends s ON s.id = r.send_id WHERE r.tenant = %s AND r.created_at >= %s "
            f"AND r.recipient = ANY(%s) AND s.outcome IN {_COUNTED} GROUP BY r.recipient",
            (tenant, periods.window_start, recipients),
        )
        for recipient, count, oldest in await cur.fetchall():
            seen[str(recipient)] = RecipientUsage(int(count), float(oldest))
    return Usage(today, month, seen)
