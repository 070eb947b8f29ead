"""Logging to stderr (stdout belongs to the stdio protocol), with every configured secret redacted."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable

from .redaction import Redactor


class RedactingFilter(logging.Filter):
    """Renders each record once and removes secrets from the message and any traceback."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the line (nor echo its arguments)
            message = f"{record.msg} (unformattable arguments)"
        record.msg = self.redactor.text(str(message))
        record.args = None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.text(record.stack_info)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = self.redactor.value(fields)
        return True


class RepeatFilter(logging.Filter):
    """Lets at most `burst` lines of one kind (logger, level, message template) through per `window` seconds.

    A flood (a client holding every connection, an event loop out of file descriptors) then writes a few lines, not
    millions; the next line of that kind to pass says how many were suppressed."""

    def __init__(self, burst: int = 5, window: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self.clock = clock
        self._seen: dict[tuple[str, int, str], list[float | int]] = {}  # key -> [window start, passed, suppressed]

    EXEMPT = frozenset({"clicksend_mcp.calls"})  # one audit line per call: every one is kept

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in self.EXEMPT:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        entry = self._seen.get(key)
        if entry is None or now - entry[0] >= self.window:
            suppressed = int(entry[2]) if entry is not None else 0
            self._seen[key] = [now, 1, 0]
            if len(self._seen) > 1000:  # forget the oldest kinds rather than grow without bound
                for old in sorted(self._seen, key=lambda k: self._seen[k][0])[:500]:
                    del self._seen[old]
            if suppressed:
                record.msg = f"{record.msg} [{suppressed} more like this suppressed in the last {self.window:g}s]"
            return True
        if entry[1] < self.burst:
            entry[1] += 1
            return True
        entry[2] += 1
        return False


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a call's fields (tool, backend, http, error_code, duration_ms) become keys."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(level: str, redactor: Redactor, fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RepeatFilter())  # first: it keys on the message template, before redaction renders it
    handler.addFilter(RedactingFilter(redactor))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Third-party loggers stay quieter than ours unless debugging.
    if level != "debug":
        for name in ("mcp", "httpx2", "httpcore2", "uvicorn.access", "sse_starlette"):
            logging.getLogger(name).setLevel(logging.WARNING)
