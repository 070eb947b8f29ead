"""What the dispatcher reports about calls as they run (for metrics): a small interface with a do-nothing default,
so nothing below the transports knows how the numbers are kept."""

from __future__ import annotations

from typing import Any, Protocol

# Codes a call ends with when the server stopped it before anything was sent: counted as refusals, by reason.
REFUSAL_CODES = frozenset(
    {
        "INVALID_ARGUMENTS",
        "REFUSED",
        "NOT_CONFIRMED",
        "UNKNOWN_TOOL",
        "MISSING_CREDENTIALS",
        "INVALID_CREDENTIALS_HEADER",
    }
)


def outcome_of(result: dict[str, Any]) -> str:
    """success, refused (nothing was sent) or error (ClickSend or the way there failed)."""
    if result.get("successful"):
        return "success"
    return "refused" if result.get("error_code") in REFUSAL_CODES else "error"


class CallObserver(Protocol):
    def call_started(self) -> None: ...

    def call_ended(self) -> None: ...

    def call_finished(
        self, tool: str, backend: str, tenant: str | None, result: dict[str, Any], *, sent: bool
    ) -> None: ...

    def upstream_answered(self, backend: str, seconds: float) -> None: ...

    def retried(self, backend: str, count: int) -> None: ...


class NoObserver:
    """The default: nothing is kept."""

    def call_started(self) -> None:
        pass

    def call_ended(self) -> None:
        pass

    def call_finished(self, tool: str, backend: str, tenant: str | None, result: dict[str, Any], *, sent: bool) -> None:
        pass

    def upstream_answered(self, backend: str, seconds: float) -> None:
        pass

    def retried(self, backend: str, count: int) -> None:
        pass
