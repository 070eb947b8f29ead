"""Starting and stopping the servers the bench scripts measure: wait until one answers HTTP, stop it on exit."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import httpx2


async def wait_until_answering(url: str, timeout: float = 60) -> None:
    """Poll `url` until it answers at all (bounded): the server is then listening."""
    async with httpx2.AsyncClient() as http:
        with anyio.fail_after(timeout):
            while True:
                try:
                    await http.get(url)
                    return
                except httpx2.TransportError:
                    await anyio.sleep(0.05)


@asynccontextmanager
async def running(command: list[str], env: dict[str, str], ready_url: str) -> AsyncIterator[anyio.abc.Process]:
    """A process with its output discarded (an unread pipe could block it), answering at `ready_url`."""
    process = await anyio.open_process(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        await wait_until_answering(ready_url)
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
        with anyio.move_on_after(10):
            await process.wait()
        if process.returncode is None:
            process.kill()
