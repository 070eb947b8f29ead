"""Running the installed `clicksend-mcp` console script as a person would: a process, its output and exit status."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TIMEOUT = 60


def console_script() -> str:
    found = shutil.which("clicksend-mcp", path=str(Path(sys.executable).parent)) or shutil.which("clicksend-mcp")
    if not found:
        pytest.fail("the clicksend-mcp console script is not installed: pip install -e '.[test]'")
    return found


def base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """PATH, HOME, the tests' spec cache and ledger, and what the test adds: none of the developer's settings."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    # The session's private spec cache and send ledger (conftest.py), never the developer's.
    for name in ("CLICKSEND_MCP_CACHE_DIR", "CLICKSEND_MCP_DATABASE_URL"):
        if name in os.environ:
            env[name] = os.environ[name]
    return {**env, **(extra or {})}


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script(), *args],
        env=base_env(env),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
