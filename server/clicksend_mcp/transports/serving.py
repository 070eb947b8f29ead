"""Running an HTTP transport under uvicorn, in one process or several workers on one socket, and a graceful stop:
in-flight calls finish before streams close."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from ..dispatcher import Dispatcher

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger("clicksend_mcp")

# A worker that exits this soon after it started failed to start (a bad setting, an unreachable database): starting
# it again would fail the same way, so the server stops instead of looping.
STARTUP_FAILURE_SECONDS = 10.0


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    log_level: str = "info"
    shutdown_grace: float = 30.0


def build_http_app(server: Any, settings: Settings) -> Any:
    """The ASGI app of the settings' HTTP transport (SSE or streamable HTTP) around an MCP server."""
    from ..selection import split_names
    from .asgi import HttpOptions, http_app, sse_app

    options = HttpOptions(
        host=settings.host,
        auth_token=settings.auth_token.get_secret_value() if settings.auth_token else None,
        allowed_hosts=split_names(settings.allowed_hosts),
        allowed_origins=split_names(settings.allowed_origins),
        max_body_bytes=settings.max_body_bytes,
    )
    return sse_app(server, options) if settings.transport == "sse" else http_app(server, options)


def serve_options(settings: Settings) -> ServeOptions:
    return ServeOptions(
        host=settings.host, port=settings.port, log_level=settings.log_level, shutdown_grace=settings.shutdown_grace
    )


async def serve_http(
    app: Any, dispatcher: Dispatcher, options: ServeOptions, sockets: list[socket.socket] | None = None
) -> None:
    """Serve an ASGI app until SIGINT/SIGTERM; then stop accepting and let in-flight calls finish (up to the grace).
    `sockets`: already listening (a worker's share of the parent's socket) instead of binding host and port."""
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
        await server.serve(sockets=sockets)
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


def listening_socket(host: str, port: int) -> socket.socket:
    """The one socket every worker accepts on, so the kernel spreads connections over them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.set_inheritable(True)
    return sock


async def serve_workers(settings: Settings) -> int:
    """Serve the HTTP transport from `settings.workers` processes sharing one listening socket.

    Each worker rebuilds everything from the environment (the command line has put its flags there), so it serves
    exactly what a single process would. A worker that dies is replaced; one that fails at start stops the server.
    SIGTERM or SIGINT stop every worker gracefully (each drains its calls, up to the grace), then the parent."""
    sock = listening_socket(settings.host, settings.port)
    fd = sock.fileno()
    command = [sys.executable, "-m", "clicksend_mcp.transports.serving", str(fd)]
    env = {**os.environ, "CLICKSEND_MCP_WORKERS": "1"}
    processes: dict[int, anyio.abc.Process] = {}
    stopping = False
    failed = False

    async def keep_worker(slot: int, scope: anyio.CancelScope) -> None:
        nonlocal failed
        while not stopping:
            started = time.monotonic()
            process = await anyio.open_process(
                command, env=env, stdin=subprocess.DEVNULL, stdout=None, stderr=None, pass_fds=(fd,)
            )
            processes[slot] = process
            code = await process.wait()
            if stopping:
                return
            if time.monotonic() - started < STARTUP_FAILURE_SECONDS:
                log.error("worker %d exited with code %s while starting; stopping the server", process.pid, code)
                failed = True
                scope.cancel()
                return
            log.warning("worker %d exited with code %s; starting another", process.pid, code)

    try:
        async with anyio.create_task_group() as tg:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                for slot in range(settings.workers):
                    tg.start_soon(keep_worker, slot, tg.cancel_scope)
                log.info("%d workers on http://%s:%d", settings.workers, settings.host, settings.port)
                async for signum in signals:
                    log.info("%s: stopping %d workers", signal.Signals(signum).name, len(processes))
                    break
                stopping = True
                for process in processes.values():
                    if process.returncode is None:
                        process.send_signal(signal.SIGTERM)
    finally:
        stopping = True
        with anyio.CancelScope(shield=True):
            await stop_all(list(processes.values()), settings.shutdown_grace + 10)
        sock.close()
    return 1 if failed else 0


async def stop_all(processes: list[anyio.abc.Process], patience: float) -> None:
    """SIGTERM each worker still running, wait up to `patience` seconds for all, then SIGKILL the rest."""
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    with anyio.move_on_after(patience):
        for process in processes:
            await process.wait()
    for process in processes:
        if process.returncode is None:
            log.warning("worker %d did not stop in time: killed", process.pid)
            process.kill()
            await process.wait()


def worker_main(fd: int) -> int:
    """One worker: settings from the environment -> dispatcher -> MCP server -> the HTTP app on the inherited socket."""
    from ..app import build_server
    from ..assembly import build_dispatcher
    from ..logs import setup_logging
    from ..redaction import Redactor
    from ..settings import Settings

    settings = Settings()
    setup_logging(settings.log_level, Redactor(()), settings.log_format)
    dispatcher = build_dispatcher(settings)
    setup_logging(settings.log_level, dispatcher.redactor, settings.log_format)
    app = build_http_app(build_server(dispatcher, discovery=settings.discovery), settings)
    sock = socket.socket(fileno=fd)
    log.info("worker %d serving", os.getpid())

    async def run() -> None:
        async with closing(dispatcher):
            await serve_http(app, dispatcher, serve_options(settings), sockets=[sock])

    anyio.run(run)
    return 0


if __name__ == "__main__":
    raise SystemExit(worker_main(int(sys.argv[1])))
