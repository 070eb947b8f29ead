"""When a failed request is tried again: reads and idempotent writes on transient failures, sends only when the
request provably never left. Bounded exponential backoff with jitter; Retry-After is honoured."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .http import HttpResponse, TransportFailure

if TYPE_CHECKING:
    from tenacity import RetryCallState

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


def _retryable(outcome: HttpResponse | TransportFailure, idempotent: bool, policy: RetryPolicy) -> bool:
    if isinstance(outcome, TransportFailure):
        # A send is tried again only when the request provably never reached ClickSend.
        return idempotent or not outcome.may_have_arrived
    if not idempotent or outcome.status not in RETRY_STATUSES:
        return False
    after = _retry_after(outcome)
    return after is None or after <= policy.max_wait


async def send_with_retries(
    send: Callable[[], Awaitable[HttpResponse]], *, idempotent: bool, policy: RetryPolicy
) -> HttpResponse:
    """The response of the last attempt; raises the last TransportFailure when no attempt got a response."""
    # The first attempt runs bare: most calls succeed, and building the retry machinery costs more than the call.
    try:
        first: HttpResponse | TransportFailure = await send()
    except TransportFailure as failure:
        first = failure
    if policy.attempts <= 1 or not _retryable(first, idempotent, policy):
        if isinstance(first, TransportFailure):
            raise first
        return first
    return await _retry(send, first, idempotent=idempotent, policy=policy)


async def _retry(
    send: Callable[[], Awaitable[HttpResponse]],
    first: HttpResponse | TransportFailure,
    *,
    idempotent: bool,
    policy: RetryPolicy,
) -> HttpResponse:
    from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential_jitter

    backoff = wait_exponential_jitter(multiplier=policy.initial_wait, max=policy.max_wait, jitter=policy.initial_wait)
    pending: list[HttpResponse | TransportFailure] = [first]  # the first attempt's outcome, replayed once

    def should_retry(state: RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None:
            return False
        if outcome.failed:
            failure = outcome.exception()
            return isinstance(failure, TransportFailure) and _retryable(failure, idempotent, policy)
        return _retryable(outcome.result(), idempotent, policy)

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
            else type(outcome.exception()).__name__
            if outcome is not None
            else "?"
        )
        sleep = state.next_action.sleep if state.next_action else 0.0
        log.info("retry attempt=%d after=%s wait_s=%.2f", state.attempt_number + 1, what, sleep)

    async def attempt() -> HttpResponse:
        # A coroutine function, not a lambda returning a coroutine: tenacity decides how to call it by its type.
        if pending:
            outcome = pending.pop()
            if isinstance(outcome, TransportFailure):
                raise outcome
            return outcome
        return await send()

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        retry=should_retry,
        before_sleep=before_sleep,
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        reraise=True,
    )
    return await retrying(attempt)
