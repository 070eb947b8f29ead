"""A reusable in-memory table of JSON records keyed by a numeric id, a UUID or a given key, with ClickSend 404s."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

from .envelope import not_found

Record = dict[str, Any]
Key = int | str

PRIVATE_PREFIX = "__"  # fields kept for the sandbox's own bookkeeping, never shown


def public(record: Record) -> Record:
    """The record without its private (`__`-prefixed) fields."""
    return {name: value for name, value in record.items() if not name.startswith(PRIVATE_PREFIX)}


class Collection:
    """Records in insertion order.

    By default `id_field` is assigned from a counter starting at `first_id`; with `uuid_ids` it is a fresh lowercase
    UUID (ClickSend's newer endpoints: alpha tags, own numbers, default senders). `add(record, key=...)` stores a
    record under a key it already has (e.g. a dedicated number).
    """

    def __init__(self, id_field: str, label: str, first_id: int = 1, *, uuid_ids: bool = False) -> None:
        self.id_field = id_field
        self.label = label  # used in messages: "Template #12 not found."
        self.uuid_ids = uuid_ids
        self._next_id = first_id
        self._items: dict[Key, Record] = {}

    @property
    def next_id(self) -> int:
        return self._next_id

    def keyed(self) -> dict[Key, Record]:
        """The records by key, in insertion order (for saving the state)."""
        return self._items

    @classmethod
    def restored(cls, settings: dict[str, Any], items: dict[Key, Record]) -> Collection:
        """A collection saved as `{"id_field", "label", "uuid_ids", "next_id"}` plus its keyed records."""
        found = cls(settings["id_field"], settings["label"], settings["next_id"], uuid_ids=bool(settings["uuid_ids"]))
        found._items = dict(items)
        return found

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

    def _new_key(self) -> Key:
        if self.uuid_ids:
            return str(uuid.uuid4())
        record_id = self._next_id
        self._next_id += 1
        return record_id

    def add(self, record: Record, key: Key | None = None) -> Record:
        """Store a new record under a fresh id, or under `key` (put first, so responses lead with it)."""
        record_id = self._new_key() if key is None else key
        stored = {self.id_field: record_id, **{k: v for k, v in record.items() if k != self.id_field}}
        self._items[record_id] = stored
        return stored

    def key_of(self, raw: str) -> Key | None:
        """The key a path segment names: digits for counter ids, the string itself otherwise; None if impossible."""
        if self.uuid_ids:
            return raw.strip().lower()
        if raw.isdigit():
            return int(raw)
        return raw if raw in self._items else None

    def lookup(self, raw: str) -> Record:
        """The record a path segment names, or 404 NOT_FOUND."""
        key = self.key_of(raw)
        if key is None:
            raise not_found(f"{self.label} #{raw} not found.")
        return self.require(key)

    def get(self, record_id: Key) -> Record | None:
        return self._items.get(record_id)

    def require(self, record_id: Key) -> Record:
        """The record, or 404 NOT_FOUND."""
        found = self._items.get(record_id)
        if found is None:
            raise not_found(f"{self.label} #{record_id} not found.")
        return found

    def update(self, record_id: Key, changes: Record) -> Record:
        record = self.require(record_id)
        record.update({k: v for k, v in changes.items() if k != self.id_field})
        return record

    def remove(self, record_id: Key) -> Record:
        record = self.require(record_id)
        del self._items[record_id]
        return record
