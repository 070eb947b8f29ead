"""Smaller results: list items without their null and empty fields (unless asked to keep them), and only the
fields asked for. Pure functions over a result's data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_EMPTY: tuple[Any, ...] = (None, "", [], {})


def _items(data: Any) -> list[Any] | None:
    """The items of a list answer: data itself, or data.data on a page."""
    if isinstance(data, list):
        return data
    items = data.get("data") if isinstance(data, dict) else None
    return items if isinstance(items, list) else None


def _drop_empty(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    return {k: v for k, v in item.items() if not any(v is e or (type(v) is type(e) and v == e) for e in _EMPTY)}


def _pick(item: Any, fields: Sequence[str]) -> Any:
    return {k: item[k] for k in fields if k in item} if isinstance(item, dict) else item


def shape(data: Any, *, fields: Sequence[str] = (), keep_empty: bool = True) -> tuple[Any, list[str]]:
    """(new data, warnings). A list answer's items lose null/empty fields unless keep_empty; `fields` keeps only
    those fields of each item (of the object, for a single-object answer)."""
    warnings: list[str] = []
    items = _items(data)
    if items is not None:
        shaped = [_pick(i, fields) if fields else i for i in items]
        if not keep_empty:
            shaped = [_drop_empty(i) for i in shaped]
        data = shaped if isinstance(data, list) else {**data, "data": shaped}
        seen = {k for i in items if isinstance(i, dict) for k in i}
    elif isinstance(data, dict) and fields:
        seen = set(data)
        data = _pick(data, fields)
    else:
        return data, warnings
    missing = [f for f in fields if f not in seen]
    if missing and seen:
        warnings.append(f"fields: {', '.join(missing)} not in this answer; its fields are {', '.join(sorted(seen))}")
    return data, warnings
