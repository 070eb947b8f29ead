"""The loader refuses bad spec files, naming every file and field, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from clicksend_mcp.loader import SpecLoadError, load_specs

GOOD = """\
name: CLICKSEND_GET_THING
title: Get Thing
toolset: utilities
description: Get one thing by its id; use the list tool first to find the id you need.
http: {method: GET, path: "/things/{thing_id}"}
params:
  - {name: thing_id, in: path, required: true, description: The thing id., schema: {type: integer}}
annotations: {read_only: true, destructive: false, idempotent: true, open_world: false}
source: {catalogue: false, operation_id: ThingGet}
"""


def write(root: Path, name: str, text: str) -> Path:
    path = root / "utilities" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def problems_of(root: Path) -> list[str]:
    with pytest.raises(SpecLoadError) as info:
        load_specs(root)
    return [str(p) for p in info.value.problems]


def test_a_good_spec_loads(tmp_path: Path) -> None:
    write(tmp_path, "clicksend_get_thing.yaml", GOOD)
    [spec] = load_specs(tmp_path)
    assert spec.name == "CLICKSEND_GET_THING"
    assert spec.http.placeholders == ["thing_id"]


def test_an_unknown_key_is_refused_with_its_file_and_field(tmp_path: Path) -> None:
    write(tmp_path, "clicksend_get_thing.yaml", GOOD + "colour: blue\n")
    assert problems_of(tmp_path) == ["utilities/clicksend_get_thing.yaml: colour: Extra inputs are not permitted"]


def test_every_bad_file_is_reported_before_refusing(tmp_path: Path) -> None:
    write(tmp_path, "clicksend_get_thing.yaml", GOOD.replace("read_only: true, ", ""))
    write(
        tmp_path,
        "clicksend_other.yaml",
        GOOD.replace("CLICKSEND_GET_THING", "CLICKSEND_OTHER").replace("{thing_id}", "x"),
    )
    write(tmp_path, "broken.yaml", "name: [unclosed\n")
    found = problems_of(tmp_path)
    assert any(p.startswith("utilities/clicksend_get_thing.yaml: annotations.read_only") for p in found)
    assert any(p.startswith("utilities/clicksend_other.yaml") and "placeholders" in p for p in found)
    assert any(p.startswith("utilities/broken.yaml") and "not valid YAML" in p for p in found)


def test_a_parameter_problem_names_the_parameter(tmp_path: Path) -> None:
    write(tmp_path, "clicksend_get_thing.yaml", GOOD.replace("schema: {type: integer}", "schema: {type: int}"))
    [problem] = problems_of(tmp_path)
    assert problem.startswith("utilities/clicksend_get_thing.yaml: params[thing_id].schema")


def test_a_get_tool_must_be_read_only(tmp_path: Path) -> None:
    text = GOOD.replace("read_only: true, destructive: false", "read_only: false, destructive: false")
    write(tmp_path, "clicksend_get_thing.yaml", text)
    [problem] = problems_of(tmp_path)
    assert "a GET tool is read-only" in problem


def test_the_file_name_must_match_the_tool_name(tmp_path: Path) -> None:
    write(tmp_path, "thing.yaml", GOOD)
    assert problems_of(tmp_path) == ["utilities/thing.yaml: name: file should be named clicksend_get_thing.yaml"]


def test_two_files_may_not_define_the_same_tool(tmp_path: Path) -> None:
    write(tmp_path, "clicksend_get_thing.yaml", GOOD)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "clicksend_get_thing.yaml").write_text(GOOD)
    [problem] = problems_of(tmp_path)
    assert "already defined in" in problem


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [f"{tmp_path}: holds no tool specs"]
