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


WITH_OBJECTS = """\
name: CLICKSEND_PUT_THING
title: Put Thing
toolset: utilities
description: Update one thing by its id; use the list tool first to find the id you need.
http: {method: PUT, path: "/things/{thing_id}"}
params:
  - {name: thing_id, in: path, required: true, description: The thing id., schema: {type: integer}}
  - name: items
    in: body
    description: The items.
    schema:
      type: array
      items:
        type: object
        properties:
          schedule: {type: integer}
          meta: {type: object, properties: {colour: {type: string}}}
annotations: {read_only: false, destructive: true, idempotent: true, open_world: false}
source: {catalogue: false, operation_id: ThingPut}
"""


def test_a_free_form_path_must_name_an_object_in_the_params(tmp_path: Path) -> None:
    write(tmp_path, "clicksend_put_thing.yaml", WITH_OBJECTS + 'free_form: ["items[].shedule"]\n')
    [problem] = problems_of(tmp_path)
    assert "free_form: 'items[].shedule' is not in the parameter's schema" in problem
    write(tmp_path, "clicksend_put_thing.yaml", WITH_OBJECTS + 'free_form: ["items[].schedule"]\n')
    assert "is not an object" in problems_of(tmp_path)[0]


def test_nested_objects_refuse_unknown_keys_unless_marked_free_form(tmp_path: Path) -> None:
    from clicksend_mcp.compiler import compile_tool

    write(tmp_path, "clicksend_put_thing.yaml", WITH_OBJECTS)
    [closed] = load_specs(tmp_path)
    write(tmp_path, "clicksend_put_thing.yaml", WITH_OBJECTS + 'free_form: ["items[].meta"]\n')
    [open_meta] = load_specs(tmp_path)
    arguments = {"thing_id": 1, "items": [{"schedule": 1, "meta": {"colour": "red", "size": 2}}]}
    typo = {"thing_id": 1, "items": [{"shedule": 1}]}
    assert [str(p) for p in compile_tool(closed).check_arguments(arguments)] == [
        "items[0].meta.size: unknown field; accepted fields: colour"
    ]
    assert compile_tool(open_meta).check_arguments(arguments) == []
    assert [str(p) for p in compile_tool(open_meta).check_arguments(typo)] == [
        "items[0].shedule: unknown field; did you mean schedule?"
    ]
