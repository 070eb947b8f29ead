"""Received messages and receipts in the PostgreSQL ledger: a mixin of `PostgresStore` (its pool and URL).

Every change is followed by `NOTIFY clicksend_mcp_messages`; a waiter LISTENs on its own connection, so a webhook
received by one replica wakes a waiter on another at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from .messages import (
    INSERT_COLUMNS,
    MESSAGE_COLUMNS,
    NOTIFY_CHANNEL,
    UPSERT_TAIL,
    MessageEvent,
    MessageFilter,
    Signal,
    StoredMessage,
    event_values,
    filter_sql,
    message_of,
)


class PostgresMessages:
    _pool: AsyncConnectionPool[Any]
    _url: str

    async def record_messages(
        self, tenant: str, events: Sequence[MessageEvent], received_at: float
    ) -> list[StoredMessage]:
        async with self._pool.connection() as conn:
            return await self._record(conn, tenant, events, received_at)

    async def _record(
        self,
        conn: AsyncConnection[Any],
        tenant: str,
        events: Sequence[MessageEvent],
        received_at: float,
        *,
        durable: bool = True,
    ) -> list[StoredMessage]:
        changed: list[StoredMessage] = []
        async with conn.transaction():
            if not durable:  # a send's copies, stored with its settlement (see SentCopies)
                await conn.execute("SET LOCAL synchronous_commit TO OFF")
            for event in events:
                cur = await conn.execute(
                    f"INSERT INTO messages ({INSERT_COLUMNS}) VALUES ({', '.join(['%s'] * 14)}, "
                    f"nextval('message_seq')) {UPSERT_TAIL}",
                    event_values(tenant, event, received_at),
                )
                row = await cur.fetchone()
                if row is not None:
                    changed.append(message_of(row))
            if changed:
                # Delivered at commit, to every listening replica.
                await conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, tenant[:64]))
        return changed

    async def messages_after(
        self, tenant: str, after_seq: int, wanted: MessageFilter, limit: int
    ) -> list[StoredMessage]:
        where, params = filter_sql(wanted, "%s")
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE tenant = %s AND seq > %s{where} ORDER BY seq LIMIT %s",
                (tenant, after_seq, *params, limit),
            )
            return [message_of(r) for r in await cur.fetchall()]

    async def last_seq(self, tenant: str) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE tenant = %s", (tenant,))
            row = await cur.fetchone()
            return int(row[0]) if row else 0

    async def conversation(self, tenant: str, peer: str, before_id: int | None, limit: int) -> list[StoredMessage]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE tenant = %s AND peer = %s AND id < %s "
                "ORDER BY id DESC LIMIT %s",
                (tenant, peer, before_id if before_id is not None else 2**62, limit),
            )
            return [message_of(r) for r in await cur.fetchall()]

    async def outbound(self, tenant: str, message_ids: Sequence[str]) -> list[StoredMessage]:
        ids = list(message_ids)[:500]
        if not ids:
            return []
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE tenant = %s AND direction = 'outbound' "
                "AND message_id = ANY(%s) ORDER BY id",
                (tenant, ids),
            )
            return [message_of(r) for r in await cur.fetchall()]

    @asynccontextmanager
    async def message_signals(self) -> AsyncIterator[Signal]:
        """LISTEN on a connection of its own (held for the whole wait, which a pooled one must not be)."""
        conn = await AsyncConnection.connect(self._url, autocommit=True)
        async with conn:
            await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")

            async def wait(timeout: float) -> None:
                async for _ in conn.notifies(timeout=timeout, stop_after=1):
                    return

            yield wait
