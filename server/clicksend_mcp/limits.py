"""Budgets, per-recipient contact limits and quiet hours: pure decisions over what the store answers.

Nothing here does I/O. The store gathers usage inside its transaction and asks `decide` whether a send may go.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

MICROS = 1_000_000
_WINDOWS = {"hour": 3600, "day": 86_400, "week": 7 * 86_400, "month": 30 * 86_400}
_RATE_RE = re.compile(r"^\s*(\d{1,6})\s*/\s*(\d{0,3})\s*(hour|day|week|month)s?\s*$", re.IGNORECASE)
_QUIET_RE = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")
UNKNOWN_ZONE = "Etc/Unknown"


class LimitSyntaxError(ValueError):
    """A limit setting that cannot be read; the message says what was expected."""


def to_micros(amount: Decimal | float | str) -> int:
    """Money as integer millionths, so sums never drift the way floats do."""
    return int((Decimal(str(amount)) * MICROS).to_integral_value())


def money(micros: int) -> str:
    return f"{(Decimal(micros) / MICROS).quantize(Decimal('0.0001'))}"


def parse_money(text: str | float | Decimal | None, name: str) -> Decimal | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise LimitSyntaxError(f"{name}: expected an amount such as 25 or 12.50, got {text!r}") from None
    if not value.is_finite() or value < 0:
        raise LimitSyntaxError(f"{name}: expected an amount of 0 or more, got {text!r}")
    return value


@dataclass(frozen=True)
class RecipientLimit:
    """At most `count` messages to one recipient in any rolling `seconds` (e.g. 3/day)."""

    count: int
    seconds: int
    label: str

    @classmethod
    def parse(cls, text: str | None) -> RecipientLimit | None:
        if text is None or not text.strip():
            return None
        found = _RATE_RE.match(text)
        if not found or int(found.group(1)) < 1:
            raise LimitSyntaxError(
                f"max-messages-per-recipient: expected COUNT/WINDOW such as 3/day, 10/week or 1/2hours, got {text!r}"
            )
        count, times, unit = int(found.group(1)), int(found.group(2) or 1), found.group(3).lower()
        label = f"{count}/{times if times > 1 else ''}{unit}{'s' if times > 1 else ''}"
        return cls(count, times * _WINDOWS[unit], label)


@dataclass(frozen=True)
class QuietHours:
    """Local hours in which no message may reach a recipient; `start > end` wraps past midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str | None) -> QuietHours | None:
        if text is None or not text.strip():
            return None
        found = _QUIET_RE.match(text)
        if not found:
            raise LimitSyntaxError(f"quiet-hours: expected HH:MM-HH:MM such as 21:00-08:00, got {text!r}")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if (h1, m1) == (h2, m2):
            raise LimitSyntaxError("quiet-hours: the start and end are the same time")
        return cls(time(h1, m1), time(h2, m2))

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, local: datetime) -> datetime:
        """The end of the quiet window that `local` is in (an aware local datetime)."""
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return end if end > local else end + timedelta(days=1)


@dataclass(frozen=True)
class Limits:
    max_spend_per_day: Decimal | None = None
    max_spend_per_month: Decimal | None = None
    per_recipient: RecipientLimit | None = None
    quiet_hours: QuietHours | None = None

    @property
    def budgets(self) -> bool:
        return self.max_spend_per_day is not None or self.max_spend_per_month is not None

    @property
    def any(self) -> bool:
        """Whether any limit is set (with none, a send needs no counting before it goes)."""
        return self.budgets or self.per_recipient is not None or self.quiet_hours is not None

    def describe(self) -> dict[str, Any]:
        """The limits in force, as GET_SEND_LEDGER and the CLI show them."""
        return {
            "max_spend_per_day": str(self.max_spend_per_day) if self.max_spend_per_day is not None else None,
            "max_spend_per_month": str(self.max_spend_per_month) if self.max_spend_per_month is not None else None,
            "max_messages_per_recipient": self.per_recipient.label if self.per_recipient else None,
            "quiet_hours": self.quiet_hours.label if self.quiet_hours else None,
            "budget_periods": "UTC calendar day and month",
        }


@dataclass(frozen=True)
class Periods:
    """The UTC budget periods around one instant, and the start of the per-recipient window."""

    day_start: float
    day_end: float
    month_start: float
    month_end: float
    window_start: float

    @classmethod
    def at(cls, now: float, limits: Limits) -> Periods:
        moment = datetime.fromtimestamp(now, UTC)
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        month = day.replace(day=1)
        next_month = (month + timedelta(days=32)).replace(day=1)
        window = limits.per_recipient.seconds if limits.per_recipient else 0
        return cls(
            day.timestamp(),
            (day + timedelta(days=1)).timestamp(),
            month.timestamp(),
            next_month.timestamp(),
            now - window,
        )


@dataclass(frozen=True)
class RecipientUsage:
    count: int
    oldest: float


@dataclass(frozen=True)
class Usage:
    """What the store counted for one tenant: spend (settled plus reserved) and recent messages per recipient."""

    spent_today: int = 0
    spent_this_month: int = 0
    recipients: Mapping[str, RecipientUsage] = field(default_factory=dict)


