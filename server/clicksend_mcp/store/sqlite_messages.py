"""Received messages and receipts in the SQLite ledger: a mixin of `SqliteStore` (its connection and write lock)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio

from .messages import (
    INSERT_COLUMNS,
    MESSAGE_COLUMNS,
    UPSERT_TAIL,
    MessageEvent,
    MessageFilter,
    Signal,
    StoredMessage,
    event_values,
    filter_sql,
    message_of,
)

T = TypeVar("T")


class SqliteMessages:
    """Uses the store's one connection and its BEGIN IMMEDIATE transactions (the seq counter is read under the lock)."""

    _transaction: Any

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:  # provided by SqliteStore
        raise NotImplementedError

    async def record_messages(
        self, tenant: str, events: Sequence[MessageEvent], received_at: float
    ) -> list[StoredMessage]:
        return await self._run(lambda conn: self._record(conn, tenant, events, received_at))

    def _record(
        self, conn: sqlite3.Connection, tenant: str, events: Sequence[MessageEvent], received_at: float
    ) -> list[StoredMessage]:
        changed: list[StoredMessage] = []
        with self._transaction(conn):
            (seq,) = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM messages").fetchone()
            for event in events:
                seq += 1
                row = conn.execute(
                    f"INSERT INTO messages ({INSERT_COLUMNS}) VALUES ({', '.join('?' * 15)}) {UPSERT_TAIL}",
                    (*event_values(tenant, event, received_at), seq),
                ).fetchone()
                if row is not None:
                    changed.append(message_of(row))
        return changed

    async def messages_after(
        self, tenant: str, after_seq: int, wanted: MessageFilter, limit: int
    ) -> list[StoredMessage]:
        where, params = filter_sql(wanted, "?")
        rows = await self._run(
            lambda conn: conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE tenant = ? AND seq > ?{where} ORDER BY seq LIMIT ?",
                (tenant, after_seq, *params, limit),
            ).fetchall()
        )
        return [message_of(r) for r in rows]

    async def last_seq(self, tenant: str) -> int:
        return await self._run(
            lambda conn: int(
                conn.execute("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE tenant = ?", (tenant,)).fetchone()[0]
            )
        )

    async def conversation(self, tenant: str, peer: str, before_id: int | None, limit: int) -> list[StoredMessage]:
        rows = await self._run(
            lambda conn: conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE tenant = ? AND peer = ? AND id < ? "
                "ORDER BY id DESC LIMIT ?",
                (tenant, peer, before_id if before_id is not None else 2**62, limit),
            ).fetchall()
        )
        return [message_of(r) for r in rows]

    async def outbound(self, tenant: str, message_ids: Sequence[str]) -> list[StoredMessage]:
        ids = list(message_ids)[:500]
        if not ids:
            return []
        rows = await self._run(
            lambda conn: conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE tenant = ? AND direction = 'outbound' "
                f"AND message_id IN ({', '.join('?' for _ in ids)}) ORDER BY id",
                (tenant, *ids),
            ).fetchall()
        )
        return [message_of(r) for r in rows]

    @asynccontextmanager
    async def message_signals(self) -> AsyncIterator[Signal]:
        """Other processes' writes to the file are seen by polling: a signal is only the poll interval passing."""

        async def wait(timeout: float) -> None:
            await anyio.sleep(timeout)

        yield wait
