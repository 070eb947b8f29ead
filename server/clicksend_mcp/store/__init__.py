"""Where the ledger lives: a database URL becomes a store (SQLite by default, PostgreSQL when shared).

psycopg is imported only when a postgresql:// URL is used, so a stdio server starts without it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .base import LedgerStore

OFF = "off"


class DatabaseUrlError(ValueError):
    """CLICKSEND_MCP_DATABASE_URL cannot be used; the message says what is expected (never the password)."""


def default_path() -> Path:
    """$XDG_STATE_HOME/clicksend-mcp/ledger.db (~/.local/state when unset): state, not cache or config."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "clicksend-mcp" / "ledger.db"


@dataclass(frozen=True)
class Location:
    kind: str  # "sqlite" or "postgresql"
    url: str
    path: Path | None = None


def locate(url: str | None) -> Location | None:
    """The ledger's location for a URL; None when the ledger is off."""
    if url is None or not url.strip():
        path = default_path()
        return Location("sqlite", f"sqlite:///{path}", path)
    url = url.strip()
    if url.lower() == OFF:
        return None
    if url.startswith("sqlite://"):
        rest = url.removeprefix("sqlite://")
        if not rest.startswith("/") or rest == "/":
            raise DatabaseUrlError("CLICKSEND_MCP_DATABASE_URL: expected sqlite:///absolute/path/ledger.db")
        path = Path("/" + rest.lstrip("/"))
        return Location("sqlite", f"sqlite://{path}", path)
    if url.startswith(("postgresql://", "postgres://")):
        return Location("postgresql", url)
    raise DatabaseUrlError(
        "CLICKSEND_MCP_DATABASE_URL: expected sqlite:///path/ledger.db, postgresql://user@host/db, or off"
    )


def open_store(location: Location, *, target_version: int | None = None) -> LedgerStore:
    """A store for the location, not yet opened (call `await store.open()`)."""
    if location.kind == "sqlite":
        from .sqlite import SqliteStore

        assert location.path is not None
        return SqliteStore(location.path, target_version=target_version)
    from .postgres import PostgresStore

    return PostgresStore(location.url, target_version=target_version)


__all__ = ["OFF", "DatabaseUrlError", "LedgerStore", "Location", "default_path", "locate", "open_store"]
