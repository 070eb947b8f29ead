"""A scripted agent for the task suite: it sees only what an MCP client sees (tools/list, results), counts its calls,
and in discovery mode finds each tool by searching and describing it before calling it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp import Client

from clicksend_mcp.app import build_server
from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.compiler import CompiledTool
from conftest import direct_settings
from fake_clicksend import FakeClickSend

SEARCH, DESCRIBE, CALL, READ = (
    "CLICKSEND_SEARCH_TOOLS",
    "CLICKSEND_DESCRIBE_TOOL",
    "CLICKSEND_CALL_TOOL",
    "CLICKSEND_CALL_READ_ONLY_TOOL",
)


class NotServed(AssertionError):
    """The task needs a tool this server does not offer the agent."""


class Agent:
    def __init__(self, client: Client, discovery: bool, listed: dict[str, Any]) -> None:
        self.client = client
        self.discovery = discovery
        self.listed = listed
        self.calls = 0
        self.described: dict[str, dict[str, Any]] = {}
        self.found: dict[str, dict[str, Any]] = {}  # tools seen in search results: name -> summary

    async def _call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        result = await self.client.call_tool(name, arguments)
        assert result.structured_content is not None
        assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
        return result.structured_content

    async def use(self, name: str, arguments: dict[str, Any], *, query: str) -> dict[str, Any]:
        """Call a tool as an agent would: directly when listed; in discovery mode, search and describe it first
        unless this session already did."""
        if not self.discovery:
            if name not in self.listed:
                raise NotServed(f"{name} is not listed")
            return await self._call(name, arguments)
        if name not in self.described:
            if name not in self.found:
                found = await self._call(SEARCH, {"query": query})
                assert found["successful"], found
                for entry in found["data"]["tools"]:
                    self.found.setdefault(entry["name"], entry)
                if name not in self.found:
                    raise NotServed(f"searching {query!r} did not find {name}")
            described = await self._call(DESCRIBE, {"name": name})
            assert described["successful"], described
            self.described[name] = described["data"]
        read_only = self.described[name]["annotations"].get("readOnlyHint")
        via = READ if read_only and READ in self.listed else CALL
        return await self._call(via, {"name": name, "arguments": arguments})


@asynccontextmanager
async def session(
    tools: dict[str, CompiledTool], fake: FakeClickSend, *, discovery: bool, **settings: Any
) -> AsyncIterator[Agent]:
    """A fresh agent connected through the real MCP client to a server over the sandbox (the default selection
    unless `toolsets` is given)."""
    settings.setdefault("toolsets", None)
    dispatcher = build_dispatcher(direct_settings(**settings), tools=tools, asgi_app=fake)
    try:
        with anyio.fail_after(60):
            async with Client(build_server(dispatcher, discovery=discovery)) as client:
                listed = {t.name: t for t in (await client.list_tools()).tools}
                yield Agent(client, discovery, listed)
    finally:
        await dispatcher.aclose()
