"""Logging to stderr (stdout belongs to the stdio protocol), with every configured secret redacted."""

from __future__ import annotations

import logging
import sys

from .results import Redactor


class RedactingFilter(logging.Filter):
    """Renders each record once and removes secrets from the message and any traceback."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.text(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.redactor.text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def setup_logging(level: str, redactor: Redactor) -> None:
    handler = logging.StreamHandler(sys.stderr)
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
