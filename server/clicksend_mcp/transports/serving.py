"""Running an HTTP transport under uvicorn, in one process or several workers on one socket, and a graceful stop:
in-flight calls finish before streams close."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from ..dispatcher import Dispatcher
from ..settings import ConfigError

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger("clicksend_mcp")

# A worker that exits this soon after it started failed to start (a bad setting, an unreachable database): starting
# it again would fail the same way, so the server stops instead of looping.
STARTUP_FAILURE_SECONDS = 10.0
ABANDON_WAIT = 5  # seconds abandoned calls get to write their answers


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    log_level: str = "info"
    shutdown_grace: float = 30.0
    metrics_app: Any = None  # served on metrics_port beside the main app
    metrics_port: int | None = None
    header_timeout: float = 10.0
    max_connections: int = 1000
    listener: socket.socket | None = None  # bound by bind_listener; uvicorn binds host:port itself when None


def bind_listener(host: str, port: int) -> socket.socket:
    """A bound, listening socket for uvicorn, or ConfigError naming the address and what to do.

    Binding before anything starts makes a taken port one clear line, not uvicorn's traceback after start-up."""
    from .connections import BACKLOG  # here, not at the top: the stdio transport never loads uvicorn's h11 protocol

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


def attach_metrics(dispatcher: Dispatcher, settings: Settings) -> Any:
    """The Prometheus metrics of this process (--metrics or --metrics-port), fed by the dispatcher; or None."""
    if not (settings.metrics or settings.metrics_port):
        return None
    from .metrics import Metrics

    metrics = Metrics()
    dispatcher.observer = metrics
    return metrics


def build_http_app(server: Any, settings: Settings, metrics: Any = None, conversations: Any = None) -> Any:
    """The ASGI app of the settings' HTTP transport (SSE or streamable HTTP) around an MCP server; with
    `conversations`, ClickSend's webhook pushes are received too (behind their own secret)."""
    from ..selection import split_names
    from .asgi import HttpOptions, http_app, sse_app
    from .oauth import OAuthConfig

    options = HttpOptions(
        host=settings.host,
        auth_token=settings.auth_token.get_secret_value() if settings.auth_token else None,
        allowed_hosts=split_names(settings.allowed_hosts),
        allowed_origins=split_names(settings.allowed_origins),
        max_body_bytes=settings.max_body_bytes,
        session_idle_timeout=settings.session_idle_timeout,
        max_sessions=settings.max_sessions,
        max_sessions_per_client=settings.max_sessions_per_client,
        oauth=OAuthConfig(
            issuer=settings.oauth_issuer,
            audience=settings.oauth_audience or "",
            required_scope=settings.oauth_required_scope,
            jwks_url=settings.oauth_jwks_url,
        )
        if settings.oauth_issuer
        else None,
        metrics=metrics if metrics is not None and not settings.metrics_port else None,
        refused=metrics.http_refused if metrics is not None else None,
        replica_id=settings.replica_id,
        conversations=conversations,
        webhook_secret=settings.webhook_secret.get_secret_value() if settings.webhook_secret else None,
        webhooks_per_tenant=settings.multi_tenant,
    )
    return sse_app(server, options) if settings.transport == "sse" else http_app(server, options)


def serve_options(settings: Settings, listener: socket.socket | None = None, metrics: Any = None) -> ServeOptions:
    from .asgi import metrics_app

    return ServeOptions(
        host=settings.host,
        port=listener.getsockname()[1] if listener is not None else settings.port,
        log_level=settings.log_level,
        shutdown_grace=settings.shutdown_grace,
        header_timeout=settings.header_timeout,
        max_connections=settings.max_connections,
        listener=listener,
        metrics_app=metrics_app(metrics) if metrics is not None and settings.metrics_port else None,
        metrics_port=settings.metrics_port,
    )


async def serve_http(app: Any, dispatcher: Dispatcher, options: ServeOptions) -> None:
    """Serve an ASGI app until SIGINT/SIGTERM; then stop accepting and let in-flight calls finish (up to the grace)."""
    import uvicorn

    from .connections import BACKLOG, ConnectionLimits, fit_to_descriptors, guarded_h11

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

    class SideServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # the main server owns the signals; this one stops when it does

    server = Server(config)
    hold_streams_on_shutdown()
    async with anyio.create_task_group() as tg:
        tg.start_soon(drain, dispatcher, lambda: server.should_exit, options.shutdown_grace)
        sockets = [options.listener] if options.listener is not None else None
        if options.metrics_app is not None and options.metrics_port is not None:
            side = SideServer(
                uvicorn.Config(
                    options.metrics_app,
                    host=options.host,
                    port=options.metrics_port,
                    log_level=options.log_level,
                    log_config=None,
                    lifespan="off",
                )
            )
            tg.start_soon(side.serve)
            # Listening on the metrics port before the main port: once MCP answers, so does /metrics.
            with anyio.fail_after(10):
                while not side.started:
                    await anyio.sleep(0.01)
            await server.serve(sockets=sockets)
            side.should_exit = True
        else:
            await server.serve(sockets=sockets)
        tg.cancel_scope.cancel()


def hold_streams_on_shutdown() -> None:
    """Keep SSE response streams open when a shutdown signal arrives, so in-flight calls can still answer.

    sse-starlette otherwise ends every stream the moment uvicorn sees SIGTERM; `release_streams` ends them once
    the calls are done."""
    from sse_starlette.sse import AppStatus

    # sse-starlette leaves this classmethod unannotated (it takes nothing and returns None).
    AppStatus.disable_automatic_graceful_drain()  # type: ignore[no-untyped-call]


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


async def serve_workers(settings: Settings, listener: socket.socket | None = None) -> int:
    """Serve the HTTP transport from `settings.workers` processes sharing one listening socket.

    Each worker rebuilds everything from the environment (the command line has put its flags there), so it serves
    exactly what a single process would. A worker that dies is replaced; one that fails at start stops the server.
    SIGTERM or SIGINT stop every worker gracefully (each drains its calls, up to the grace), then the parent."""
    sock = listener or bind_listener(settings.host, settings.port)
    sock.set_inheritable(True)
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
    metrics = attach_metrics(dispatcher, settings)
    server = build_server(dispatcher, discovery=settings.discovery, state_keys=settings.state_key_ring())
    app = build_http_app(server, settings, metrics, dispatcher.conversations if settings.receives_webhooks else None)
    sock = socket.socket(fileno=fd)
    log.info("worker %d serving", os.getpid())

    async def run() -> None:
        async with closing(dispatcher), anyio.create_task_group() as tg:
            await dispatcher.start()  # the ledger: already migrated by the parent; opened here before the first call
            tg.start_soon(stop_with_parent, os.getppid())
            await serve_http(app, dispatcher, serve_options(settings, listener=sock, metrics=metrics))
            tg.cancel_scope.cancel()

    anyio.run(run)
    return 0


async def stop_with_parent(parent: int) -> None:
    """SIGTERM to this worker once its parent is gone (killed with SIGKILL, say), so no worker outlives the server
    and holds its port."""
    while os.getppid() == parent:
        await anyio.sleep(1)
    log.warning("the server process %d is gone: worker %d stops", parent, os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    raise SystemExit(worker_main(int(sys.argv[1])))
