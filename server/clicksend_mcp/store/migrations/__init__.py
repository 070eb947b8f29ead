"""The ledger's versioned schema: numbered SQL files per database, applied in order and recorded in schema_version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
SCHEMA_VERSION_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at {real} NOT NULL
    )
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def statements(self) -> list[str]:
        """The file's statements (the files hold no ';' inside literals, and comments are whole lines)."""
        lines = [line for line in self.sql.splitlines() if not line.lstrip().startswith("--")]
        return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def migrations(dialect: str) -> list[Migration]:
    """Every migration for `sqlite` or `postgresql`, by version; numbering must have no gaps."""
    found = []
    for entry in resources.files(__package__).joinpath(dialect).iterdir():
        match = _NAME_RE.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"ledger migrations for {dialect} are not numbered 1..n: {[m.version for m in found]}")
    return found


def latest(dialect: str) -> int:
    return len(migrations(dialect))
