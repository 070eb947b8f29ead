"""Running an HTTP transport under uvicorn, and a graceful stop: in-flight calls finish before streams close."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import anyio

from ..dispatcher import Dispatcher

log = logging.getLogger("clicksend_mcp")


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    log_level: str = "info"
    shutdown_grace: float = 30.0


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
        timeout_graceful_shutdown=int(options.shutdown_grace),
    )
    server = uvicorn.Server(config)
    hold_streams_on_shutdown()
    async with anyio.create_task_group() as tg:
        tg.start_soon(drain, dispatcher, lambda: server.should_exit, options.shutdown_grace)
        await server.serve()
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
    with anyio.move_on_after(grace):
        await dispatcher.wait_idle()
        await anyio.sleep(0.2)  # let the last answers reach their sockets
    release_streams()


@contextlib.asynccontextmanager
async def closing(dispatcher: Dispatcher) -> AsyncIterator[Dispatcher]:
    try:
        yield dispatcher
    finally:
        await dispatcher.aclose()
