"""The route table: (method, path template) -> handler, matched most-specific-first, with ClickSend's 404/405."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .envelope import SandboxError

if TYPE_CHECKING:
    from .call import Call
    from .envelope import Reply

Handler = Callable[["Call"], "Reply"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Route:
    """One endpoint: `path` is relative to /v3 and may hold `{placeholders}` (one path segment each)."""

    method: str
    path: str
    handler: Handler
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    static_segments: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pieces: list[str] = []
        last = 0
        for found in _PLACEHOLDER.finditer(self.path):
            pieces.append(re.escape(self.path[last : found.start()]))
            pieces.append(f"(?P<{found.group(1)}>[^/]+)")
            last = found.end()
        pieces.append(re.escape(self.path[last:]))
        object.__setattr__(self, "pattern", re.compile("^" + "".join(pieces) + "$"))
        statics = sum(1 for part in self.path.strip("/").split("/") if not _PLACEHOLDER.fullmatch(part))
        object.__setattr__(self, "static_segments", statics)
        object.__setattr__(self, "method", self.method.upper())


def route(method: str, path: str) -> Callable[[Handler], Route]:
    """Decorator form: `@route("GET", "/lists/{list_id}")` turns a handler into a Route."""

    def wrap(handler: Handler) -> Route:
        return Route(method, path, handler)

    return wrap


class Router:
    """Matches a method and a /v3-relative path against the table."""

    def __init__(self, routes: Iterable[Route] = ()) -> None:
        self._routes: list[Route] = []
        self._seen: set[tuple[str, str]] = set()
        for item in routes:
            self.add(item)

    def add(self, item: Route) -> None:
        key = (item.method, item.path)
        if key in self._seen:
            raise ValueError(f"duplicate sandbox route {item.method} {item.path}")
        self._seen.add(key)
        self._routes.append(item)
        # Most static segments first, so /sms/cancel-all wins over /sms/{message_id}.
        self._routes.sort(key=lambda r: -r.static_segments)

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(self._routes)

    def match(self, method: str, path: str, shown: str | None = None) -> tuple[Route, dict[str, str]]:
        """The route and its path parameters; 404 NOT_FOUND for an unknown path, 405 for a wrong method.

        `shown` is the path as the caller wrote it, for the error message.
        """
        method = method.upper()
        shown = shown or path
        allowed: list[str] = []
        for item in self._routes:
            found = item.pattern.match(path)
            if found is None:
                continue
            if item.method == method:
                return item, found.groupdict()
            allowed.append(item.method)
        if allowed:
            raise SandboxError(
                405, f"Method {method} is not allowed on {shown}.", data={"allowed": sorted(set(allowed))}
            )
        raise SandboxError(404, f"The requested URL {shown} was not found.")
