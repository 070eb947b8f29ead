"""tools/list as served: entries built as plain JSON are exactly what the SDK's Tool model dumps to and share the
compiled schemas; what is the same everywhere is stated once (the instructions or the protocol's defaults), an alias
listed beside its canonical tool points to it, an input an earlier entry already describes points to that entry; the
full catalogue's listing, as a client receives it, stays under 320,000 bytes; and the server still holds every call to
the full schema."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp import Client

from clicksend_mcp.app import INSTRUCTIONS, build_server, listed_tool, listed_tools, listing_bytes, mcp_tool
from clicksend_mcp.assembly import build_dispatcher, load_tools
from clicksend_mcp.compiler import OUTPUT_SCHEMA, CompiledTool
from clicksend_mcp.listing import ALIAS_INPUTS, listed_annotations
from clicksend_mcp.presentation import served
from clicksend_mcp.selection import Selection
from clicksend_mcp.settings import Settings
from conftest import direct_settings
from console import run_cli
from fake_clicksend import FakeClickSend

ALIAS, CANONICAL = "CLICKSEND_SMS_INBOUND_AUTOMATION_PUT", "CLICKSEND_UPDATE_AUTOMATIONS_SMS_INBOUND"
CREATE_RULE = "CLICKSEND_CREATE_AUTOMATIONS_SMS_INBOUND"
MAX_FULL_CATALOGUE_BYTES = 320_000
REFERENCE = re.compile(r"^As in (CLICKSEND_[A-Z0-9_]+)\.$")
# MCP's defaults for the tool hints; destructiveHint and idempotentHint mean something only when readOnlyHint is false.
PROTOCOL_DEFAULTS = {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False, "openWorldHint": True}


def inputs(schema: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every input of a schema with its path (`[]` for an array's items), as listed_tools walks them."""
    if not isinstance(schema, dict):
        return
    if path:
        yield path, schema
    for name, sub in (schema.get("properties") or {}).items():
        yield from inputs(sub, (*path, name))
    if isinstance(schema.get("items"), dict):
        yield from inputs(schema["items"], (*path, "[]"))


def node(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for part in path:
        schema = schema["items"] if part == "[]" else schema["properties"][part]
    return schema


def full_catalogue(tools: dict[str, CompiledTool]) -> dict[str, CompiledTool]:
    """Every tool of every backend, as the agent reads them with the default recipient limit."""
    listed, _ = served(Selection.from_names("all"), tools, max_recipients=100)
    return listed


def test_every_listed_entry_is_what_the_tool_model_dumps_to() -> None:
    for tool in load_tools().values():
        entry = listed_tool(tool)
        assert entry == mcp_tool(tool).model_dump(by_alias=True, mode="json", exclude_none=True), tool.name
        assert entry["outputSchema"] is OUTPUT_SCHEMA
        for name, sub in tool.input_schema["properties"].items():
            listed = entry["inputSchema"]["properties"][name]
            assert listed is sub or listed == {"type": sub["type"]}, (tool.name, name)  # shared, not a copy


def test_what_every_tool_shares_is_stated_once_in_the_instructions() -> None:
    tools = load_tools()
    listed = json.dumps(listed_tools(tools.values()))
    assert "{successful, data, error, error_code" in INSTRUCTIONS
    for name in ("dry_run", "all_pages", "max_items", "fields", "keep_empty", "page and limit"):
        assert name in INSTRUCTIONS
    assert "ISO 8601 with an offset or 'YYYY-MM-DD HH:MM Area/City'" in INSTRUCTIONS
    assert "Or ISO 8601 with offset" not in listed  # no longer after every time input
    assert "max_items is 1 to 5000 (default 500)" in INSTRUCTIONS
    for entry in listed_tools(tools.values()):
        for name in ("dry_run", "all_pages", "max_items", "fields", "keep_empty"):
            sub = entry["inputSchema"].get("properties", {}).get(name)
            assert sub is None or "description" in sub or set(sub) == {"type"}, (entry["name"], name)
    assert "A tool takes only the inputs its schema lists" in INSTRUCTIONS
    assert all("additionalProperties" not in e["inputSchema"] for e in listed_tools(tools.values()))
    assert "results per page, 1 to 100 (default 15)" in INSTRUCTIONS
    assert "Results per page (default 15)." not in listed and "Page number (default 1)." not in listed


def test_a_page_or_limit_unlike_clicksends_keeps_its_own_description() -> None:
    tools = load_tools()
    entries = {e["name"]: e for e in listed_tools(tools.values())}
    standard = {
        "page": {"type": "integer", "minimum": 1, "description": "Page number (default 1)."},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "description": "Results per page (default 15)."},
    }
    own_words = 0
    for name, tool in tools.items():
        for param, usual in standard.items():
            sub = tool.input_schema["properties"].get(param)
            if sub is None:
                continue
            listed = entries[name]["inputSchema"]["properties"][param]
            if sub == usual:
                assert listed == {"type": "integer"}, (name, param)
            else:
                assert listed is sub, (name, param)
                own_words += 1
    assert own_words >= 3  # e.g. a limit with another default or bound


