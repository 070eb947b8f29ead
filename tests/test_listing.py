"""tools/list as served: each tool's entry, built as plain JSON, is exactly what the SDK's Tool model dumps to, and
it shares the compiled schemas rather than copying them."""

from __future__ import annotations

import anyio
import pytest
from mcp import Client

from clicksend_mcp.app import build_server, listed_tool, mcp_tool
from clicksend_mcp.assembly import build_dispatcher, load_tools
from clicksend_mcp.settings import Settings


def test_every_listed_entry_is_what_the_tool_model_dumps_to() -> None:
    tools = load_tools()
    for tool in tools.values():
        entry = listed_tool(tool)
        assert entry == mcp_tool(tool).model_dump(by_alias=True, mode="json", exclude_none=True), tool.name
        assert entry["inputSchema"] is tool.input_schema  # shared, not a copy


@pytest.mark.anyio
async def test_the_served_list_reads_back_as_the_same_tools() -> None:
    dispatcher = build_dispatcher(Settings(backend="sandbox", toolsets="all"))
    with anyio.fail_after(30):
        async with Client(build_server(dispatcher), mode="legacy") as client:
            listed = await client.list_tools()
    assert [t.name for t in listed.tools] == list(dispatcher.tools)
    for served in listed.tools:
        expected = mcp_tool(dispatcher.tools[served.name])
        assert served.model_dump(by_alias=True, exclude_none=True) == expected.model_dump(
            by_alias=True, exclude_none=True
        )
