"""Shared fixtures: a clean environment, the compiled tools, the fake ClickSend and dispatchers against it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Mapping

import pytest

# Every variable under these prefixes is a setting (or a credential) of the server or of a backend it can use.
# Tests clear them all, by prefix rather than by a list that goes stale, so a developer's shell cannot change a result.
SETTINGS_PREFIXES = ("CLICKSEND_", "MATON_", "SKILLBOSS_")
# The spec cache goes to a private folder: tests never read or write the developer's ~/.cache.
CACHE_DIR = tempfile.mkdtemp(prefix="clicksend-mcp-test-cache-")
# Likewise the send ledger: one private SQLite file for the session, never the developer's state directory.
LEDGER_URL = "sqlite://" + os.path.join(tempfile.mkdtemp(prefix="clicksend-mcp-test-ledger-"), "ledger.db")
PRIVATE = {"CLICKSEND_MCP_CACHE_DIR": CACHE_DIR, "CLICKSEND_MCP_DATABASE_URL": LEDGER_URL}


def _settings_variables(environ: Mapping[str, str]) -> list[str]:
    return [name for name in environ if name.upper().startswith(SETTINGS_PREFIXES)]


# Cleared at import as well as per test: module-level code (tool loading, hypothesis strategies) runs before fixtures.
for _name in _settings_variables(os.environ):
    del os.environ[_name]
os.environ.update(PRIVATE)

from clicksend_mcp.assembly import build_dispatcher, load_tools  # noqa: E402
from clicksend_mcp.compiler import CompiledTool  # noqa: E402
from clicksend_mcp.dispatcher import Dispatcher  # noqa: E402
from clicksend_mcp.settings import Settings  # noqa: E402
from fake_clicksend import API_KEY, MATON_CONNECTION, MATON_KEY, USERNAME, FakeClickSend  # noqa: E402

# Real services (PostgreSQL) as fixtures: postgres_server (per session), postgres_url (a fresh database per test).
pytest_plugins = ["services"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment: no test may see the developer's real credentials or settings."""
    for name in _settings_variables(os.environ):
        monkeypatch.delenv(name)
    for name, value in PRIVATE.items():
        monkeypatch.setenv(name, value)


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
