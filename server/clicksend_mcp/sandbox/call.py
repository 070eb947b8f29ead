"""One request as a handler sees it: path parameters, query, JSON body, caller, clock, state; checked accessors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .envelope import bad_request, missing_fields, not_found

if TYPE_CHECKING:
    from .auth import Caller
    from .state import SandboxState


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class Call:
    """Everything a handler needs; handlers are plain synchronous functions of a Call."""

    method: str
    path: str  # relative to /v3, e.g. "/lists/12/contacts"
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any  # parsed JSON, or None when the request had no body
    caller: Caller
    state: SandboxState
    now: int  # Unix seconds

    def id_param(self, name: str, label: str) -> int:
        """A numeric path id; anything else is an unknown resource (404)."""
        raw = self.params[name]
        if not raw.isdigit():
            raise not_found(f"{label} #{raw} not found.")
        return int(raw)

    def json_object(self, *, required: bool = False) -> dict[str, Any]:
        """The body as a JSON object ({} when absent, unless `required`)."""
        if self.body is None:
            if required:
                raise bad_request("The request body must be a JSON object.")
            return {}
        if not isinstance(self.body, dict):
            raise bad_request("The request body must be a JSON object.")
        return self.body

    def require(self, body: Mapping[str, Any], *names: str) -> None:
        """400 MISSING_REQUIRED_FIELDS naming each of `names` that is absent or blank."""
        missing = [name for name in names if _blank(body.get(name))]
        if missing:
            raise missing_fields(*missing)

    def require_any(self, body: Mapping[str, Any], *names: str) -> None:
        """400 MISSING_REQUIRED_FIELDS unless at least one of `names` is present and not blank."""
        if all(_blank(body.get(name)) for name in names):
            raise missing_fields(" or ".join(names))

    def int_query(self, name: str) -> int | None:
        """An optional integer query parameter; 400 BAD_REQUEST when it is not an integer."""
        raw = self.query.get(name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise bad_request(f"The {name} parameter must be an integer (got {raw!r}).") from None
