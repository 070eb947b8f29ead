"""A reusable in-memory table of JSON records keyed by a numeric id, with ClickSend-style 404s."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .envelope import not_found

Record = dict[str, Any]


class Collection:
    """Records in insertion order; `id_field` is assigned from a counter starting at `first_id`."""

    def __init__(self, id_field: str, label: str, first_id: int = 1) -> None:
        self.id_field = id_field
        self.label = label  # used in messages: "Template #12 not found."
        self._next_id = first_id
        self._items: dict[int, Record] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Record]:
        return iter(list(self._items.values()))

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._items

    def all(self) -> list[Record]:
        return list(self._items.values())

    def where(self, predicate: Callable[[Record], bool]) -> list[Record]:
        return [item for item in self._items.values() if predicate(item)]

    def add(self, record: Record) -> Record:
        """Store a new record under a fresh id (put first, so responses lead with it)."""
        record_id = self._next_id
        self._next_id += 1
        stored = {self.id_field: record_id, **{k: v for k, v in record.items() if k != self.id_field}}
        self._items[record_id] = stored
        return stored

    def get(self, record_id: int) -> Record | None:
        return self._items.get(record_id)

    def require(self, record_id: int) -> Record:
        """The record, or 404 NOT_FOUND."""
        found = self._items.get(record_id)
        if found is None:
            raise not_found(f"{self.label} #{record_id} not found.")
        return found

    def update(self, record_id: int, changes: Record) -> Record:
        record = self.require(record_id)
        record.update({k: v for k, v in changes.items() if k != self.id_field})
        return record

    def remove(self, record_id: int) -> Record:
        record = self.require(record_id)
        del self._items[record_id]
        return record
