"""The send ledger: every send is recorded before it goes out and settled when the answer comes; the limits are
applied at that moment, atomically with the reservation; an idempotency key replays the first result.

Sits between the dispatcher and the store: the dispatcher asks, the store answers, `limits` decides.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio

from . import results
from .clock import Clock, SystemClock
from .fingerprints import Fingerprints
from .limits import LimitHit, Limits, Periods, PhoneTarget, SendFacts, decide, money, to_micros
from .store.base import COUNTED, LedgerStore, SendIntent, SendRecord, Settlement
from .store.messages import SentCopies, StoredMessage
from .tenancy import tenant_label

if TYPE_CHECKING:
    from .dispatcher import PreparedCall

log = logging.getLogger("clicksend_mcp.ledger")

REPLAY_WINDOW = 24 * 3600
EVERY_TENANT = "every tenant"  # the summary's `tenant` when it shows every tenant's rows
Quote = Callable[["PreparedCall"], Awaitable[dict[str, Any] | None]]


@dataclass
class SendPlan:
    """What the ledger worked out for one prepared send."""

    intent: SendIntent
    facts: SendFacts
    key: str | None = None  # the caller's idempotency key (kept in memory only, to seal and unseal the result)
    hits: list[LimitHit] = field(default_factory=list)


def _price(data: Any) -> tuple[int | None, str | None]:
    """The total price and currency in a send or quote answer (ClickSend's total_price and _currency)."""
    if not isinstance(data, dict):
        return None, None
    price = data.get("total_price")
    currency = data.get("_currency")
    code = currency.get("currency_name_short") if isinstance(currency, dict) else None
    if isinstance(price, bool) or not isinstance(price, int | float | str):
        return None, code if isinstance(code, str) else None
    try:
        return to_micros(price), code if isinstance(code, str) else None
    except ArithmeticError:
        return None, None


def _message_ids(node: Any, found: list[str] | None = None) -> list[str]:
    found = [] if found is None else found
    if len(found) >= 1000:
        return found
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "message_id" and isinstance(value, str | int) and not isinstance(value, bool):
                found.append(str(value))
            else:
                _message_ids(value, found)
    elif isinstance(node, list):
        for item in node:
            _message_ids(item, found)
    return found


def outcome_of(result: dict[str, Any]) -> str:
    if result.get("successful"):
        return "sent"
    return "unknown" if result.get("error_code") == "OUTCOME_UNKNOWN" else "failed"


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts is not None else None


@dataclass
class _Opening:
    """Whether the store is open; shared by a ledger and its tenants' views, so the store opens once."""

    started: bool = False
    lock: anyio.Lock | None = None


class Ledger:
    """The ledger of one tenant (`tenant`, a fingerprint) over a store shared by every tenant. In multi-tenant mode
    each call uses `for_tenant` to get the view of its own tenant: its rows, its usage against the limits, its
    idempotency keys. A plan carries its tenant, so admission and settlement stay with the tenant that planned."""

    def __init__(
        self,
        store: LedgerStore,
        fingerprints: Fingerprints,
        tenant: str,
        limits: Limits | None = None,
        clock: Clock | None = None,
        *,
        pending_timeout: float = 300.0,
        wait_timeout: float = 60.0,
    ) -> None:
        self.store = store
        self.fingerprints = fingerprints
        self.tenant = tenant
        self.limits = limits or Limits()
        self.clock = clock or SystemClock()
        self.pending_timeout = pending_timeout
        self.wait_timeout = wait_timeout
        self._opening = _Opening()

    def for_tenant(self, tenant: str) -> Ledger:
        """The same ledger seen by another tenant: same store, keys, limits and clock; that tenant's rows only.
        The operator's limits apply to each tenant on its own."""
        if tenant == self.tenant:
            return self
        view = copy.copy(self)  # shares the store, the keys, the limits and the opening state
        view.tenant = tenant
        return view

    async def start(self) -> None:
        """Open (and migrate) the store; sends left pending by a process that died become unknown. Servers call it
        at start-up; any first use calls it too (the CLI's one-off calls, embedding code)."""
        opening = self._opening
        if opening.started:
            return
        opening.lock = opening.lock or anyio.Lock()
        async with opening.lock:
            if not opening.started:
                await self._open()
                opening.started = True

    async def _open(self) -> None:
        await self.store.open()
        expired = await self.store.expire_pending(self.clock.now() - self.pending_timeout)
        if expired:
            log.warning(
                "ledger: %d send(s) left pending by an earlier run are now unknown; resolve them with "
                "CLICKSEND_CHECK_SEND_OUTCOME",
                expired,
            )

    async def close(self) -> None:
        if self._opening.started:
            self._opening.started = False
            await self.store.close()

    # --- prepare ----------------------------------------------------------------------------------------------------

    def _recipients(self, prepared: PreparedCall) -> Iterator[tuple[str, str]]:
        assert prepared.send is not None
        for r in prepared.send.recipients:
            if r.kind in ("phone", "fax", "email", "postal"):
                yield self.fingerprints.recipient(r.kind, r.value), r.where

    async def plan(self, prepared: PreparedCall, key: str | None, arguments_hash: str) -> SendPlan:
        await self.start()
        send, tool = prepared.send, prepared.tool
        assert send is not None
        now = self.clock.now()
        recipients: dict[str, tuple[str, int]] = {}
        for digest, where in self._recipients(prepared):
            first_where, count = recipients.get(digest, (where, 0))
            recipients[digest] = (first_where, count + 1)
        phones = [
            PhoneTarget(r.where, r.value, float(r.at) if r.at and r.at > now else now)
            for r in send.recipients
            if r.kind == "phone"
        ]
        scheduled = max((float(r.at) for r in send.recipients if r.at and r.at > now), default=None)
        intent = SendIntent(
            tenant=self.tenant,
            tool=tool.name,
            channel=tool.spec.sends or "",
            created_at=now,
            recipient_count=sum(r.count for r in send.recipients),
            recipients={digest: count for digest, (_, count) in recipients.items()},
            scheduled_at=scheduled,
            tag=send.tag,
            idempotency_key=self.fingerprints.idempotency_key(self.tenant, key) if key else None,
            arguments_hash=arguments_hash if key else None,
        )
        return SendPlan(intent, SendFacts(None, None, recipients, phones), key)

    async def check(self, plan: SendPlan, prepared: PreparedCall, quote: Quote) -> dict[str, Any] | None:
        """Before confirmation: an earlier result to replay, a conflict, or None; the limits a send would meet
        are left in plan.hits (a dry run reports them; a real send is refused at admission, where it counts)."""
        replayed = await self.earlier(plan)
        if replayed is not None:
            return replayed
        intent = plan.intent
        if not self.limits.any:
            return None
        if self.limits.budgets:
            # The cost to reserve is ClickSend's own quote for exactly these messages.
            quoted = await quote(prepared)
            if quoted is not None and quoted.get("successful"):
                cost, currency = _price(quoted.get("data"))
                plan.intent = replace(plan.intent, cost=cost, currency=currency)
                plan.facts = replace(plan.facts, cost=cost, currency=currency)
        now = self.clock.now()
        periods = Periods.at(now, self.limits)
        usage = await self.store.usage(intent.tenant, list(intent.recipients), periods)
        plan.hits = decide(self.limits, usage, plan.facts, periods, now)
        return None

    async def earlier(self, plan: SendPlan) -> dict[str, Any] | None:
        """The answer for a key used in the last 24 hours: a conflict, or the first call's result (waiting, bounded,
        while it is still going out); None for a new key or none."""
        key = plan.intent.idempotency_key
        if not key:
            return None
        found = await self.store.find_idempotent(plan.intent.tenant, key, self._replay_since())
        if found is None:
            return None
        if found.arguments_hash != plan.intent.arguments_hash:
            return self._conflict()
        # Still going out from another call: wait for its result rather than judge (or confirm) it again.
        return await self._follow(found, plan) if found.outcome == "pending" else self._replay(found, plan)

    def report(self, plan: SendPlan) -> dict[str, Any]:
        """For a dry run: which limits a real send would meet, and the limits in force."""
        return {
            "would_be_refused": bool(plan.hits),
            "refusals": [{"limit": h.limit, "message": h.message, **h.details} for h in plan.hits],
            "quoted": money(plan.facts.cost) if plan.facts.cost is not None else None,
            "currency": plan.facts.currency,
            "in_force": self.limits.describe(),
        }

    # --- execute ----------------------------------------------------------------------------------------------------

    async def admit(self, plan: SendPlan) -> tuple[int | None, dict[str, Any] | None]:
        """(send id, None) to send under, or (None, result) when nothing may be sent: refused, or a replay."""
        now = self.clock.now()
        periods = Periods.at(now, self.limits)
        intent = plan.intent
        if intent.created_at != now:
            intent = replace(intent, created_at=now)

        def judge(usage: Any) -> list[LimitHit]:
            return decide(self.limits, usage, plan.facts, periods, now)

        admission = await self.store.admit(intent, periods, self._replay_since(), judge if self.limits.any else None)
        if admission.existing is not None:
            return None, await self._follow(admission.existing, plan)
        if admission.refused:
            return None, refusal(admission.refused)
        return admission.send_id, None

    async def _follow(self, earlier: SendRecord, plan: SendPlan) -> dict[str, Any]:
        """The same key again: replay the first result, waiting (bounded) while that send is still going out."""
        if earlier.arguments_hash != plan.intent.arguments_hash:
            return self._conflict()
        assert plan.intent.idempotency_key is not None
        delay = 0.02
        with anyio.move_on_after(self.wait_timeout):
            while earlier.outcome == "pending":
                await anyio.sleep(delay)
                delay = min(delay * 2, 0.5)
                found = await self.store.find_idempotent(plan.intent.tenant, plan.intent.idempotency_key, 0.0)
                if found is None:
                    break
                earlier = found
        if earlier.outcome == "pending":
            return results.refused(
                "REFUSED",
                "a send with this idempotency_key is still going out from another call; ask again shortly "
                "with the same key to get its result",
            )
        return self._replay(earlier, plan)

    def _replay(self, earlier: SendRecord, plan: SendPlan) -> dict[str, Any]:
        assert plan.key is not None
        tenant = plan.intent.tenant
        result = self.fingerprints.unseal(tenant, plan.key, earlier.sealed_result) if earlier.sealed_result else None
        if result is None:
            # The first call never finished (its process died): its outcome is unknown, and it is not resent.
            result = results.refused(
                "OUTCOME_UNKNOWN",
                "a send with this idempotency_key was made earlier but its outcome is unknown; check it with "
                f"CLICKSEND_CHECK_SEND_OUTCOME (tag {earlier.tag!r})",
            )
            result["error"] = result["error"].replace(" Nothing was sent.", " Nothing was sent by this call.")
            result["tag"] = earlier.tag
        result["replayed"] = True
        return result

    @staticmethod
    def _conflict() -> dict[str, Any]:
        return results.refused(
            "IDEMPOTENCY_CONFLICT",
            "idempotency_key was already used in the last 24 hours with different arguments; use a new key for a "
            "different send",
        )

    def _replay_since(self) -> float:
        return self.clock.now() - REPLAY_WINDOW

    async def settle(
        self, send_id: int, plan: SendPlan, result: dict[str, Any], copies: SentCopies | None = None
    ) -> list[StoredMessage]:
        """Record the outcome (and, in the same trip, the sent messages' `copies`: see LedgerStore.settle)."""
        outcome = outcome_of(result)
        cost, currency = _price(result.get("data")) if outcome == "sent" else (None, None)
        if outcome == "failed":
            cost = 0  # ClickSend charges nothing for a send it refused
        sealed = self.fingerprints.seal(plan.intent.tenant, plan.key, result) if plan.key else None
        return await self.store.settle(
            send_id,
            Settlement(
                outcome=outcome,
                settled_at=self.clock.now(),
                cost=cost,
                currency=currency,
                message_ids=_message_ids(result.get("data")) if outcome == "sent" else (),
                error_code=result.get("error_code"),
                sealed_result=sealed,
            ),
            copies,
        )

    # --- reconciliation and reports ----------------------------------------------------------------------------------

    async def find(self, tag: str) -> SendRecord | None:
        await self.start()
        return await self.store.find_by_tag(self.tenant, tag)

    async def resolve(self, record: SendRecord, sent: bool, message_ids: list[str]) -> None:
        await self.store.settle(
            record.id,
            Settlement(
                outcome="sent" if sent else "failed",
                settled_at=self.clock.now(),
                cost=None if sent else 0,
                message_ids=message_ids,
                error_code=None if sent else "NOT_SENT",
            ),
        )

    async def summary(self, days: int = 7, limit: int = 20, *, every_tenant: bool = False) -> dict[str, Any]:
        """This tenant's spend, budgets left and recent sends. `every_tenant`: the operator's view of a multi-tenant
        ledger (the CLI), every tenant's rows, each naming its tenant; budgets are per tenant, so none is shown."""
        await self.start()
        now = self.clock.now()
        await self.store.expire_pending(now - self.pending_timeout)
        periods = Periods.at(now, self.limits)
        tenant = None if every_tenant else self.tenant
        spend = await self.store.spend_by_day(tenant, now - days * 86_400)
        recent = await self.store.recent(tenant, limit)
        budget: dict[str, Any] = {}
        if tenant is not None:
            usage = await self.store.usage(tenant, [], periods)
            for name, cap, spent, resets in (
                ("day", self.limits.max_spend_per_day, usage.spent_today, periods.day_end),
                ("month", self.limits.max_spend_per_month, usage.spent_this_month, periods.month_end),
            ):
                budget[name] = {
                    "spent": money(spent),
                    "limit": str(cap) if cap is not None else None,
                    "remaining": money(max(0, to_micros(cap) - spent)) if cap is not None else None,
                    "resets_at": _iso(resets),
                }

        def per_tenant(row_tenant: str) -> dict[str, str]:
            return {"tenant": tenant_label(row_tenant)} if every_tenant else {}

        return {
            "tenant": tenant_label(self.tenant) if tenant is not None else EVERY_TENANT,
            "database": self.store.label,
            "limits": self.limits.describe(),
            "budget": budget,
            "spend_by_day": [
                {
                    **per_tenant(d.tenant),
                    "day": d.day,
                    "sends": d.sends,
                    "recipients": d.recipients,
                    "spent": money(d.cost),
                    "currency": d.currency,
                }
                for d in spend
            ],
            "recent_sends": [{**per_tenant(r.tenant), **describe_record(r)} for r in recent],
            "counted_outcomes": list(COUNTED),
        }


def refusal(hits: Sequence[LimitHit]) -> dict[str, Any]:
    """The result of a send the limits stopped: every limit met, in words and in figures."""
    result = results.refused("REFUSED", "; ".join(h.message for h in hits))
    result["data"] = {"refusals": [{"limit": h.limit, **h.details} for h in hits]}
    return result


def describe_record(record: SendRecord) -> dict[str, Any]:
    return {
        "at": _iso(record.created_at),
        "tool": record.tool,
        "channel": record.channel,
        "outcome": record.outcome,
        "recipients": record.recipient_count,
        "cost": money(record.cost) if record.cost is not None else None,
        "currency": record.currency,
        "tag": record.tag,
        "message_ids": list(record.message_ids[:20]),
        "scheduled_for": _iso(record.scheduled_at),
        "error_code": record.error_code,
    }
