"""Shared fixtures: a clean environment, the compiled tools, the fake ClickSend and dispatchers against it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator

import pytest

# The spec cache goes to a private folder: tests never read or write the developer's ~/.cache.
os.environ.setdefault("CLICKSEND_MCP_CACHE_DIR", tempfile.mkdtemp(prefix="clicksend-mcp-test-cache-"))
# Likewise the send ledger: one private SQLite file for the session, never the developer's state directory.
os.environ.setdefault(
    "CLICKSEND_MCP_DATABASE_URL",
    "sqlite://" + os.path.join(tempfile.mkdtemp(prefix="clicksend-mcp-test-ledger-"), "ledger.db"),
)

from clicksend_mcp.assembly import build_dispatcher, load_tools
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.dispatcher import Dispatcher
from clicksend_mcp.settings import Settings
from fake_clicksend import API_KEY, MATON_CONNECTION, MATON_KEY, USERNAME, FakeClickSend

# Real services (PostgreSQL) as fixtures: postgres_server (per session), postgres_url (a fresh database per test).
pytest_plugins = ["services"]

_ENV = (
    "CLICKSEND_BACKEND",
    "CLICKSEND_USERNAME",
    "CLICKSEND_API_KEY",
    "CLICKSEND_BASE_URL",
    "MATON_API_KEY",
    "MATON_CONNECTION",
    "MATON_BASE_URL",
    "MATON_CTRL_BASE_URL",
    "CLICKSEND_SANDBOX_STATE",
    "CLICKSEND_TIMEOUT",
    "CLICKSEND_MCP_TRANSPORT",
    "CLICKSEND_MCP_HOST",
    "CLICKSEND_MCP_PORT",
    "CLICKSEND_MCP_LOG_LEVEL",
    "CLICKSEND_SPECS_DIR",
    "CLICKSEND_TOOLSETS",
    "CLICKSEND_TOOLS",
    "CLICKSEND_EXCLUDE_TOOLS",
    "CLICKSEND_READ_ONLY",
    "CLICKSEND_DISCOVERY",
    "CLICKSEND_MAX_RECIPIENTS",
    "CLICKSEND_ALLOWED_COUNTRIES",
    "CLICKSEND_TEST_NUMBERS_ONLY",
    "CLICKSEND_CONFIRM_SENDS",
    "CLICKSEND_MAX_RESULT_BYTES",
    "CLICKSEND_MCP_LEDGER_KEY",
    "CLICKSEND_MAX_SPEND_PER_DAY",
    "CLICKSEND_MAX_SPEND_PER_MONTH",
    "CLICKSEND_MAX_MESSAGES_PER_RECIPIENT",
    "CLICKSEND_QUIET_HOURS",
    "CLICKSEND_MCP_LEDGER_PENDING_TIMEOUT",
    "CLICKSEND_MCP_PUBLIC_URL",
    "CLICKSEND_MCP_WEBHOOK_SECRET",
    "CLICKSEND_MCP_SANDBOX_RESPONDER",
    "CLICKSEND_MCP_SANDBOX_REPLY_DELAY",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment: no test may see the developer's real credentials."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def tools() -> dict[str, CompiledTool]:
    return load_tools()


@pytest.fixture
def fake() -> FakeClickSend:
    return FakeClickSend()


def direct_settings(**extra: object) -> Settings:
    extra.setdefault("toolsets", "all")
    return Settings(backend="direct", clicksend_username=USERNAME, clicksend_api_key=API_KEY, **extra)


def maton_settings(**extra: object) -> Settings:
    extra.setdefault("toolsets", "all")
    return Settings(backend="maton", maton_api_key=MATON_KEY, maton_connection=MATON_CONNECTION, **extra)


@pytest.fixture
async def dispatcher(fake: FakeClickSend, tools: dict[str, CompiledTool]) -> AsyncIterator[Dispatcher]:
    d = build_dispatcher(direct_settings(), tools=tools, asgi_app=fake)
    yield d
    await d.aclose()


@pytest.fixture
async def sandbox_dispatcher(tools: dict[str, CompiledTool]) -> AsyncIterator[Dispatcher]:
    d = build_dispatcher(Settings(backend="sandbox", toolsets="all"), tools=tools)
    yield d
    await d.aclose()
