"""Requests are built purely from checked arguments; path values can never change which endpoint is called."""

from __future__ import annotations

import pytest

from clicksend_mcp.compiler import compile_tool
from clicksend_mcp.request_builder import PathValueError, build_request, encode_segment
from clicksend_mcp.spec import ToolSpec

SPEC = ToolSpec.model_validate(
    {
        "name": "CLICKSEND_UPDATE_THING",
        "title": "Update Thing",
        "toolset": "utilities",
        "description": "Update one thing in a folder; the folder and thing ids come from the list tools.",
        "http": {"method": "PUT", "path": "/folders/{folder_id}/things/{thing_id}"},
        "params": [
            {
                "name": "folder_id",
                "in": "path",
                "required": True,
                "description": "Folder.",
                "schema": {"type": "integer"},
            },
            {"name": "thing_id", "in": "path", "required": True, "description": "Thing.", "schema": {"type": "string"}},
            {"name": "notify", "in": "query", "description": "Notify?", "schema": {"type": "boolean"}},
            {"name": "label", "in": "body", "description": "Label.", "schema": {"type": "string"}},
            {
                "name": "method",
                "in": "body",
                "wire_name": "webhook_type",
                "description": "How.",
                "schema": {"type": "string"},
            },
        ],
        "annotations": {"read_only": False, "destructive": False, "idempotent": True, "open_world": False},
        "source": {"catalogue": False},
    }
)
TOOL = compile_tool(SPEC)


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("../account", "..%2Faccount"),
        ("%2e%2e", "%252e%252e"),
        ("1/../../x", "1%2F..%2F..%2Fx"),
        ("a?b=c", "a%3Fb%3Dc"),
        ("#", "%23"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("émoji 🙂", "%C3%A9moji%20%F0%9F%99%82"),
        (42, "42"),
    ],
)
def test_a_path_value_stays_one_segment(value: object, segment: str) -> None:
    assert encode_segment("thing_id", value) == segment
    assert "/" not in segment


def test_an_empty_path_value_is_refused() -> None:
    with pytest.raises(PathValueError, match="thing_id: must not be empty"):
        encode_segment("thing_id", "")


def test_path_query_and_body_go_to_their_places() -> None:
    request = build_request(TOOL, {"folder_id": 7, "thing_id": "a/b", "notify": True, "label": "x"})
    assert request.method == "PUT"
    assert request.path == "/folders/7/things/a%2Fb"
    assert request.query == (("notify", "true"),)
    assert request.json_body == {"label": "x"}


def test_omitted_optional_values_are_not_sent() -> None:
    request = build_request(TOOL, {"folder_id": 7, "thing_id": "t"})
    assert request.query == ()
    assert request.json_body == {}


def test_an_input_is_sent_under_its_wire_name() -> None:
    request = build_request(TOOL, {"folder_id": 1, "thing_id": "t", "method": "post"})
    assert request.json_body == {"webhook_type": "post"}


def test_a_long_value_is_encoded_whole() -> None:
    value = "x/" * 1024
    assert encode_segment("thing_id", value) == "x%2F" * 1024


def test_a_path_value_past_the_cap_is_refused() -> None:
    with pytest.raises(PathValueError, match="thing_id: expected at most 2048 characters, got 2049"):
        encode_segment("thing_id", "x" * 2049)


def test_the_description_of_a_request_holds_no_host_or_headers() -> None:
    described = build_request(TOOL, {"folder_id": 1, "thing_id": "t", "label": "y"}).describe()
    assert described == {"method": "PUT", "path": "/folders/1/things/t", "json": {"label": "y"}}
