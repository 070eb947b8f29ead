"""tools/list as served: entries built as plain JSON are exactly what the SDK's Tool model dumps to and share the
compiled schemas; what is the same everywhere is stated once (the instructions), and an alias listed beside its
canonical tool points to it instead of repeating it."""

from __future__ import annotations

import json

import anyio
import pytest
from mcp import Client

from clicksend_mcp.app import INSTRUCTIONS, _without_descriptions, build_server, listed_tool, listed_tools, mcp_tool
from clicksend_mcp.assembly import build_dispatcher, load_tools
from clicksend_mcp.compiler import OUTPUT_SCHEMA
from clicksend_mcp.settings import Settings

ALIAS, CANONICAL = "CLICKSEND_SMS_INBOUND_AUTOMATION_PUT", "CLICKSEND_UPDATE_AUTOMATIONS_SMS_INBOUND"


def test_every_listed_entry_is_what_the_tool_model_dumps_to() -> None:
    for tool in load_tools().values():
        entry = listed_tool(tool)
        assert entry == mcp_tool(tool).model_dump(by_alias=True, mode="json", exclude_none=True), tool.name
        assert entry["inputSchema"] is tool.input_schema  # shared, not a copy
        assert entry["outputSchema"] is OUTPUT_SCHEMA


def test_what_every_tool_shares_is_stated_once_in_the_instructions() -> None:
    tools = load_tools()
    listed = json.dumps(listed_tools(tools.values()))
    assert "{successful, data, error, error_code" in INSTRUCTIONS
    for name in ("dry_run", "all_pages", "max_items", "fields", "keep_empty"):
        assert name in INSTRUCTIONS
    assert "ISO 8601 with an offset or 'YYYY-MM-DD HH:MM Area/City'" in INSTRUCTIONS
    assert "Or ISO 8601 with offset" not in listed  # no longer after every time input


def test_an_alias_beside_its_canonical_tool_points_to_it() -> None:
    tools = load_tools()
    alias, canonical = tools[ALIAS], tools[CANONICAL]
    assert alias.input_schema == canonical.input_schema
    entries = {e["name"]: e for e in listed_tools([canonical, alias])}
    assert entries[CANONICAL] == listed_tool(canonical)
    assert entries[ALIAS]["description"].startswith(f"Same as {CANONICAL}, a second name for one endpoint")
    assert entries[ALIAS]["inputSchema"] == _without_descriptions(canonical.input_schema)
    assert '"description"' not in json.dumps(entries[ALIAS]["inputSchema"])
    assert set(entries[ALIAS]["inputSchema"]["properties"]) == set(canonical.input_schema["properties"])


def test_an_alias_listed_without_its_canonical_tool_keeps_its_own_words() -> None:
    alias = load_tools()[ALIAS]
    [entry] = listed_tools([alias])
    assert entry == listed_tool(alias)
    assert "description" in json.dumps(entry["inputSchema"])


def test_a_property_named_description_survives_when_descriptions_are_dropped() -> None:
    schema = {"type": "object", "description": "x", "properties": {"description": {"type": "string"}}}
    assert _without_descriptions(schema) == {"type": "object", "properties": {"description": {"type": "string"}}}


@pytest.mark.anyio
async def test_the_served_list_is_the_listing_built_for_the_selection() -> None:
    dispatcher = build_dispatcher(Settings(backend="sandbox", toolsets="all"))
    with anyio.fail_after(30):
        async with Client(build_server(dispatcher), mode="legacy") as client:
            listed = await client.list_tools()
    expected = listed_tools(dispatcher.tools.values())
    assert [t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in listed.tools] == expected
