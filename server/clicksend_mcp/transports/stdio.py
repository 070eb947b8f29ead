"""The stdio transport: the protocol on stdin/stdout (so logs must go to stderr), and a stop that answers every call.

When stdin closes, or on SIGTERM/SIGINT, the server stops reading but keeps the protocol open until each request
it has received is answered: calls finish within the grace period, and a call still waiting on ClickSend then
answers OUTCOME_UNKNOWN (with its tag) rather than vanishing with the process.

When stdin and stdout are pipes or sockets (as an MCP client connects them) the lines are read and written on the
event loop itself: the SDK's default wraps them in worker threads, three thread hops per call (read, write, flush),
which cost more than everything else the server does for a call on a loaded machine. The server then reads its
messages straight from the pipe (parsed as it asks for the next) and writes each answer into the pipe as it is
given, with the SDK's own framing: no task between the pipe and the server, where the SDK's stdio_server and a
watcher of unanswered requests put two each way, four task switches a call. Anything else (a file, a terminal, a
loop other than asyncio) reads stdin in a daemon thread and writes through the SDK's default.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import stat
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import mcp_types as types
from anyio.from_thread import BlockingPortal
from mcp.server.lowlevel.server import Server
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types.jsonrpc import JSONRPCError, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse

from ..dispatcher import Dispatcher
from .serving import finish_calls

log = logging.getLogger("clicksend_mcp")

# Longest message line accepted; the body caps of the HTTP transports stay far below it.
MAX_LINE_BYTES = 64 * 1024 * 1024


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


class _LoopLines:
    """stdin as async lines read by the event loop from a pipe or socket; `stop` ends the iteration at once."""

    def __init__(self, reader: asyncio.StreamReader, transport: asyncio.ReadTransport) -> None:
        self._reader = reader
        self._transport = transport
        self._stopped = False

    def start(self, portal: BlockingPortal) -> None:
        pass  # nothing to start: the loop reads as data arrives

    def stop(self) -> None:
        self._stopped = True
        self._transport.close()  # the protocol then ends the reader, waking a pending readline

    def __aiter__(self) -> _LoopLines:
        return self

    async def __anext__(self) -> str:
        line = b"" if self._stopped else await self._reader.readline()
        if not line or self._stopped:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


def _is_pipe_or_socket(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@contextlib.asynccontextmanager
async def _wire() -> AsyncIterator[tuple[Any, asyncio.StreamWriter | None]]:
    """(stdin lines, stdout writer): loop-driven where both are pipes or sockets, else the daemon-thread reader and
    None (the SDK's own stdout).

    Loop-driven, the wire moves to private descriptors while serving, and fd 0 and 1 point at the null device and
    stderr, as the SDK does, so a stray print or a child process cannot corrupt the protocol."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # another event loop (trio)
        loop = None
    if not (loop is not None and _is_pipe_or_socket(0) and _is_pipe_or_socket(1)):
        yield _StdinLines(sys.stdin.fileno()), None
        return
    sys.stdout.flush()
    wire_in, wire_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
    in_file, out_file = os.fdopen(wire_in, "rb", buffering=0), os.fdopen(wire_out, "wb", buffering=0)
    in_transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), in_file)
    out_transport, out_protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, out_file)
    writer = asyncio.StreamWriter(out_transport, out_protocol, None, loop)
    try:
        yield _LoopLines(reader, in_transport), writer
    finally:
        with contextlib.suppress(Exception):  # the client may have gone: what is left unsent has no reader
            await writer.drain()
        for wire, fd in ((wire_in, 0), (wire_out, 1)):
            with contextlib.suppress(OSError):  # already closed by its transport (stdin at end of file)
                os.dup2(wire, fd)
        in_transport.close()
        out_transport.close()


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


