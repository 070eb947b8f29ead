"""What a stdio start loads: an MCP client starts the server for every conversation, so the path to tools/list
imports only what it needs. The HTTP transports' stack (uvicorn's h11 protocol, OAuth with its JWT library,
Prometheus), argument validation (jsonschema), the spec parser (YAML, on a warm spec cache) and argparse (no
arguments given) wait until something uses them.

Read from the server's own `-X importtime` report, through a real stdio session: not a timing, a list of modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fake_clicksend import API_KEY, USERNAME

pytestmark = pytest.mark.e2e

DEFERRED = (
    "clicksend_mcp.transports.asgi",
    "clicksend_mcp.transports.oauth",
    "clicksend_mcp.transports.connections",
    "clicksend_mcp.transports.metrics",
    "uvicorn.protocols.http.h11_impl",
    "jwt",
    "prometheus_client",
    "jsonschema",
    "yaml",
    "argparse",
    "psycopg",
)


def stdio_session_imports(env: dict[str, str], report: Path) -> set[str]:
    """initialize, tools/list over the server's real stdin/stdout; then the modules its interpreter imported."""
    with report.open("wb") as stderr:  # a file, not a pipe: the report outgrows a pipe's buffer before tools/list
        process = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "clicksend_mcp"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    assert process.stdin is not None and process.stdout is not None
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "startup-imports", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
    ]
    try:
        for message in messages:
            process.stdin.write(json.dumps(message).encode() + b"\n")
            process.stdin.flush()
            if "id" in message:
                answer = json.loads(process.stdout.readline())
                assert answer.get("id") == message["id"] and "result" in answer, answer
                if message["method"] == "tools/list":
                    assert len(answer["result"]["tools"]) > 10
        process.communicate(timeout=60)  # closes stdin: the server ends as a client's exit ends it
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    return {
        line.split("|")[-1].strip()
        for line in report.read_text("utf-8", "replace").splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def test_a_stdio_start_to_tools_list_leaves_the_http_stack_validation_and_yaml_unloaded(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "CLICKSEND_MCP_CACHE_DIR": str(tmp_path / "cache"),
        "CLICKSEND_MCP_DATABASE_URL": "sqlite://" + str(tmp_path / "ledger.db"),
        "CLICKSEND_BACKEND": "direct",
        "CLICKSEND_USERNAME": USERNAME,
        "CLICKSEND_API_KEY": API_KEY,
        "CLICKSEND_BASE_URL": "http://127.0.0.1:9/v3",  # never called: tools/list needs no request
        "CLICKSEND_TOOLSETS": "all",
    }
    # The first start fills the spec cache: it parses the YAML and checks the schemas.
    first = stdio_session_imports(env, tmp_path / "first.txt")
    assert "yaml" in first and "clicksend_mcp.cli" in first  # the report is read right
    warm = stdio_session_imports(env, tmp_path / "warm.txt")
    assert "clicksend_mcp.app" in warm and "mcp_types" in warm
    assert sorted(name for name in DEFERRED if name in warm) == []
