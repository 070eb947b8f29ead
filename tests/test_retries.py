"""How long the server waits between attempts, and that a send is never tried again once it may have arrived,
read from its retry log lines ("retry attempt=N after=WHAT wait_s=SECONDS") and from what the fake received."""

from __future__ import annotations

import logging
import re
import socket

import anyio
import anyio.abc
import pytest

from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.retries import RetryPolicy
from conftest import direct_settings
from fake_clicksend import TEST_NUMBER
from faulty_clicksend import FaultyClickSend, faulty_clicksend

pytestmark = pytest.mark.anyio

READ = "CLICKSEND_GET_ACCOUNT"
SEND = "CLICKSEND_CREATE_SMS_SEND"


RETRY_LINE = re.compile(r"^retry attempt=(?P<attempt>\d+) after=(?P<after>.+) wait_s=(?P<wait_s>-?[\d.]+)$")


def retry_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, str]]:
    lines = [r.getMessage() for r in caplog.records if r.name == "clicksend_mcp.retries"]
    parsed = [RETRY_LINE.match(line) for line in lines]
    assert all(parsed), lines
    return [m.groupdict() for m in parsed if m]


async def _read(tools: dict[str, CompiledTool], policy: RetryPolicy, *script: str) -> FaultyClickSend:
    async with faulty_clicksend(*script) as fake:
        dispatcher = build_dispatcher(direct_settings(clicksend_base_url=fake.base_url), tools=tools)
        dispatcher.retry = policy
        try:
            result = await dispatcher.call(READ, {})
        finally:
            await dispatcher.aclose()
    assert result["successful"] is True, result["error"]
    return fake


async def test_waits_grow_from_the_initial_wait_with_a_little_jitter(
    tools: dict[str, CompiledTool], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="clicksend_mcp.retries")
    fake = await _read(tools, RetryPolicy(attempts=3, initial_wait=0.02, max_wait=5), "status:503", "status:502", "ok")
    assert len(fake.received) == 3
    lines = retry_lines(caplog)
    assert [(line["attempt"], line["after"]) for line in lines] == [("2", "status 503"), ("3", "status 502")]
    first, second = (float(line["wait_s"]) for line in lines)
    assert 0.02 <= first <= 0.04 + 0.005  # initial_wait, plus jitter of at most initial_wait (log rounds to 0.01)
    assert 0.04 <= second <= 0.06 + 0.005


async def test_waits_never_exceed_the_maximum(tools: dict[str, CompiledTool], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="clicksend_mcp.retries")
    policy = RetryPolicy(attempts=4, initial_wait=0.02, max_wait=0.03)
    await _read(tools, policy, "status:503", "status:503", "status:503", "ok")
    waits = [float(line["wait_s"]) for line in retry_lines(caplog)]
    assert len(waits) == 3 and all(0.02 <= w <= 0.03 for w in waits), waits


@pytest.mark.parametrize(("header", "wait"), [("0", "0.00"), ("0.5", "0.50")])
async def test_a_retry_after_sets_the_wait(
    tools: dict[str, CompiledTool], caplog: pytest.LogCaptureFixture, header: str, wait: str
) -> None:
    caplog.set_level(logging.INFO, logger="clicksend_mcp.retries")
    await _read(tools, RetryPolicy(attempts=2, initial_wait=0.02, max_wait=5), f"status:429:{header}", "ok")
    [line] = retry_lines(caplog)
    assert (line["after"], line["wait_s"]) == ("status 429", wait)


async def test_a_negative_retry_after_is_ignored_for_the_backoff(
    tools: dict[str, CompiledTool], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="clicksend_mcp.retries")
    await _read(tools, RetryPolicy(attempts=2, initial_wait=0.02, max_wait=5), "status:503:-7", "ok")
    [line] = retry_lines(caplog)
    assert 0.02 <= float(line["wait_s"]) <= 0.045


async def test_a_send_retried_after_a_refused_connect_is_not_retried_once_it_may_have_arrived(
    tools: dict[str, CompiledTool], caplog: pytest.LogCaptureFixture
) -> None:
    # Attempt 1 is refused at connect (provably unsent: retried); attempt 2 reaches ClickSend and the connection
    # drops without an answer (it may have been sent): no attempt 3, whatever the attempts left.
    caplog.set_level(logging.INFO, logger="clicksend_mcp.retries")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    fake = FaultyClickSend(["reset", "ok"], port=sock.getsockname()[1])
    opened = anyio.Event()

    class OpenOnFirstRetry(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if not opened.is_set():
                sock.listen(8)
                opened.set()

    retry_log = logging.getLogger("clicksend_mcp.retries")
    handler = OpenOnFirstRetry()
    retry_log.addHandler(handler)
    dispatcher = build_dispatcher(direct_settings(clicksend_base_url=fake.base_url), tools=tools)
    dispatcher.retry = RetryPolicy(attempts=4, initial_wait=0.01, max_wait=0.05)
    try:
        async with anyio.create_task_group() as tg:

            async def serve_once_open() -> None:
                await opened.wait()
                listener = await anyio.abc.SocketListener.from_socket(sock)
                async with listener:
                    await listener.serve(fake.handle)

            tg.start_soon(serve_once_open)
            with anyio.fail_after(30):
                result = await dispatcher.call(SEND, {"messages": [{"to": TEST_NUMBER, "body": "once"}]})
            tg.cancel_scope.cancel()
    finally:
        retry_log.removeHandler(handler)
        await dispatcher.aclose()
        sock.close()
    assert result["error_code"] == "OUTCOME_UNKNOWN"
    assert fake.received == [("POST", "/v3/sms/send")]
    assert [(line["attempt"], line["after"]) for line in retry_lines(caplog)] == [("2", "TransportFailure")]
