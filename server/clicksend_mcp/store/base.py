"""The ledger store's small interface: what the rest of the server may ask of a database, and the rows it gets back.

Implementations (`sqlite.py`, `postgres.py`) own the SQL, the transactions and the locking that make `admit` atomic
across processes. Nothing outside `store/` talks to a database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..limits import LimitHit, Periods, Usage
from .messages import SentCopies, StoredMessage

OUTCOMES = ("pending", "sent", "failed", "refused", "unknown")
# Outcomes whose messages may have gone out: they count against budgets and per-recipient limits.
COUNTED = ("pending", "sent", "unknown")


@dataclass(frozen=True)
class SendIntent:
    """A send about to go out. Recipients and the idempotency key are keyed hashes, never the values."""

    tenant: str
    tool: str
    channel: str
    created_at: float
    recipient_count: int
    recipients: Mapping[str, int] = field(default_factory=dict)  # recipient hash -> messages in this send
    scheduled_at: float | None = None
    cost: int | None = None  # quoted, in millionths of the account currency
    currency: str | None = None
    tag: str | None = None
    idempotency_key: str | None = None
    arguments_hash: str | None = None


def send_row(intent: SendIntent, outcome: str, *, with_key: bool) -> tuple[object, ...]:
    """The values of a new `sends` row, in the column order both stores insert them (see INSERT_SEND_COLUMNS)."""
    return (
        intent.tenant,
        intent.tool,
        intent.channel,
        intent.created_at,
        intent.scheduled_at,
        outcome,
        intent.recipient_count,
        intent.cost,
        intent.currency,
        intent.tag,
        intent.idempotency_key if with_key else None,
        intent.arguments_hash if with_key else None,
    )


INSERT_SEND_COLUMNS = (
    "tenant, tool, channel, created_at, scheduled_at, outcome, recipient_count, cost, currency, tag, idempotency_key, "
    "arguments_hash"
)


@dataclass(frozen=True)
class SendRecord:
    id: int
    tenant: str
    tool: str
    channel: str
    created_at: float
    settled_at: float | None
    scheduled_at: float | None
    outcome: str
    recipient_count: int
    cost: int | None
    currency: str | None
    tag: str | None
    message_ids: tuple[str, ...]
    error_code: str | None
    idempotency_key: str | None
    arguments_hash: str | None
    sealed_result: bytes | None


@dataclass(frozen=True)
class Settlement:
    outcome: str
    settled_at: float
    cost: int | None = None  # None keeps the quoted cost
    currency: str | None = None
    message_ids: Sequence[str] = ()
    error_code: str | None = None
    sealed_result: bytes | None = None


def settle_row(send_id: int, settlement: Settlement) -> tuple[object, ...]:
    """The values of a settlement, in the order of SETTLE_SEND's placeholders."""
    return (
        settlement.outcome,
        settlement.settled_at,
        settlement.cost,
        settlement.currency,
        ",".join(settlement.message_ids) or None,
        settlement.error_code,
        settlement.sealed_result,
        send_id,
    )


# Both stores settle a send with this statement; `{p}` is the driver's placeholder (? for sqlite3, %s for psycopg).
SETTLE_SEND = (
    "UPDATE sends SET outcome = {p}, settled_at = {p}, cost = COALESCE({p}, cost), currency = COALESCE({p}, currency), "
    "message_ids = {p}, error_code = {p}, sealed_result = COALESCE({p}, sealed_result) WHERE id = {p}"
)


@dataclass(frozen=True)
class Admission:
    """What `admit` decided: a pending row to send under, a refusal (recorded), or an earlier send with this key."""

    send_id: int | None = None
    refused: Sequence[LimitHit] = ()
    existing: SendRecord | None = None


@dataclass(frozen=True)
class DaySpend:
    tenant: str
    day: str  # YYYY-MM-DD, UTC
    sends: int
    recipients: int
    cost: int
    currency: str | None


Decide = Callable[[Usage], list[LimitHit]]


class LedgerStore(Protocol):
    label: str  # where the ledger lives, without any password

    async def open(self) -> None:
        """Connect and apply pending migrations (under a lock, so replicas starting together migrate once)."""
        ...

    async def close(self) -> None: ...

    async def schema_version(self) -> int: ...

    async def admit(
        self, intent: SendIntent, periods: Periods, replay_since: float, decide: Decide | None
    ) -> Admission:
        """Atomically, per tenant and across processes: find an earlier send with the same idempotency key (since
        `replay_since`), else count usage, ask `decide` (None: no limits, nothing to count), and record the send as
        pending (or as refused)."""
        ...

    async def usage(self, tenant: str, recipients: Sequence[str], periods: Periods) -> Usage:
        """Spend in the periods and recent messages per recipient, without reserving anything (dry runs)."""
        ...

    async def settle(
        self, send_id: int, settlement: Settlement, copies: SentCopies | None = None
    ) -> list[StoredMessage]:
        """Record a send's outcome without waiting for the disk (only the admission must be durable: a settlement
        lost to a power cut leaves the row pending, which becomes unknown and is reconciled like a crash mid-send).
        Then, in a transaction of their own, the send's `copies` (see SentCopies): returns those new or changed.
        A failure to store the copies is logged and leaves the settlement made."""
        ...

    async def find_idempotent(self, tenant: str, key: str, since: float) -> SendRecord | None: ...

    async def find_by_tag(self, tenant: str, tag: str) -> SendRecord | None: ...

    async def expire_pending(self, before: float) -> int:
        """Pending rows created before `before` become unknown (their process died mid-send); how many."""
        ...

    async def recent(self, tenant: str | None, limit: int) -> list[SendRecord]: ...

    async def spend_by_day(self, tenant: str | None, since: float) -> list[DaySpend]: ...


COLUMNS = (
    "id, tenant, tool, channel, created_at, settled_at, scheduled_at, outcome, recipient_count, cost, currency, tag, "
    "message_ids, error_code, idempotency_key, arguments_hash, sealed_result"
)


def record_of(row: Sequence[Any]) -> SendRecord:
    """A row selected with COLUMNS, from either database."""
    ids = str(row[12]) if row[12] else ""
    sealed = row[16]
    return SendRecord(
        id=int(row[0]),
        tenant=str(row[1]),
        tool=str(row[2]),
        channel=str(row[3]),
        created_at=float(row[4]),
        settled_at=float(row[5]) if row[5] is not None else None,
        scheduled_at=float(row[6]) if row[6] is not None else None,
        outcome=str(row[7]),
        recipient_count=int(row[8]),
        cost=int(row[9]) if row[9] is not None else None,
        currency=str(row[10]) if row[10] is not None else None,
        tag=str(row[11]) if row[11] is not None else None,
        message_ids=tuple(i for i in ids.split(",") if i),
        error_code=str(row[13]) if row[13] is not None else None,
        idempotency_key=str(row[14]) if row[14] is not None else None,
        arguments_hash=str(row[15]) if row[15] is not None else None,
        sealed_result=bytes(sealed) if sealed is not None else None,
    )
