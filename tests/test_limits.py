"""The limits as pure decisions: reading the settings, budgets, contact windows and quiet hours in each zone."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from clicksend_mcp.limits import (
    Limits,
    LimitSyntaxError,
    Periods,
    PhoneTarget,
    QuietHours,
    RecipientLimit,
    RecipientUsage,
    SendFacts,
    Usage,
    check_budgets,
    check_quiet_hours,
    check_recipients,
    decide,
    to_micros,
)

NEW_YORK_NUMBER = "+12015550123"  # one zone: America/New_York
AU_MOBILE = "+61411111111"  # every Australian zone, from the Cocos Islands (UTC+6:30) to Lord Howe (UTC+10:30)


def at(year: int, month: int, day: int, hour: int, minute: int, zone: str) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).timestamp()


@pytest.mark.parametrize(
    ("text", "count", "seconds", "label"),
    [("3/day", 3, 86_400, "3/day"), ("10 / week", 10, 604_800, "10/week"), ("1/2hours", 1, 7200, "1/2hours")],
)
def test_a_recipient_limit_reads_count_and_window(text: str, count: int, seconds: int, label: str) -> None:
    assert RecipientLimit.parse(text) == RecipientLimit(count, seconds, label)


@pytest.mark.parametrize("text", ["3", "3/fortnight", "0/day", "day/3"])
def test_an_unreadable_recipient_limit_says_what_is_expected(text: str) -> None:
    with pytest.raises(LimitSyntaxError, match="expected COUNT/WINDOW such as 3/day"):
        RecipientLimit.parse(text)


@pytest.mark.parametrize("text", ["21:00", "25:00-08:00", "21:00-21:00", "9pm-8am"])
def test_unreadable_quiet_hours_are_refused(text: str) -> None:
    with pytest.raises(LimitSyntaxError, match="quiet-hours"):
        QuietHours.parse(text)


def test_quiet_hours_that_cross_midnight_contain_the_night_and_not_the_day() -> None:
    quiet = QuietHours.parse("21:00-08:00")
    assert quiet is not None
    inside = [datetime(2026, 1, 1, h, m).time() for h, m in ((21, 0), (23, 59), (0, 0), (7, 59))]
    outside = [datetime(2026, 1, 1, h, m).time() for h, m in ((8, 0), (12, 0), (20, 59))]
    assert all(quiet.contains(t) for t in inside)
    assert not any(quiet.contains(t) for t in outside)


def test_a_message_at_night_in_the_recipients_zone_is_refused_with_local_time_and_end() -> None:
    limits = Limits(quiet_hours=QuietHours.parse("21:00-08:00"))
    when = at(2026, 6, 15, 23, 10, "America/New_York")
    [hit] = check_quiet_hours(limits, [PhoneTarget("messages[0].to", NEW_YORK_NUMBER, when)])
    assert hit.limit == "quiet_hours"
    assert "it would be 23:10 on Mon 15 Jun in America/New_York" in hit.message
    assert hit.details["ends_at"] == "2026-06-16T12:00:00Z"  # 08:00 EDT


def test_the_same_moment_is_fine_for_a_recipient_where_it_is_day() -> None:
    limits = Limits(quiet_hours=QuietHours.parse("21:00-08:00"))
    when = at(2026, 6, 15, 23, 10, "America/New_York")  # 13:10 in Sydney, 10:10 on Christmas Island
    assert check_quiet_hours(limits, [PhoneTarget("messages[0].to", AU_MOBILE, when)]) == []


def test_a_region_with_several_zones_is_refused_if_any_is_inside_and_waits_for_the_last() -> None:
    limits = Limits(quiet_hours=QuietHours.parse("21:00-08:00"))
    when = at(2026, 6, 15, 9, 30, "Australia/Sydney")  # 06:00 on the Cocos Islands, 07:30 in Perth
    [hit] = check_quiet_hours(limits, [PhoneTarget("messages[0].to", AU_MOBILE, when)])
    assert "other zone(s) of its region" in hit.message
    # The Cocos Islands (UTC+6:30) are the last of its zones to reach 08:00: 01:30 UTC.
    assert hit.details["ends_at"] == "2026-06-15T01:30:00Z"


def test_budgets_refuse_what_does_not_fit_and_say_what_is_left_and_when_it_resets() -> None:
    limits = Limits(max_spend_per_day=Decimal("1.00"), max_spend_per_month=Decimal("50"))
    now = at(2026, 6, 15, 12, 0, "UTC")
    periods = Periods.at(now, limits)
    usage = Usage(spent_today=to_micros("0.95"), spent_this_month=to_micros("10"))
    [hit] = check_budgets(limits, usage, to_micros("0.077"), "AUD", periods)
    assert hit.limit == "max_spend_per_day"
    assert hit.details == {
        "quoted": "0.0770",
        "remaining": "0.0500",
        "currency": "AUD",
        "resets_at": "2026-06-16T00:00:00Z",
    }
    assert check_budgets(limits, usage, to_micros("0.05"), "AUD", periods) == []


def test_the_monthly_budget_resets_on_the_first_of_the_next_month() -> None:
    limits = Limits(max_spend_per_month=Decimal("5"))
    periods = Periods.at(at(2026, 12, 31, 23, 0, "UTC"), limits)
    [hit] = check_budgets(limits, Usage(spent_this_month=to_micros(5)), 1, None, periods)
    assert hit.details["resets_at"] == "2027-01-01T00:00:00Z"


def test_with_a_budget_an_unquotable_send_is_refused() -> None:
    limits = Limits(max_spend_per_day=Decimal("1"))
    [hit] = check_budgets(limits, Usage(), None, None, Periods.at(0, limits))
    assert "could not quote" in hit.message


def test_a_recipient_over_the_window_limit_is_refused_with_the_next_allowed_time() -> None:
    limits = Limits(per_recipient=RecipientLimit.parse("3/day"))
    now = at(2026, 6, 15, 12, 0, "UTC")
    usage = Usage(recipients={"r1": RecipientUsage(3, now - 3600), "r2": RecipientUsage(2, now - 60)})
    [hit] = check_recipients(limits, usage, {"r1": ("messages[0].to", 1), "r2": ("messages[1].to", 1)}, now)
    assert hit.details["where"] == "messages[0].to"
    assert hit.details["next_allowed_at"] == "2026-06-16T11:00:00Z"


def test_decide_lists_every_limit_a_send_meets() -> None:
    limits = Limits(
        max_spend_per_day=Decimal("0.01"),
        per_recipient=RecipientLimit.parse("1/day"),
        quiet_hours=QuietHours.parse("21:00-08:00"),
    )
    now = at(2026, 6, 15, 23, 0, "America/New_York")
    facts = SendFacts(
        to_micros("0.028"), "USD", {"r": ("messages[0].to", 1)}, [PhoneTarget("messages[0].to", NEW_YORK_NUMBER, now)]
    )
    usage = Usage(recipients={"r": RecipientUsage(1, now - 10)})
    hits = decide(limits, usage, facts, Periods.at(now, limits), now)
    assert [h.limit for h in hits] == ["quiet_hours", "max_spend_per_day", "max_messages_per_recipient"]
