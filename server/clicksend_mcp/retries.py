"""When a failed request is tried again: reads and idempotent writes on transient failures, sends only when the
request provably never left. Bounded exponential backoff with jitter; Retry-After is honoured."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_exponential_jitter

from .http import HttpResponse, TransportFailure

log = logging.getLogger("clicksend_mcp.retries")

RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # in all, the first included
    initial_wait: float = 0.5
    max_wait: float = 10.0


def _retry_after(response: HttpResponse) -> float | None:
    value = response.headers.get("retry-after")
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None


async def send_with_retries(
    send: Callable[[], Awaitable[HttpResponse]], *, idempotent: bool, policy: RetryPolicy
) -> HttpResponse:
    """The response of the last attempt; raises the last TransportFailure when no attempt got a response."""
    backoff = wait_exponential_jitter(multiplier=policy.initial_wait, max=policy.max_wait, jitter=policy.initial_wait)

    def should_retry(state: RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None:
            return False
        if outcome.failed:
            failure = outcome.exception()
            if not isinstance(failure, TransportFailure):
                return False
            # A send is tried again only when the request provably never reached ClickSend.
            return idempotent or not failure.may_have_arrived
        response = outcome.result()
        if not idempotent or response.status not in RETRY_STATUSES:
            return False
        after = _retry_after(response)
        return after is None or after <= policy.max_wait

    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            after = _retry_after(outcome.result())
            if after is not None:
                return after
        return float(backoff(state))

    def before_sleep(state: RetryCallState) -> None:
        outcome = state.outcome
        what = (
            f"status {outcome.result().status}"
            if outcome is not None and not outcome.failed
            else type(outcome.exception()).__name__ if outcome is not None else "?"
        )
        sleep = state.next_action.sleep if state.next_action else 0.0
        log.info("retry attempt=%d after=%s wait_s=%.2f", state.attempt_number + 1, what, sleep)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(1, policy.attempts)),
        wait=wait,
        retry=should_retry,
        before_sleep=before_sleep,
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,  # type: ignore[return-value,union-attr]
        reraise=True,
    )
    async def attempt() -> HttpResponse:
        # A coroutine function, not a lambda returning a coroutine: tenacity decides how to call it by its type.
        return await send()

    return await retrying(attempt)
