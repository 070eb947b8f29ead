"""Times an agent may write: inputs marked `format: unix-time` take Unix seconds, ISO 8601 with an offset, or a
local date-time with an IANA zone; each is converted to Unix seconds before the call, and the result says which."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UNIX_TIME = "unix-time"  # the spec-schema marker the compiler recognises
INCLUSIVE_SUFFIX = "_inclusive"
ACCEPTED = (
    "Unix seconds, ISO 8601 with an offset (2026-12-01T09:00:00+11:00) or a date-time with an IANA zone "
    "(2026-12-01 09:00 Australia/Sydney)"
)
_ZONED = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?::\d{2})?)\s+([A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+|UTC)$")


class TimeValueError(ValueError):
    def __init__(self, field: str, value: Any) -> None:
        self.field = field
        super().__init__(f"{field}: expected {ACCEPTED}; got {value!r}")


def to_unix(value: Any, field: str) -> int:
    """Unix seconds from any accepted form; TimeValueError naming the field otherwise."""
    if isinstance(value, bool):
        raise TimeValueError(field, value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, str) or not value.strip():
        raise TimeValueError(field, value)
    text = value.strip()
    if text.isascii() and text.isdigit():  # str.isdigit alone takes '²' and other non-ASCII digits
        return int(text)
    zoned = _ZONED.match(text)
    if zoned:
        day, clock, zone = zoned.groups()
        try:
            tz = ZoneInfo(zone)
            local = datetime.fromisoformat(f"{day}T{clock if clock.count(':') == 2 else clock + ':00'}")
        except (ZoneInfoNotFoundError, ValueError):
            raise TimeValueError(field, value) from None
        return int(local.replace(tzinfo=tz).timestamp())
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise TimeValueError(field, value) from None
    if parsed.tzinfo is None:
        raise TimeValueError(field, value)  # a time without an offset or zone is ambiguous
    return int(parsed.timestamp())


def utc_text(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class TimeField:
    """Where a unix-time input sits: `path` as in guard paths (messages[].schedule)."""

    path: tuple[tuple[str, bool], ...]
    inclusive_of: str | None = None  # for `date_before_inclusive`: the exclusive input it stands for

    @property
    def label(self) -> str:
        return ".".join(f"{n}[]" if each else n for n, each in self.path)


def time_fields(schema: dict[str, Any], prefix: tuple[tuple[str, bool], ...] = ()) -> Iterator[TimeField]:
    """Every input of a spec schema marked `format: unix-time` (top level, in objects, in array items)."""
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if prop.get("format") == UNIX_TIME:
            yield TimeField((*prefix, (name, False)))
        elif prop.get("type") == "object":
            yield from time_fields(prop, (*prefix, (name, False)))
        elif prop.get("type") == "array" and isinstance(prop.get("items"), dict):
            yield from time_fields(prop["items"], (*prefix, (name, True)))


def publish(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema an agent sees for a unix-time input: an integer or a string in an accepted form."""
    out = {k: v for k, v in schema.items() if k not in ("format", "type", "minimum")}
    out["type"] = ["integer", "string"]
    if "minimum" in schema:
        out["minimum"] = schema["minimum"]  # applies to integers only
    return out


def _walk(node: Any, path: tuple[tuple[str, bool], ...], where: str) -> Iterator[tuple[dict[str, Any], str, str]]:
    """(holder, key, location) for each present value at `path`."""
    (name, each), rest = path[0], path[1:]
    if not isinstance(node, dict) or name not in node:
        return
    here = f"{where}.{name}" if where else name
    if not rest:
        yield node, name, here
        return
    value = node[name]
    if each:
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from _walk(item, rest, f"{here}[{index}]")
    else:
        yield from _walk(value, rest, here)


def convert(arguments: dict[str, Any], fields: tuple[TimeField, ...]) -> dict[str, str]:
    """Replace each time in `arguments` (in place) by Unix seconds; {location: UTC time used} for those given as
    text or as an inclusive bound. Raises TimeValueError naming the field."""
    used: dict[str, str] = {}
    for field in fields:
        for holder, key, where in list(_walk(arguments, field.path, "")):
            value = holder[key]
            if value is None:
                continue
            seconds = to_unix(value, where)
            if field.inclusive_of is not None:
                # `date_before` is exclusive at ClickSend: one second later includes a message at exactly this time.
                del holder[key]
                holder[field.inclusive_of] = seconds + 1
                used[where] = f"{utc_text(seconds)} ({seconds}); sent as {field.inclusive_of}={seconds + 1}"
                continue
            holder[key] = seconds
            if not isinstance(value, int):
                used[where] = f"{utc_text(seconds)} ({seconds})"
    return used
