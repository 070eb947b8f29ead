"""Contract tests over every spec file: it loads, compiles, routes as the reference says, and its schema is pinned."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from jsonschema import Draft202012Validator

from clicksend_mcp.app import mcp_tool
from clicksend_mcp.compiler import OUTPUT_SCHEMA, CompiledTool, compile_tool
from clicksend_mcp.loader import default_specs_dir, read_spec, spec_files
from clicksend_mcp.local_tools import HANDLERS
from clicksend_mcp.request_builder import RequestValueError, build_request
from clicksend_mcp.spec import find_combinators
from openapi_fake import find_operation
from reference_data import reference
from schema_values import minimal_arguments

SPECS_DIR = default_specs_dir()
FILES = spec_files(SPECS_DIR)
SNAPSHOTS = Path(__file__).parent / "snapshots"


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def compiled(path: Path) -> CompiledTool:
    spec, problems = read_spec(path, SPECS_DIR)
    assert not problems, "\n".join(map(str, problems))
    assert spec is not None
    return compile_tool(spec)


def test_the_specs_folder_holds_tools() -> None:
    assert len(FILES) >= 42


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_each_spec_loads_and_compiles(path: Path) -> None:
    tool = compiled(path)
    Draft202012Validator.check_schema(tool.input_schema)
    assert tool.input_schema["additionalProperties"] is False
    assert not find_combinators(tool.input_schema)


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_each_tool_called_with_no_arguments_meets_the_problems_its_schema_finds(path: Path) -> None:
    """No arguments are checked once and remembered: the answer must be what validating them finds, every time."""
    tool = compiled(path)
    schema = tool.validation_schema if tool.validation_schema is not None else tool.input_schema
    required = sorted(schema.get("required", []))
    for _ in range(2):
        problems = tool.check_arguments({})
        assert sorted(p.field for p in problems) == required
        assert all("required" in p.message for p in problems)


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_each_spec_states_all_four_annotations(path: Path) -> None:
    raw = yaml.safe_load(path.read_text())
    assert set(raw["annotations"]) == {"read_only", "destructive", "idempotent", "open_world"}


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_each_spec_lives_in_its_toolset_folder(path: Path) -> None:
    assert path.parent.name == compiled(path).spec.toolset


HTTP_FILES = [p for p in FILES if "http" in yaml.safe_load(p.read_text())]
LOCAL_FILES = [p for p in FILES if "local" in yaml.safe_load(p.read_text())]


@pytest.mark.parametrize("path", LOCAL_FILES, ids=_ids(LOCAL_FILES))
def test_each_local_spec_names_a_registered_handler_and_builds_no_request(path: Path) -> None:
    tool = compiled(path)
    assert tool.spec.local is not None and tool.spec.local.handler in HANDLERS
    assert all(p.location == "local" for p in tool.spec.params)
    with pytest.raises(RequestValueError):
        build_request(tool, minimal_arguments(tool.input_schema))


@pytest.mark.parametrize("path", HTTP_FILES, ids=_ids(HTTP_FILES))
def test_each_spec_builds_its_method_and_path_from_minimal_arguments(path: Path) -> None:
    tool = compiled(path)
    arguments = minimal_arguments(tool.input_schema)
    assert tool.check_arguments(arguments) == []
    request = build_request(tool, arguments)
    # The expected path from the spec's text, percent-encoded here, independently of the request builder.
    expected = tool.spec.http.path
    for param in tool.path_params:
        expected = expected.replace("{" + param.wire + "}", quote(str(arguments[param.name]), safe=""))
    assert (request.method, request.path) == (tool.spec.http.method, expected)
    # ...and a ClickSend tool's is an endpoint one of ClickSend's official OpenAPI files documents, with this method
    # (Maton's control API and SkillBoss are other APIs, described in their specs' notes).
    if tool.spec.api == "clicksend":
        operation = find_operation(request.method, "/v3" + request.path)
        assert operation is not None, f"{request.method} /v3{request.path} is in no file of reference/"


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_each_tool_schema_matches_its_snapshot(path: Path) -> None:
    tool = mcp_tool(compiled(path)).model_dump(by_alias=True, mode="json", exclude_none=True)
    assert tool["outputSchema"] == OUTPUT_SCHEMA  # every result is checked against the fuller contract in test_results
    snapshot = SNAPSHOTS / f"{path.stem}.json"
    rendered = json.dumps(tool, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") or (not snapshot.exists() and not os.environ.get("CI")):
        SNAPSHOTS.mkdir(exist_ok=True)
        snapshot.write_text(rendered)
    assert snapshot.exists(), f"no snapshot for {path.stem}: run UPDATE_SNAPSHOTS=1 pytest and commit it"
    assert snapshot.read_text() == rendered, f"{path.stem} changed: review, then UPDATE_SNAPSHOTS=1 pytest"


def test_every_snapshot_belongs_to_a_spec() -> None:
    stale = sorted({p.stem for p in SNAPSHOTS.glob("*.json")} - {p.stem for p in FILES})
    assert not stale, f"snapshots without a spec: {stale}"


CATALOGUE_FILES = [p for p in FILES if yaml.safe_load(p.read_text())["source"]["catalogue"]]


@pytest.mark.parametrize("path", CATALOGUE_FILES, ids=_ids(CATALOGUE_FILES))
def test_a_catalogue_tool_keeps_the_catalogues_inputs_unless_a_difference_is_recorded(path: Path) -> None:
    spec = compiled(path).spec
    catalogue = {a["name"]: a for a in reference("catalogue_003.json")}
    assert spec.name in catalogue, f"{spec.name} is not a catalogue action; set source.catalogue: false"
    action = catalogue[spec.name]
    assert spec.title == action["title"]
    recorded = {(d.input, d.change) for d in spec.source.differences}
    ours = spec.param_by_name
    for item in action["inputs"]:
        name = item["name"]
        if name not in ours:
            assert (name, "removed") in recorded, f"catalogue input {name!r} missing without a recorded reason"
            continue
        if ours[name].required != item["required"]:
            change = "required" if ours[name].required else "optional"
            assert (name, change) in recorded, f"{name!r} required flag differs without a recorded reason"
    for name in ours:
        if name not in {i["name"] for i in action["inputs"]}:
            assert (name, "added") in recorded, f"input {name!r} is not in the catalogue and not recorded as added"


@pytest.mark.parametrize("path", CATALOGUE_FILES, ids=_ids(CATALOGUE_FILES))
def test_a_catalogue_tool_calls_the_mapped_endpoint_or_says_why_not(path: Path) -> None:
    spec = compiled(path).spec
    mapped = reference("action_map.json")[spec.name]
    if (spec.http.method, spec.http.path) != (mapped["method"], mapped["path"]):
        assert spec.source.notes and len(spec.source.notes) > 20, "a different endpoint than action_map needs notes"
