"""Bounding what clients can hold open on the HTTP transports: a deadline for request heads and a connection cap.

uvicorn (0.3x-0.5x) has neither: a connection that never finishes its request head is kept forever (its
keep-alive timer starts only after a first response), and `limit_concurrency` answers 503 only once a head has
arrived, so half-sent requests pile up until the process runs out of file descriptors. This module gives uvicorn
an h11 protocol that closes a connection whose head has not arrived within the deadline, and that, at the cap,
makes room by closing the connection that has waited longest for its head (or refuses the new one when every
connection is busy with a request), so a flood of half-sent requests cannot starve /healthz or real clients.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("clicksend_mcp.connections")

BACKLOG = 128  # the listen queue; asyncio also accepts up to this many sockets per wake-up
# Descriptors kept free beyond the cap: the listener, logs and connections to ClickSend (64), and sockets accepted
# in the loop turns before their protocol can count them (asyncio accepts a backlog's worth per turn, and a
# connection is counted two or three turns after its accept).
FD_RESERVE = 64 + 3 * BACKLOG


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float = 10.0
    max_connections: int = 1000


def fit_to_descriptors(wanted: int) -> int:
    """The connection cap the process can honour: raise the soft descriptor limit toward the hard one if needed,
    and lower the cap (saying so) when even that is too small, so accept() never fails with EMFILE."""
    try:
        import resource
    except ImportError:  # not on POSIX: nothing to fit
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < needed:
        fitted = max(1, soft - FD_RESERVE)
        log.warning(
            "only %d file descriptors are allowed (ulimit -n): serving at most %d connections, not %d",
            soft,
            fitted,
            wanted,
        )
        return fitted
    return wanted


def guarded_h11(limits: ConnectionLimits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a request-head deadline and a cap on open connections (pass as Config(http=...))."""

    class GuardedH11Protocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None
        _waiting_since: float | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections and not self._make_room():
                log.warning("refusing a connection: %d are open and none is idle", len(self.connections) - 1)
                self.connections.discard(self)
                transport.abort()
                return
            self._await_head()

        def _make_room(self) -> bool:
            """Close the connection that has waited longest for a request head; False when none is waiting."""
            # The server's set also holds other protocols (websockets): only ours wait for a head.
            waiting = [
                (c._waiting_since, c)
                for c in self.connections
                if c is not self and isinstance(c, GuardedH11Protocol) and c._waiting_since is not None
            ]
            if not waiting:
                return False
            _, oldest = min(waiting, key=lambda pair: pair[0])
            log.info("connection cap reached: closing the connection that waited longest for its request")
            oldest._drop()
            return True

        def _await_head(self) -> None:
            self._cancel_head_timer()
            self._waiting_since = time.monotonic()
            self._head_timer = self.loop.call_later(limits.header_timeout, self._head_timed_out)

        def _cancel_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if self._waiting_since is not None:
                log.info("closing a connection that sent no complete request head in %gs", limits.header_timeout)
                self._drop()

        def _drop(self) -> None:
            self._cancel_head_timer()
            self._waiting_since = None
            self.connections.discard(self)  # counted out now; connection_lost follows on the next loop turn
            self.transport.abort()

        def handle_events(self) -> None:
            super().handle_events()
            # A complete head moves the client's side out of IDLE: the request now runs under the app's own limits.
            if self._waiting_since is not None and self.conn.their_state is not h11.IDLE:
                self._waiting_since = None
                self._cancel_head_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._await_head()  # a kept-alive connection waits for its next head under the same deadline

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            self._waiting_since = None
            super().connection_lost(exc)

    return GuardedH11Protocol
