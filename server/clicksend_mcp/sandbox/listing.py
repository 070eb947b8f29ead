"""ClickSend's list conventions: `q`/`operator` search, `order_by`, date ranges and `page`/`limit` pagination."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .call import Call
from .envelope import bad_request

PUBLIC_BASE_URL = "https://rest.clicksend.com/v3"
DEFAULT_LIMIT = 15
MAX_LIMIT = 100

Record = dict[str, Any]


def parse_search(q: str) -> list[tuple[str, str]]:
    """`field:value,field2:value` -> [(field, value), ...]; 400 for a term without a colon."""
    terms: list[tuple[str, str]] = []
    for term in q.split(","):
        if not term.strip():
            continue
        field, sep, value = term.partition(":")
        if not sep or not field.strip():
            raise bad_request(f"Invalid search term {term!r}: use q=field:value,field2:value.")
        terms.append((field.strip(), value.strip()))
    return terms


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def search(items: Iterable[Record], q: str | None, operator: str | None) -> list[Record]:
    """Case-insensitive substring match of each term; AND (default) or OR across terms."""
    items = list(items)
    if not q:
        return items
    terms = [(field, value.lower()) for field, value in parse_search(q)]
    op = (operator or "AND").strip().upper()
    if op not in ("AND", "OR"):
        raise bad_request(f"Invalid operator {operator!r}: use AND or OR.")
    combine = all if op == "AND" else any
    return [item for item in items if combine(value in _text(item.get(field)).lower() for field, value in terms)]


def _sort_key(field: str) -> Callable[[Record], tuple[int, float, str]]:
    def key(item: Record) -> tuple[int, float, str]:
        value = item.get(field)
        if value is None:
            return (2, 0.0, "")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (0, float(value), "")
        text = str(value)
        try:
            number = float(text)
        except ValueError:
            return (1, 0.0, text.lower())
        return (0, number, "") if math.isfinite(number) else (1, 0.0, text.lower())

    return key


def order(items: list[Record], order_by: str | None) -> list[Record]:
    """Sort by `field:asc|desc` (several comma-separated allowed, first is primary); stable."""
    if not order_by:
        return items
    result = list(items)
    clauses = [clause.strip() for clause in order_by.split(",") if clause.strip()]
    for clause in reversed(clauses):
        field, _, direction = clause.partition(":")
        direction = (direction or "asc").strip().lower()
        if direction not in ("asc", "desc"):
            raise bad_request(f"Invalid order_by {clause!r}: use field:asc or field:desc.")
        result.sort(key=_sort_key(field.strip()), reverse=direction == "desc")
    return result


def date_range(items: Iterable[Record], field: str, date_from: int | None, date_to: int | None) -> list[Record]:
    """Items whose integer `field` lies within [date_from, date_to] (either bound optional)."""
    kept: list[Record] = []
    for item in items:
        when = int(item.get(field) or 0)
        if date_from is not None and when < date_from:
            continue
        if date_to is not None and when > date_to:
            continue
        kept.append(item)
    return kept


def page_params(query: Mapping[str, str]) -> tuple[int, int]:
    """(page, limit): page >= 1 (default 1); limit 1..100 (default 15, larger values capped at 100)."""

    def number(name: str, default: int) -> int:
        raw = query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"The {name} parameter must be a positive integer (got {raw!r}).") from None
        return value if value >= 1 else default

    return number("page", 1), min(number("limit", DEFAULT_LIMIT), MAX_LIMIT)


def paginate(items: list[Record], path: str, page: int, limit: int) -> dict[str, Any]:
    """ClickSend's (Laravel's) paginator object for one page of `items`."""
    total = len(items)
    last_page = max(1, math.ceil(total / limit))
    start = (page - 1) * limit
    chunk = items[start : start + limit]
    url = f"{PUBLIC_BASE_URL}{path}?page="
    return {
        "total": total,
        "per_page": limit,
        "current_page": page,
        "last_page": last_page,
        "next_page_url": f"{url}{page + 1}" if page < last_page else None,
        "prev_page_url": f"{url}{page - 1}" if page > 1 else None,
        "from": start + 1 if chunk else None,
        "to": start + len(chunk) if chunk else None,
        "data": chunk,
    }


def listing(
    call: Call,
    items: Iterable[Record],
    *,
    default_order: str | None = None,
    date_field: str | None = None,
) -> dict[str, Any]:
    """Search, date-filter, order and paginate `items` as the call's query asks."""
    query = call.query
    selected = search(items, query.get("q"), query.get("operator"))
    if date_field is not None:
        selected = date_range(selected, date_field, call.int_query("date_from"), call.int_query("date_to"))
    selected = order(selected, query.get("order_by") or default_order)
    page, limit = page_params(query)
    return paginate(selected, call.path, page, limit)


def page_of(call: Call, items: Iterable[Record]) -> dict[str, Any]:
    """Paginate `items` as they are (for endpoints whose `q` is a plain keyword, not field:value)."""
    page, limit = page_params(call.query)
    return paginate(list(items), call.path, page, limit)
