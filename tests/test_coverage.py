"""The whole API as tools: every catalogue action is present, each tool reaches its endpoint, the docs are current."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.loader import spec_files
from clicksend_mcp.request_builder import encode_segment
from clicksend_mcp.tool_reference import render_markdown
from conftest import direct_settings
from fake_clicksend import FakeClickSend
from reference_data import reference
from schema_values import minimal_arguments, sample

DOCS = Path(__file__).resolve().parents[1] / "docs" / "tools.md"


def test_every_catalogue_action_is_a_tool(tools: dict[str, CompiledTool]) -> None:
    catalogue = {a["name"] for a in reference("catalogue_003.json")}
    assert len(catalogue) == 183
    missing = sorted(catalogue - set(tools))
    assert not missing, f"catalogue actions without a tool: {missing}"
    marked = {name for name, tool in tools.items() if tool.spec.source.catalogue}
    assert marked == catalogue, f"source.catalogue is wrong for {sorted(marked ^ catalogue)}"


def test_every_endpoint_of_the_newest_spec_is_covered(tools: dict[str, CompiledTool]) -> None:
    covered = {(t.spec.http.method, _shape(t.spec.http.path)) for t in tools.values() if t.spec.http}
    endpoints = reference("clicksend_endpoints.json")["endpoints"]
    newest = {(e["method"], _shape(e["path"])) for e in endpoints if e.get("in_v6_spec")}
    assert len(newest) >= 170
    assert not sorted(newest - covered), f"endpoints of the newest spec with no tool: {sorted(newest - covered)}"


def _shape(path: str) -> str:
    """A path with its placeholders blanked, so /lists/{list_id} and /lists/{id} compare equal."""
    return "/".join("{}" if part.startswith("{") else part for part in path.split("/"))


def test_non_catalogue_tools_follow_the_naming_rule(tools: dict[str, CompiledTool]) -> None:
    for tool in tools.values():
        if tool.spec.source.catalogue:
            continue
        assert tool.spec.source.operation_id or tool.spec.source.notes, f"{tool.name}: say where its name comes from"


def test_the_tool_reference_is_current(tools: dict[str, CompiledTool]) -> None:
    assert DOCS.read_text() == render_markdown(tools.values()), (
        "docs/tools.md is stale: clicksend-mcp --toolsets all tools --markdown > docs/tools.md"
    )


def test_every_send_tool_points_to_its_cost(tools: dict[str, CompiledTool]) -> None:
    for tool in tools.values():
        if tool.spec.sends:
            text = tool.spec.description.lower()
            assert "price" in text or "cost" in text or "charge" in text, f"{tool.name} does not say what it costs"


# Every tool ClickSend's API answers (the Maton-control and SkillBoss tools have their own tests: test_gateways.py).
ALL_TOOL_NAMES = sorted(
    spec["name"]
    for spec in (yaml.safe_load(p.read_text()) for p in spec_files(Path(__file__).resolve().parents[1] / "tool_specs"))
    if spec.get("api", "clicksend") == "clicksend" and "http" in spec  # local tools: tests/test_ledger.py
)


@pytest.mark.anyio
@pytest.mark.parametrize("name", ALL_TOOL_NAMES)
async def test_each_tool_sends_its_request_where_the_reference_maps_it(
    name: str, tools: dict[str, CompiledTool]
) -> None:
    tool = tools[name]
    fake = FakeClickSend()
    dispatcher = build_dispatcher(direct_settings(), tools=tools, asgi_app=fake)
    arguments = minimal_arguments(tool.input_schema, prefer=frozenset({"to"}) if tool.sends else frozenset())
    if tool.guard is not None and tool.guard.recipients:
        first = tool.guard.recipients[0][0][0][0]
        if first not in arguments:  # recipient fields that are each optional, one of them needed (forgot username)
            arguments[first] = sample(tool.input_schema["properties"][first], first)
    try:
        if "list_id" in arguments and tool.sends:
            # A list send is checked against --max-recipients by the list's size: give it a real list.
            created = await dispatcher.call("CLICKSEND_CREATE_LISTS", {"list_name": "routing"})
            arguments["list_id"] = created["data"]["list_id"]
            fake.requests.clear()
        result = await dispatcher.call(name, arguments)
    finally:
        await dispatcher.aclose()
    assert {"successful", "data", "error", "error_code"} <= set(result)
    assert result["error_code"] not in ("INVALID_ARGUMENTS", "REFUSED"), result["error"]
    if tool.sends and "list_id" in arguments:
        lookup, request = fake.requests
        assert (lookup.method, lookup.path) == ("GET", f"/v3/lists/{arguments['list_id']}")
    else:
        [request] = fake.requests
    spec = tool.spec
    path = spec.http.path
    for param in tool.path_params:
        path = path.replace("{" + param.wire + "}", encode_segment(param.name, arguments[param.name]))
    assert request.method == spec.http.method
    assert request.raw_path.split("?")[0] == "/v3" + path
    sent_query = {k for k, _ in request.query}
    assert sent_query == {p.wire for p in tool.query_params if p.name in arguments}
    if tool.body_params:
        expected = {p.wire for p in tool.body_params if p.name in arguments}
        if tool.guard and tool.guard.tag and len(tool.guard.tag) == 1:
            expected.add(tool.guard.tag[0][0])  # the lookup tag the server adds to a send
        assert set(request.json or {}) == expected
    else:
        assert request.body == b""
    if spec.source.catalogue:
        _check_against_action_map(tool)


def _check_against_action_map(tool: CompiledTool) -> None:
    spec = tool.spec
    mapped = reference("action_map.json")[spec.name]
    if (spec.http.method, spec.http.path) != (mapped["method"], mapped["path"]):
        assert spec.source.notes, f"{spec.name}: endpoint differs from action_map without notes"
        return
    recorded = {(d.input, d.change) for d in spec.source.differences}
    for param in spec.params:
        location = mapped["params"].get(param.name, {}).get("location")
        if location is None:
            continue
        if location != param.location:
            assert (param.name, "location") in recorded, (
                f"{spec.name}.{param.name} is sent in {param.location}, action_map says {location}, no reason recorded"
            )
