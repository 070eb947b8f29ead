"""Logs go to stderr with every configured secret removed, from the message and from any traceback."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from clicksend_mcp.logs import setup_logging
from clicksend_mcp.redaction import Redactor

SECRET = "LIVE-API-KEY-7f3e9a1c55d0"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger as the server sets it up, writing where the test can read it; restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def _setup(stream: io.StringIO, fmt: str) -> logging.Logger:
    setup_logging("info", Redactor([SECRET]), fmt)
    logging.getLogger().handlers[0].setStream(stream)  # type: ignore[attr-defined]
    return logging.getLogger("clicksend_mcp.test")


def _fail_with_the_secret() -> None:
    raise RuntimeError(f"upstream refused key {SECRET}")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_secret_in_a_message_and_its_arguments_is_redacted(captured: io.StringIO, fmt: str) -> None:
    log = _setup(captured, fmt)
    log.info("calling with %s and key=" + SECRET, SECRET)
    out = captured.getvalue()
    assert SECRET not in out
    assert out.count("[REDACTED]") == 2


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_secret_in_a_traceback_is_redacted(captured: io.StringIO, fmt: str) -> None:
    log = _setup(captured, fmt)
    try:
        _fail_with_the_secret()
    except RuntimeError:
        log.exception("call failed")
    out = captured.getvalue()
    assert SECRET not in out
    # The traceback itself is kept (it is what makes the log useful), only the secret is gone.
    assert "Traceback (most recent call last)" in out and "_fail_with_the_secret" in out
    assert "upstream refused key [REDACTED]" in out
    if fmt == "json":
        [line] = out.splitlines()
        record = json.loads(line)
        assert record["msg"] == "call failed" and "[REDACTED]" in record["exc"]


def test_logs_go_to_stderr_not_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup_logging("info", Redactor([SECRET]))
        logging.getLogger("clicksend_mcp.test").warning("to stderr")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    out, err = capsys.readouterr()
    assert out == "" and "to stderr" in err
