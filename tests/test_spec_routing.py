"""The spec fields that route a tool to another API without code (api, fixed_query, fixed_body, body_key, header
inputs, confirm): what they build, and the mistakes the model refuses, naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from clicksend_mcp.compiler import MATON_CONNECTION_PARAM, compile_tool, with_param
from clicksend_mcp.request_builder import RequestValueError, build_request
from clicksend_mcp.spec import ToolSpec

RUN: dict[str, Any] = {
    "name": "CLICKSEND_RUN_THING",
    "title": "Run Thing",
    "toolset": "skillboss",
    "description": "Run one thing through another API; a test spec for routing fields and their checks.",
    "api": "skillboss",
    "http": {"method": "POST", "path": "/run", "fixed_body": {"model": "x/y"}, "body_key": "inputs"},
    "params": [{"name": "to", "in": "body", "required": True, "description": "Who.", "schema": {"type": "string"}}],
    "annotations": {"read_only": False, "destructive": False, "idempotent": False, "open_world": True},
    "source": {"catalogue": False, "notes": "test"},
}


def spec(**changes: Any) -> ToolSpec:
    data = {**RUN, **changes}
    return ToolSpec.model_validate(data)


def test_body_inputs_go_inside_the_body_key_next_to_the_fixed_fields() -> None:
    request = build_request(compile_tool(spec()), {"to": "+12015550123"})
    assert request.json_body == {"model": "x/y", "inputs": {"to": "+12015550123"}}


def test_fixed_query_fields_go_before_the_inputs() -> None:
    listed = spec(
        http={"method": "GET", "path": "/connections", "fixed_query": {"app": "clicksend"}},
        params=[{"name": "status", "in": "query", "description": "Status.", "schema": {"type": "string"}}],
        annotations={"read_only": True, "destructive": False, "idempotent": True, "open_world": True},
    )
    request = build_request(compile_tool(listed), {"status": "ACTIVE"})
    assert request.query == (("app", "clicksend"), ("status", "ACTIVE")) and request.json_body is None


def test_a_header_input_becomes_a_request_header_and_nothing_else() -> None:
    tool = with_param(compile_tool(spec()), MATON_CONNECTION_PARAM)
    connection = "37beee67-29f7-43b6-b0b2-5f0f7a5d6440"
    assert tool.check_arguments({"to": "x", "maton_connection": connection}) == []
    request = build_request(tool, {"to": "x", "maton_connection": connection})
    assert request.headers == (("Maton-Connection", connection),)
    assert request.json_body == {"model": "x/y", "inputs": {"to": "x"}}
    for bad in ("a\r\nX-Evil: 1", "tab\there", "café"):
        with pytest.raises(RequestValueError, match="maton_connection: expected printable ASCII"):
            build_request(tool, {"to": "x", "maton_connection": bad})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"http": {"method": "POST", "path": "/run", "body_key": "inputs"}, "params": []}, "no body parameters"),
        ({"http": {"method": "POST", "path": "/run", "fixed_body": {"to": 1}}}, "also body parameters"),
        ({"http": {"method": "POST", "path": "/run", "fixed_body": {"inputs": 1}, "body_key": "inputs"}}, "also a key"),
        (
            {
                "http": {"method": "GET", "path": "/run", "fixed_query": {"to": "x"}},
                "params": [{"name": "to", "in": "query", "description": "Who.", "schema": {"type": "string"}}],
                "annotations": {"read_only": True, "destructive": False, "idempotent": True, "open_world": True},
            },
            "also query parameters",
        ),
        (
            {
                "params": [
                    {
                        "name": "c",
                        "in": "header",
                        "wire_name": "Bad Header",
                        "description": "Conn.",
                        "schema": {"type": "string"},
                    }
                ]
            },
            "header names must match",
        ),
        ({"api": "somewhere"}, "api"),
        ({"confirm": {"message": "Really delete {nothing}?"}}, "not parameters of this tool"),
        (
            {
                "confirm": {"message": "Really read {to}?"},
                "annotations": {"read_only": True, "destructive": False, "idempotent": True, "open_world": True},
            },
            "confirm: only for tools that change things",
        ),
        (
            {
                "params": [
                    {"name": "maton_connection", "in": "body", "description": "Conn.", "schema": {"type": "string"}}
                ]
            },
            "added by the server",
        ),
    ],
)
def test_routing_mistakes_are_refused_naming_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        spec(**changes)