@dataclass(frozen=True)
class LimitHit:
    """One limit a send meets: a stable name, a sentence for people and agents, and the figures behind it."""

    limit: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PhoneTarget:
    """A phone recipient for the quiet-hours check: where it is in the arguments, its number, when it would ring."""

    where: str
    number: str
    at: float


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_budgets(
    limits: Limits, usage: Usage, cost: int | None, currency: str | None, periods: Periods
) -> list[LimitHit]:
    if not limits.budgets:
        return []
    if cost is None:
        return [
            LimitHit(
                "budget",
                "a spending limit is in force and ClickSend could not quote this send, so its cost is unknown",
            )
        ]
    unit = f" {currency}" if currency else ""
    hits = []
    for name, cap, spent, resets in (
        ("max_spend_per_day", limits.max_spend_per_day, usage.spent_today, periods.day_end),
        ("max_spend_per_month", limits.max_spend_per_month, usage.spent_this_month, periods.month_end),
    ):
        if cap is None:
            continue
        remaining = max(0, to_micros(cap) - spent)
        if cost > remaining:
            flag = "--" + name.replace("_", "-")
            hits.append(
                LimitHit(
                    name,
                    f"this send is quoted at {money(cost)}{unit} and the budget ({flag} {cap}) has "
                    f"{money(remaining)}{unit} left until {_iso(resets)}",
                    {
                        "quoted": money(cost),
                        "remaining": money(remaining),
                        "currency": currency,
                        "resets_at": _iso(resets),
                    },
                )
            )
    return hits


def check_recipients(
    limits: Limits, usage: Usage, recipients: Mapping[str, tuple[str, int]], now: float
) -> list[LimitHit]:
    """`recipients`: keyed hash -> (where it is in the arguments, messages this send adds)."""
    rule = limits.per_recipient
    if rule is None:
        return []
    hits = []
    for key, (where, adding) in recipients.items():
        seen = usage.recipients.get(key)
        already = seen.count if seen else 0
        if already + adding > rule.count:
            allowed_at = (seen.oldest + rule.seconds) if seen else now
            hits.append(
                LimitHit(
                    "max_messages_per_recipient",
                    f"{where}: this recipient already had {already} message(s) in the window; the server allows "
                    f"{rule.label} (--max-messages-per-recipient); the next one may go at {_iso(allowed_at)}",
                    {
                        "where": where,
                        "sent_in_window": already,
                        "rule": rule.label,
                        "next_allowed_at": _iso(allowed_at),
                    },
                )
            )
    return hits


@lru_cache(maxsize=4096)
def zones_of(number: str) -> tuple[str, ...]:
    """The time zones a number's region spans (phonenumbers' geocoding data); empty when unknown."""
    import phonenumbers
    from phonenumbers import timezone

    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ()
    return tuple(z for z in timezone.time_zones_for_number(parsed) if z != UNKNOWN_ZONE)


def check_quiet_hours(limits: Limits, targets: Iterable[PhoneTarget]) -> list[LimitHit]:
    quiet = limits.quiet_hours
    if quiet is None:
        return []
    from zoneinfo import ZoneInfo

    hits = []
    for target in targets:
        zones = zones_of(target.number)
        if not zones:
            hits.append(
                LimitHit(
                    "quiet_hours",
                    f"{target.where}: the recipient's time zone is unknown, so quiet hours ({quiet.label}) cannot be "
                    "checked",
                    {"where": target.where},
                )
            )
            continue
        inside: list[tuple[str, datetime, datetime]] = []
        for zone in zones:
            local = datetime.fromtimestamp(target.at, ZoneInfo(zone))
            if quiet.contains(local.time()):
                inside.append((zone, local, quiet.ends_after(local)))
        if not inside:
            continue
        zone, local, _ = inside[0]
        ends = max(end.timestamp() for _, _, end in inside)
        also = f" (and {len(inside) - 1} other zone(s) of its region)" if len(inside) > 1 else ""
        hits.append(
            LimitHit(
                "quiet_hours",
                f"{target.where}: it would be {local:%H:%M} on {local:%a %d %b} in {zone}{also}, inside the quiet "
                f"hours {quiet.label} (--quiet-hours); they end at {_iso(ends)}. Schedule it for then or later",
                {
                    "where": target.where,
                    "local_time": local.isoformat(timespec="minutes"),
                    "zone": zone,
                    "quiet_hours": quiet.label,
                    "ends_at": _iso(ends),
                },
            )
        )
    return hits


@dataclass(frozen=True)
class SendFacts:
    """What the limits need to know about one send, with recipients already reduced to keyed hashes."""

    cost: int | None
    currency: str | None
    recipients: Mapping[str, tuple[str, int]]
    phones: Sequence[PhoneTarget] = ()


def decide(limits: Limits, usage: Usage, facts: SendFacts, periods: Periods, now: float) -> list[LimitHit]:
    """Every limit this send would meet; empty means it may go."""
    return [
        *check_quiet_hours(limits, facts.phones),
        *check_budgets(limits, usage, facts.cost, facts.currency, periods),
        *check_recipients(limits, usage, facts.recipients, now),
    ]
