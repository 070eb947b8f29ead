"""The stdio transport: the protocol on stdin/stdout (so logs must go to stderr).

When stdin and stdout are pipes or sockets (as an MCP client connects them) the lines are read and written on the
event loop itself. The SDK's default wraps them in worker threads, three thread hops per call (read, write, flush),
which cost more than everything else the server does for a call on a loaded machine. Anything else (a file, a
terminal, a loop other than asyncio) keeps the SDK's default.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from collections.abc import AsyncIterator
from typing import Any

from mcp.server.lowlevel.server import Server
from mcp.server.stdio import stdio_server

# Longest message line accepted; the body caps of the HTTP transports stay far below it.
MAX_LINE_BYTES = 64 * 1024 * 1024


async def run_stdio(server: Server[Any]) -> None:
    async with _stdio_streams() as (stdin, stdout), stdio_server(stdin, stdout) as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def _is_pipe_or_socket(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _Lines:
    """stdin as the SDK iterates it: text lines, read without blocking the loop."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class _Output:
    """stdout as the SDK writes to it: text written to the pipe's buffer; flush waits until the pipe takes it."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


@contextlib.asynccontextmanager
async def _stdio_streams() -> AsyncIterator[tuple[Any, Any]]:
    """Loop-driven stdin/stdout where they are pipes or sockets, else (None, None): the SDK's default streams.

    Like the SDK, the wire moves to private descriptors while serving, and fd 0 and 1 point at the null device and
    stderr, so a stray print or a child process cannot corrupt the protocol; both are restored on exit."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # another event loop (trio)
        loop = None
    if not (loop is not None and _is_pipe_or_socket(0) and _is_pipe_or_socket(1)):
        yield None, None
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
        yield _Lines(reader), _Output(writer)
    finally:
        with contextlib.suppress(Exception):  # the client may have gone: what is left unsent has no reader
            await writer.drain()
        for wire, fd in ((wire_in, 0), (wire_out, 1)):
            with contextlib.suppress(OSError):  # already closed by its transport (stdin at end of file)
                os.dup2(wire, fd)
        in_transport.close()
        out_transport.close()
