"""Running an HTTP transport under uvicorn, and a graceful stop: in-flight calls finish before streams close."""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import anyio

from ..dispatcher import Dispatcher
from ..settings import ConfigError
from .connections import BACKLOG, ConnectionLimits, fit_to_descriptors, guarded_h11

log = logging.getLogger("clicksend_mcp")

ABANDON_WAIT = 5  # seconds abandoned calls get to write their answers


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    log_level: str = "info"
    shutdown_grace: float = 30.0
    header_timeout: float = 10.0
    max_connections: int = 1000
    listener: socket.socket | None = None  # bound by bind_listener; uvicorn binds host:port itself when None


def bind_listener(host: str, port: int) -> socket.socket:
    """A bound, listening socket for uvicorn, or ConfigError naming the address and what to do.

    Binding before anything starts makes a taken port one clear line, not uvicorn's traceback after start-up."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror:
        raise ConfigError(f"cannot listen on {host}: no such address; set another with --host") from None
    sock = socket.socket(family, kind, proto)
    # Like uvicorn: a port left in TIME_WAIT by a previous run can be reused, one that is listening cannot.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(BACKLOG)  # asyncio accepts this many per loop turn: the descriptor reserve counts on it
    except OSError as exc:
        sock.close()
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"{where} is already in use; choose another port with --port") from None
        if exc.errno == errno.EACCES:
            raise ConfigError(f"not allowed to listen on {where}; choose a port above 1023 with --port") from None
        raise ConfigError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    return sock


async def serve_http(app: Any, dispatcher: Dispatcher, options: ServeOptions) -> None:
    """Serve an ASGI app until SIGINT/SIGTERM; then stop accepting and let in-flight calls finish (up to the grace)."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_level=options.log_level,
        log_config=None,
        lifespan="on",
        # uvicorn cancels what is left a little after our grace: by then abandoned calls have answered.
        timeout_graceful_shutdown=int(options.shutdown_grace) + ABANDON_WAIT + 1,
        # Our h11 protocol: a deadline for request heads and a connection cap (see connections.py).
        backlog=BACKLOG,
        http=guarded_h11(ConnectionLimits(options.header_timeout, fit_to_descriptors(options.max_connections))),
    )

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if sockets and self.started:
                # uvicorn announces only the sockets it bound itself; say the same for the one bound beforehand.
                host, port = sockets[0].getsockname()[:2]
                shown = f"[{host}]" if ":" in host else host
                logging.getLogger("uvicorn.error").info(
                    "Uvicorn running on http://%s:%d (Press CTRL+C to quit)", shown, port
                )

    server = Server(config)
    hold_streams_on_shutdown()
    async with anyio.create_task_group() as tg:
        tg.start_soon(drain, dispatcher, lambda: server.should_exit, options.shutdown_grace)
        await server.serve(sockets=[options.listener] if options.listener is not None else None)
        tg.cancel_scope.cancel()


def hold_streams_on_shutdown() -> None:
    """Keep SSE response streams open when a shutdown signal arrives, so in-flight calls can still answer.

    sse-starlette otherwise ends every stream the moment uvicorn sees SIGTERM; `release_streams` ends them once
    the calls are done."""
    from sse_starlette.sse import AppStatus

    AppStatus.disable_automatic_graceful_drain()


def release_streams() -> None:
    from sse_starlette.sse import AppStatus

    AppStatus.should_exit = True


async def drain(dispatcher: Dispatcher, shutting_down: Callable[[], bool], grace: float) -> None:
    """After a shutdown signal: let in-flight calls finish (up to `grace` seconds), then release the streams."""
    while not shutting_down():
        await anyio.sleep(0.1)  # uvicorn itself checks for its exit flag at this pace
    log.info("shutting down: %d call(s) in flight", dispatcher.in_flight)
    await finish_calls(dispatcher, grace)
    release_streams()


async def finish_calls(dispatcher: Dispatcher, grace: float) -> None:
    """Let in-flight calls finish for `grace` seconds; then abandon the rest, so each still answers its client
    (OUTCOME_UNKNOWN for a send) instead of having its stream closed under it."""
    with anyio.move_on_after(grace):
        await dispatcher.wait_idle()
    if dispatcher.in_flight:
        log.warning("shutdown grace over: answering %d call(s) still waiting on ClickSend", dispatcher.in_flight)
        dispatcher.abandon()
        with anyio.move_on_after(ABANDON_WAIT):
            await dispatcher.wait_idle()
    await anyio.sleep(0.2)  # let the last answers reach their sockets


@contextlib.asynccontextmanager
async def closing(dispatcher: Dispatcher) -> AsyncIterator[Dispatcher]:
    try:
        yield dispatcher
    finally:
        await dispatcher.aclose()