def test_hints_read_with_the_protocols_defaults_are_the_tools_own() -> None:
    for tool in load_tools().values():
        listed = listed_annotations(tool.annotations)
        effective = {**PROTOCOL_DEFAULTS, **listed}
        meaningful = ("readOnlyHint", "openWorldHint")
        if not tool.annotations["readOnlyHint"]:
            meaningful += ("destructiveHint", "idempotentHint")
            assert "destructiveHint" in listed, tool.name  # never left to a default a client might not apply
        else:
            assert listed["readOnlyHint"] is True
        for hint in meaningful:
            assert effective[hint] == tool.annotations[hint], (tool.name, hint)


def test_an_alias_beside_its_canonical_tool_points_to_it() -> None:
    tools = load_tools()
    alias, canonical = tools[ALIAS], tools[CANONICAL]
    assert alias.input_schema == canonical.input_schema
    entries = {e["name"]: e for e in listed_tools([canonical, alias])}
    assert entries[CANONICAL] == listed_tool(canonical)
    assert entries[ALIAS]["description"].startswith(f"Same as {CANONICAL}, a second name for one endpoint")
    assert entries[ALIAS]["inputSchema"] == ALIAS_INPUTS == {"type": "object"}


def test_an_alias_listed_without_its_canonical_tool_keeps_its_own_words() -> None:
    alias = load_tools()[ALIAS]
    [entry] = listed_tools([alias])
    assert entry == listed_tool(alias)
    assert "description" in json.dumps(entry["inputSchema"])


def test_an_input_an_earlier_entry_describes_points_to_it() -> None:
    tools = load_tools()
    create, update = tools[CREATE_RULE], tools[CANONICAL]
    first, second = listed_tools([create, update])
    assert first == listed_tool(create)
    action = second["inputSchema"]["properties"]["action"]
    assert action == {"type": "string", "description": f"As in {CREATE_RULE}."}
    assert create.input_schema["properties"]["action"] == update.input_schema["properties"]["action"]
    assert "enum" in first["inputSchema"]["properties"]["action"]
    # Listed alone, nothing points anywhere.
    [alone] = listed_tools([update])
    assert alone == listed_tool(update) and "As in" not in json.dumps(alone)


def test_every_reference_in_the_full_catalogue_names_an_earlier_entry_that_says_it() -> None:
    tools = load_tools()
    catalogue = full_catalogue(tools)
    entries = listed_tools(catalogue.values())
    seen: dict[str, dict[str, Any]] = {}
    references = 0
    for entry in entries:
        tool = catalogue[entry["name"]]
        for path, listed in inputs(entry["inputSchema"]):
            match = REFERENCE.match(listed.get("description", ""))
            if match is None:
                continue
            references += 1
            earlier = seen[match.group(1)]  # listed above this entry
            said = node(earlier["inputSchema"], path)
            own = node(tool.input_schema, path)
            assert not REFERENCE.match(said["description"]) and said["description"] == own["description"]
            if set(own) - {"type", "description"} and set(listed) <= {"type", "description"}:
                assert said == own  # the whole input points there: the same schema, its constraints included
        seen[entry["name"]] = entry
    assert references > 50


