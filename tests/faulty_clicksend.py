"""A ClickSend on 127.0.0.1 that misbehaves on cue: a raw HTTP/1.1 server, so resets, hangs and drips are real.

Each request takes the next fault from the script (the last one repeats) and is counted once its head and body
have arrived, so a test can prove how many requests reached "ClickSend".
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import anyio.abc

OK_BODY = json.dumps(
    {
        "http_code": 200,
        "response_code": "SUCCESS",
        "response_msg": "Here you go.",
        "data": {"messages": [{"to": "+61411111111", "status": "SUCCESS", "message_id": "A1"}], "ok": True},
    }
).encode()


@dataclass(frozen=True)
class Canned:
    """An exact answer: any status, any bytes (another encoding, NaN, a body nested 400 deep...)."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"


def envelope(data: object, code: str = "SUCCESS", msg: str = "Here you go.", http: int = 200) -> Canned:
    return Canned(json.dumps({"http_code": http, "response_code": code, "response_msg": msg, "data": data}).encode())


@dataclass
class FaultyClickSend:
    script: list[str | Canned] = field(default_factory=lambda: ["ok"])
    received: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0
    arrived: anyio.Event = field(default_factory=anyio.Event)  # set when the first request has arrived

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3"

    def next_fault(self) -> str | Canned:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    async def handle(self, stream: anyio.abc.SocketStream) -> None:
        async with stream:
            try:
                await self._serve(stream)
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                return

    async def _serve(self, stream: anyio.abc.SocketStream) -> None:
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            buffer += await stream.receive()
        head, _, body = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            body += await stream.receive()
        self.received.append((method, target))
        self.arrived.set()
        await self._answer(stream, self.next_fault())

    async def _answer(self, stream: anyio.abc.SocketStream, fault: str | Canned) -> None:
        if isinstance(fault, Canned):
            head = (
                f"HTTP/1.1 {fault.status} X\r\nContent-Type: {fault.content_type}\r\n"
                f"Content-Length: {len(fault.body)}\r\nConnection: close\r\n\r\n"
            )
            await stream.send(head.encode() + fault.body)
            return
        if fault == "reset":
            return  # close without a response, after the request arrived
        if fault == "hang":
            await anyio.sleep(3600)
        if fault == "slow":
            await anyio.sleep(1.5)  # answers, but late: long enough to act while the call is in flight
        if fault == "drip":
            await stream.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(1000):
                await stream.send(b" ")
                await anyio.sleep(0.2)
            return
        status, body, extra = 200, OK_BODY, ""
        content_type = "application/json"
        if fault == "html":
            status, body, content_type = 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
        elif fault == "html200":
            body, content_type = b"<html><body>Maintenance</body></html>", "text/html"
        elif fault == "empty":
            body = b""
        elif fault == "invalid_json":
            body = b'{"http_code": 200, "data": '
        elif fault == "array":
            body = b"[1, 2, 3]"
        elif fault == "app_error":
            body = json.dumps(
                {"http_code": 200, "response_code": "INVALID_RECIPIENT", "response_msg": "Bad number.", "data": None}
            ).encode()
        elif fault == "huge":
            body = b'{"http_code":200,"response_code":"SUCCESS","data":"' + b"x" * (9 * 1024 * 1024) + b'"}'
        elif fault.startswith("status:"):
            _, code, *rest = fault.split(":")
            status = int(code)
            body = json.dumps({"http_code": status, "response_code": "ERROR", "response_msg": "Try later."}).encode()
            if rest:
                extra = f"Retry-After: {rest[0]}\r\n"
        reason = {200: "OK", 429: "Too Many Requests", 502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "X")
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"{extra}Connection: close\r\n\r\n"
        )
        await stream.send(head.encode() + body)


@asynccontextmanager
async def faulty_clicksend(*script: str | Canned) -> AsyncIterator[FaultyClickSend]:
    fake = FaultyClickSend(list(script) or ["ok"])
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    fake.port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, fake.handle)
        try:
            yield fake
        finally:
            tg.cancel_scope.cancel()


def closed_port() -> int:
    """A loopback port with nothing listening: connecting is refused, so nothing can have been sent."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
