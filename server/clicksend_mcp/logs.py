"""Logging to stderr (stdout belongs to the stdio protocol), with every configured secret redacted."""

from __future__ import annotations

import json
import logging
import sys
import time

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