def test_the_full_catalogues_listing_as_a_client_receives_it_stays_under_320_kb() -> None:
    tools = load_tools()
    catalogue = full_catalogue(tools)
    assert len(catalogue) == len(Selection.from_names("all").apply(tools))
    size = listing_bytes(catalogue.values(), discovery=False)
    assert size <= MAX_FULL_CATALOGUE_BYTES, f"tools/list for every tool is {size:,} bytes"


def test_the_size_the_tools_command_reports_is_the_bytes_a_stdio_client_receives() -> None:
    env = {"CLICKSEND_MCP_DATABASE_URL": "off"}
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "size-test", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    done = run_cli(
        "--backend", "sandbox", "--toolsets", "all", env=env, stdin="".join(json.dumps(r) + "\n" for r in requests)
    )
    [line] = [raw for raw in done.stdout.encode().splitlines() if json.loads(raw).get("id") == 2]
    received = len(line) - len(b'{"jsonrpc":"2.0","id":2,"result":}')
    assert json.loads(line)["result"]["tools"] and line.startswith(b'{"jsonrpc":"2.0","id":2,"result":')
    reported = run_cli("--backend", "sandbox", "--toolsets", "all", "tools", "--size", env=env)
    assert re.search(rf"this selection\s+\d+ tools\s+{received} bytes", reported.stdout), (received, reported.stdout)


@pytest.mark.anyio
async def test_the_served_list_is_the_listing_built_for_the_selection() -> None:
    dispatcher = build_dispatcher(Settings(backend="sandbox", toolsets="all"))
    with anyio.fail_after(30):
        async with Client(build_server(dispatcher), mode="legacy") as client:
            listed = await client.list_tools()
    expected = listed_tools(dispatcher.tools.values())
    assert [t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in listed.tools] == expected


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"max_items": 6000, "all_pages": True}, "max_items"),
        ({"limit": 500}, "limit"),
        ({"page": 0}, "page"),
        ({"fields": []}, "fields"),
        ({"no_such_input": 1}, "no_such_input"),
    ],
)
async def test_what_the_listing_leaves_to_the_instructions_the_server_still_checks(
    arguments: dict[str, Any], field: str
) -> None:
    fake = FakeClickSend()
    dispatcher = build_dispatcher(direct_settings(), asgi_app=fake)
    try:
        with anyio.fail_after(30):
            async with Client(build_server(dispatcher)) as client:
                result = await client.call_tool("CLICKSEND_GET_SMS_TEMPLATES", arguments)
    finally:
        await dispatcher.aclose()
    assert result.is_error and result.structured_content is not None
    assert result.structured_content["error_code"] == "INVALID_ARGUMENTS"
    assert field in result.structured_content["error"]
    assert fake.requests == []


def test_presenting_a_selection_rewrites_every_description_that_names_a_tool_and_nothing_else() -> None:
    """The compiler records where descriptions name tools; rendering only those gives what rendering every
    description of every schema gives (the one in view of a selection that leaves most tools out)."""
    from clicksend_mcp.presentation import _map_descriptions, _render_mentions, render_references

    tools = load_tools()
    few = {name: tools[name] for name in list(tools)[:20]}

    def render(text: str) -> str:
        return render_references(text, few, tools)

    changed = 0
    for tool in tools.values():
        rendered = _render_mentions(tool, render)
        assert rendered == _map_descriptions(tool.input_schema, render), tool.name
        changed += rendered is not tool.input_schema
    assert changed > 0  # the check above saw rewritten descriptions, not only untouched schemas