class _MessagesIn:
    """The server's read stream, read from the pipe: each line parsed when the server asks for the next message
    (as the SDK's stdio_server parses it: a line that is not a message becomes the parse error it reports). At the
    end of input, `at_end` runs first, so every request received is answered before the server sees the end."""

    def __init__(self, lines: Any, pending: _Pending, at_end: Callable[[], Awaitable[None]]) -> None:
        self._lines = lines
        self._pending = pending
        self._at_end = at_end
        self._ended = False

    async def receive(self) -> SessionMessage | Exception:
        if self._ended:
            raise anyio.EndOfStream
        try:
            line = await self._lines.__anext__()
        except StopAsyncIteration:
            self._ended = True
            await self._at_end()
            raise anyio.EndOfStream from None
        item: SessionMessage | Exception
        try:
            item = SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
        except Exception as exc:
            item = exc
        self._pending.saw_incoming(item)
        return item

    def __aiter__(self) -> _MessagesIn:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        self._ended = True

    async def __aenter__(self) -> _MessagesIn:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class _MessagesOut:
    """The server's write stream, written into the pipe: each message framed as the SDK's stdio_server frames it
    (one line of JSON) and put in the pipe's buffer whole, so answers written at once never interleave."""

    def __init__(self, writer: asyncio.StreamWriter, pending: _Pending) -> None:
        self._writer = writer
        self._pending = pending
        self._closed = False

    async def send(self, item: SessionMessage) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        line = item.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
        try:
            self._writer.write(line.encode("utf-8"))
            self._pending.saw_outgoing(item)
            await self._writer.drain()  # waits only while the client is not reading
        except (ConnectionError, OSError):  # the client has gone: as a closed stream, the SDK drops the answer
            self._closed = True
            raise anyio.BrokenResourceError from None

    async def aclose(self) -> None:
        self._closed = True

    async def __aenter__(self) -> _MessagesOut:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def run_stdio(server: Server[Any], dispatcher: Dispatcher | None = None, grace: float = 30.0) -> None:
    pending = _Pending()

    async def answer_what_was_asked() -> None:
        """stdin closed or a stop signal: answer what was asked before the server sees the end."""
        if pending.ids:
            log.info("stopping: answering %d request(s) first", len(pending.ids))
            if dispatcher is not None:
                await finish_calls(dispatcher, grace)
            with anyio.move_on_after(grace + 5):
                await pending.wait_answered()

    async with _wire() as (lines, out), BlockingPortal() as portal:
        lines.start(portal)

        async def stop_on_signal(scope: anyio.CancelScope) -> None:
            with scope, anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for signum in signals:
                    log.info("received %s: stopping after the calls in flight", signal.Signals(signum).name)
                    lines.stop()
                    return

        async with anyio.create_task_group() as tg:
            watching = anyio.CancelScope()
            tg.start_soon(stop_on_signal, watching)
            if out is not None:
                messages_in = _MessagesIn(lines, pending, answer_what_was_asked)
                messages_out = _MessagesOut(out, pending)
                await server.run(messages_in, messages_out, server.create_initialization_options())
            else:
                await _run_through_sdk_stdio(server, lines, pending, answer_what_was_asked)
            watching.cancel()


async def _run_through_sdk_stdio(
    server: Server[Any], lines: Any, pending: _Pending, at_end: Callable[[], Awaitable[None]]
) -> None:
    """stdin read by the daemon thread, stdout the SDK's own: the SDK's stdio_server, watched for unanswered
    requests by a task each way."""
    to_server, server_reads = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    server_writes, from_server = anyio.create_memory_object_stream[SessionMessage](0)
    async with stdio_server(stdin=lines) as (stdin, stdout):

        async def pump_in() -> None:
            async with to_server:
                async for item in stdin:
                    pending.saw_incoming(item)
                    await to_server.send(item)
                await at_end()

        async def pump_out() -> None:
            async with stdout, from_server:
                async for item in from_server:
                    await stdout.send(item)
                    pending.saw_outgoing(item)

        async with anyio.create_task_group() as tg:
            tg.start_soon(pump_in)
            tg.start_soon(pump_out)
            await server.run(server_reads, server_writes, server.create_initialization_options())
