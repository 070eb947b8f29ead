"""The stdio transport: the protocol on stdin/stdout (so logs must go to stderr), and a stop that answers every call.

When stdin closes, or on SIGTERM/SIGINT, the server stops reading but keeps the protocol open until each request
it has received is answered: calls finish within the grace period, and a call still waiting on ClickSend then
answers OUTCOME_UNKNOWN (with its tag) rather than vanishing with the process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from typing import Any

import anyio
from anyio.from_thread import BlockingPortal
from mcp.server.lowlevel.server import Server
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types.jsonrpc import JSONRPCError, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse

from ..dispatcher import Dispatcher
from .serving import finish_calls

log = logging.getLogger("clicksend_mcp")


class _StdinLines:
    """stdin as async lines, stoppable at any time.

    The SDK reads stdin in a worker thread that only a new line or EOF ends, and the interpreter waits for such
    threads at exit; here a daemon thread reads, so a stop signal can end the server while stdin stays open."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._send, self._receive = anyio.create_memory_object_stream[bytes](0)
        self._stopped = False

    def start(self, portal: BlockingPortal) -> None:
        threading.Thread(target=self._read, args=(portal,), name="stdin reader", daemon=True).start()

    def _read(self, portal: BlockingPortal) -> None:
        # os.read, not sys.stdin.buffer: a daemon thread blocked inside a buffered reader holds its lock, and the
        # interpreter aborts at exit when it cannot take that lock to close stdin.
        pending = b""
        try:
            while chunk := os.read(self._fd, 65536):
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for line in complete:
                    portal.call(self._send.send, line + b"\n")
            if pending:
                portal.call(self._send.send, pending)
        except (RuntimeError, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError, ValueError):
            return  # stopped: the portal or the stream is gone
        with contextlib.suppress(RuntimeError):
            portal.call(self._send.aclose)

    def stop(self) -> None:
        self._stopped = True
        self._receive.close()

    def __aiter__(self) -> _StdinLines:
        return self

    async def __anext__(self) -> str:
        try:
            line = await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None
        return line.decode("utf-8", errors="replace")


class _Pending:
    """Ids of the client's requests that have no answer yet."""

    def __init__(self) -> None:
        self.ids: set[Any] = set()

    def saw_incoming(self, item: SessionMessage | Exception) -> None:
        message = item.message if isinstance(item, SessionMessage) else None
        if isinstance(message, JSONRPCRequest):
            self.ids.add(message.id)
        elif isinstance(message, JSONRPCNotification) and message.method == "notifications/cancelled":
            self.ids.discard((message.params or {}).get("requestId"))

    def saw_outgoing(self, item: SessionMessage) -> None:
        if isinstance(item.message, (JSONRPCResponse, JSONRPCError)):
            self.ids.discard(item.message.id)

    async def wait_answered(self) -> None:
        while self.ids:
            await anyio.sleep(0.05)


async def run_stdio(server: Server[Any], dispatcher: Dispatcher | None = None, grace: float = 30.0) -> None:
    lines = _StdinLines(sys.stdin.fileno())
    pending = _Pending()
    to_server, server_reads = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    server_writes, from_server = anyio.create_memory_object_stream[SessionMessage](0)

    async with BlockingPortal() as portal, stdio_server(stdin=lines) as (stdin, stdout):  # type: ignore[arg-type]
        lines.start(portal)

        async def pump_in() -> None:
            async with to_server:
                async for item in stdin:
                    pending.saw_incoming(item)
                    await to_server.send(item)
                # stdin closed or a stop signal: answer what was asked before the server sees the end.
                if pending.ids:
                    log.info("stopping: answering %d request(s) first", len(pending.ids))
                    if dispatcher is not None:
                        await finish_calls(dispatcher, grace)
                    with anyio.move_on_after(grace + 5):
                        await pending.wait_answered()

        async def pump_out() -> None:
            async with stdout, from_server:
                async for item in from_server:
                    await stdout.send(item)
                    pending.saw_outgoing(item)

        async def stop_on_signal(scope: anyio.CancelScope) -> None:
            with scope, anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for signum in signals:
                    log.info("received %s: stopping after the calls in flight", signal.Signals(signum).name)
                    lines.stop()
                    return

        async with anyio.create_task_group() as tg:
            watching = anyio.CancelScope()
            tg.start_soon(stop_on_signal, watching)
            tg.start_soon(pump_in)
            tg.start_soon(pump_out)
            await server.run(server_reads, server_writes, server.create_initialization_options())
            watching.cancel()
