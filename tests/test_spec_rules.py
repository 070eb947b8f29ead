"""Every rule a spec must keep, one case each: the spec model's field and cross-field checks, and every refusal of the
compiler. Each case starts from a spec that loads and compiles, breaks one thing, and expects the one message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from clicksend_mcp.compiler import CompileError, compile_tool, compile_tools
from clicksend_mcp.spec import ToolSpec

Change = Callable[[dict[str, Any]], None]


def read_tool() -> dict[str, Any]:
    return {
        "name": "CLICKSEND_GET_THING",
        "title": "Get Thing",
        "toolset": "utilities",
        "description": "Get one thing by its id; use the list tool first to find the id you need.",
        "http": {"method": "GET", "path": "/things/{thing_id}"},
        "params": [
            {
                "name": "thing_id",
                "in": "path",
                "required": True,
                "description": "The id.",
                "schema": {"type": "integer"},
            },
            {"name": "page", "in": "query", "description": "Page number.", "schema": {"type": "integer"}},
        ],
        "annotations": {"read_only": True, "destructive": False, "idempotent": True, "open_world": False},
        "source": {"catalogue": False, "operation_id": "ThingGet"},
    }


def send_tool() -> dict[str, Any]:
    return {
        "name": "CLICKSEND_SEND_THING",
        "title": "Send Thing",
        "toolset": "utilities",
        "description": "Send a thing to people; it costs money, so quote it with the price tool first.",
        "http": {"method": "POST", "path": "/things/send"},
        "params": [
            {
                "name": "messages",
                "in": "body",
                "required": True,
                "description": "The messages.",
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"to": {"type": "string"}, "custom_string": {"type": "string"}},
                    },
                },
            }
        ],
        "annotations": {"read_only": False, "destructive": True, "idempotent": False, "open_world": True},
        "sends": "sms",
        "guard": {"recipients": [{"path": "messages[].to", "kind": "phone"}], "tag": "messages[].custom_string"},
        "source": {"catalogue": False, "operation_id": "ThingSend"},
    }


def test_the_starting_specs_load_and_compile() -> None:
    for raw in (read_tool(), send_tool()):
        compile_tool(ToolSpec.model_validate(raw))


def _set(*keys: str | int, value: Any) -> Change:
    def change(raw: dict[str, Any]) -> None:
        node: Any = raw
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return change


def _add_param(param: dict[str, Any]) -> Change:
    return lambda raw: raw["params"].append(param)


def _drop(key: str) -> Change:
    return lambda raw: raw.pop(key)


QUERY_PARAM = {"name": "q", "in": "query", "description": "A filter.", "schema": {"type": "string"}}

# (case id, which spec to start from, the one change, what the refusal says)
SPEC_RULES: list[tuple[str, Callable[[], dict[str, Any]], Change, str]] = [
    # cross-field checks
    ("duplicate parameter names", read_tool, _add_param({**QUERY_PARAM, "name": "page"}), "duplicate names ['page']"),
    (
        "two inputs with one wire name",
        read_tool,
        _add_param({**QUERY_PARAM, "name": "page_number", "wire_name": "page"}),
        "two inputs send the same ['query:page']",
    ),
    (
        "a placeholder twice",
        read_tool,
        _set("http", "path", value="/things/{thing_id}/{thing_id}"),
        "a placeholder appears twice",
    ),
    (
        "a placeholder without a path parameter",
        read_tool,
        _set("http", "path", value="/things/{thing_id}/{part}"),
        "must equal the 'in: path' params",
    ),
    (
        "a path parameter without a placeholder",
        read_tool,
        _set("http", "path", value="/things"),
        "must equal the 'in: path' params",
    ),
    ("an optional path parameter", read_tool, _set("params", 0, "required", value=False), "must be required"),
    (
        "a GET with a body parameter",
        read_tool,
        _add_param({**QUERY_PARAM, "in": "body"}),
        "a GET tool has no body parameters",
    ),
    (
        "a GET that is not read-only",
        read_tool,
        _set("annotations", "read_only", value=False),
        "a GET tool is read-only",
    ),
    (
        "a read-only tool that is destructive",
        read_tool,
        _set("annotations", "destructive", value=True),
        "a read-only tool is not destructive",
    ),
    (
        "a read-only tool that sends",
        send_tool,
        lambda raw: raw["annotations"].update(read_only=True, destructive=False),
        "a tool that sends is not read-only",
    ),
    (
        "a send that is not open-world",
        send_tool,
        _set("annotations", "open_world", value=False),
        "a tool that sends reaches the outside world",
    ),
    ("a send without a guard", send_tool, _drop("guard"), "a tool that sends needs a guard block"),
    (
        "a send guard on a tool that does not send",
        send_tool,
        _drop("sends"),
        "a send guard needs the channel it sends on",
    ),
    *[
        (
            f"a parameter named {name}",
            send_tool,
            _add_param({**QUERY_PARAM, "name": name, "in": "body"}),
            "are added by the server",
        )
        for name in ("dry_run", "all_pages", "max_items")
    ],
    (
        "a recorded difference about an input the tool lacks",
        read_tool,
        _set("source", "differences", value=[{"input": "colour", "change": "added", "reason": "the catalogue has it"}]),
        "'colour' is not an input of this tool",
    ),
    # field checks
    ("a tool name outside the pattern", read_tool, _set("name", value="clicksend_get_thing"), "must match"),
    ("a toolset name outside the pattern", read_tool, _set("toolset", value="Utilities"), "must match"),
    ("a relative path", read_tool, _set("http", "path", value="things/{thing_id}"), "must start with a single '/'"),
    ("a path with a query", read_tool, _set("http", "path", value="/things/{thing_id}?x=1"), "must not contain '?'"),
    ("a path with dot-dot", read_tool, _set("http", "path", value="/things/../{thing_id}"), "must not contain '?'"),
    ("a path with white space", read_tool, _set("http", "path", value="/things/ {thing_id}"), "white space"),
    ("a parameter name outside the pattern", read_tool, _set("params", 1, "name", value="1page"), "must match"),
    ("a schema without a type", read_tool, _set("params", 1, "schema", value={}), "needs a 'type'"),
    ("a schema with an unknown type", read_tool, _set("params", 1, "schema", value={"type": "int"}), "unknown JSON"),
    (
        "a description inside a schema",
        read_tool,
        _set("params", 1, "schema", value={"type": "integer", "description": "x"}),
        "put the description on the parameter",
    ),
    ("an unknown key", read_tool, _set("colour", value="blue"), "Extra inputs are not permitted"),
    ("a missing annotation", read_tool, lambda raw: raw["annotations"].pop("open_world"), "Field required"),
    ("a short description", read_tool, _set("description", value="Gets it."), "at least 40 characters"),
    (
        "a recipient path that is not a path",
        send_tool,
        _set("guard", "recipients", 0, "path", value="messages..to"),
        "String should match pattern",
    ),
]


@pytest.mark.parametrize(("start", "change", "expected"), [c[1:] for c in SPEC_RULES], ids=[c[0] for c in SPEC_RULES])
def test_a_spec_breaking_one_rule_is_refused_with_that_rule(
    start: Callable[[], Any], change: Change, expected: str
) -> None:
    raw = start()
    change(raw)
    with pytest.raises(ValidationError) as info:
        ToolSpec.model_validate(raw)
    assert expected in str(info.value)


COMPILE_RULES: list[tuple[str, Callable[[], dict[str, Any]], Change, str]] = [
    (
        "a schema that is not valid JSON Schema",
        read_tool,
        _set("params", 1, "schema", value={"type": "integer", "minimum": "one"}),
        "CLICKSEND_GET_THING: input schema is not valid JSON Schema at properties/page/minimum",
    ),
    (
        "a recipient path missing from the input schema",
        send_tool,
        _set("guard", "recipients", 0, "path", value="messages[].phone"),
        "CLICKSEND_SEND_THING: guard.recipients path 'messages[].phone' is not in the input schema",
    ),
    (
        "a recipient path through a field that is not a list",
        send_tool,
        _set("guard", "recipients", 0, "path", value="messages.to"),
        "guard.recipients path 'messages.to' is not in the input schema",
    ),
    (
        "a tag path missing from the input schema",
        send_tool,
        _set("guard", "tag", value="messages[].label"),
        "CLICKSEND_SEND_THING: guard.tag path 'messages[].label' is not in the input schema",
    ),
]


@pytest.mark.parametrize(
    ("start", "change", "expected"), [c[1:] for c in COMPILE_RULES], ids=[c[0] for c in COMPILE_RULES]
)
def test_a_spec_the_compiler_cannot_build_is_refused_with_the_reason(
    start: Callable[[], Any], change: Change, expected: str
) -> None:
    raw = start()
    change(raw)
    spec = ToolSpec.model_validate(raw)
    with pytest.raises(CompileError) as info:
        compile_tool(spec)
    assert expected in str(info.value)


def _with_guard(**guard: str) -> dict[str, Any]:
    raw = send_tool()
    raw["guard"].update(guard)
    return raw


@pytest.mark.parametrize(
    ("send", "expected"),
    [
        (
            _with_guard(price_tool="CLICKSEND_NO_SUCH_TOOL"),
            "CLICKSEND_SEND_THING: guard.price_tool CLICKSEND_NO_SUCH_TOOL is not a read-only tool",
        ),
        (
            _with_guard(price_tool="CLICKSEND_SEND_THING"),
            "CLICKSEND_SEND_THING: guard.price_tool CLICKSEND_SEND_THING is not a read-only tool",
        ),
        (
            _with_guard(history_tool="CLICKSEND_NO_SUCH_TOOL"),
            "CLICKSEND_SEND_THING: guard.history_tool CLICKSEND_NO_SUCH_TOOL is not a tool",
        ),
    ],
    ids=[
        "a price tool that does not exist",
        "a price tool that is not read-only",
        "a history tool that does not exist",
    ],
)
def test_a_guard_naming_a_missing_or_writable_tool_is_refused(send: dict[str, Any], expected: str) -> None:
    with pytest.raises(CompileError) as info:
        compile_tools([ToolSpec.model_validate(read_tool()), ToolSpec.model_validate(send)])
    assert str(info.value) == expected


def test_a_guard_naming_existing_tools_compiles() -> None:
    send = _with_guard(price_tool="CLICKSEND_GET_THING", history_tool="CLICKSEND_GET_THING")
    compiled = compile_tools([ToolSpec.model_validate(read_tool()), ToolSpec.model_validate(send)])
    assert compiled["CLICKSEND_SEND_THING"].guard is not None


def test_compile_errors_of_every_spec_are_reported_together() -> None:
    first = read_tool()
    first["params"][1]["schema"] = {"type": "integer", "minimum": "one"}
    second = copy.deepcopy(send_tool())
    second["guard"]["tag"] = "messages[].label"
    with pytest.raises(CompileError) as info:
        compile_tools([ToolSpec.model_validate(first), ToolSpec.model_validate(second)])
    lines = str(info.value).splitlines()
    assert [line.split(":")[0] for line in lines] == ["CLICKSEND_GET_THING", "CLICKSEND_SEND_THING"]
