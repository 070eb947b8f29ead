"""Property-based: for every tool, random valid and invalid arguments never crash the server, always give a
normalized result, and invalid ones never reach ClickSend."""

from __future__ import annotations

import functools
import re
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from clicksend_mcp.assembly import build_dispatcher, load_tools
from clicksend_mcp.compiler import RESULT_CONTRACT
from conftest import direct_settings
from fake_clicksend import FakeClickSend

RESULT = Draft202012Validator(RESULT_CONTRACT)
TOOLS = load_tools()
NAMES = sorted(n for n, t in TOOLS.items() if t.spec.api == "clicksend")  # run against the fake ClickSend
# Valid random arguments are run: only tools that make one HTTP call. Local tools (the ledger, conversations) can
# rightly wait up to their timeout (WAIT_FOR_REPLY: 600 s) and have their own tests; invalid arguments still cover them.
HTTP_NAMES = [n for n in NAMES if TOOLS[n].spec.http is not None]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)


async def _call(name: str, arguments: Any) -> tuple[dict[str, Any], FakeClickSend]:
    fake = FakeClickSend()
    dispatcher = build_dispatcher(direct_settings(retries=0), tools=TOOLS, asgi_app=fake)
    try:
        return await dispatcher.call(name, arguments), fake
    finally:
        await dispatcher.aclose()


def run(name: str, arguments: Any) -> tuple[dict[str, Any], FakeClickSend]:
    return anyio.run(functools.partial(_call, name, arguments))


def assert_normalized(result: dict[str, Any]) -> None:
    RESULT.validate(result)
    assert result["successful"] is (result["error"] is None)
    assert result["successful"] is (result["error_code"] is None)


def path_shape(path: str) -> re.Pattern[str]:
    """The raw paths a spec path allows: each {placeholder} is one non-empty segment, the rest is literal."""
    parts = ["[^/]+" if p.startswith("{") and p.endswith("}") else re.escape(p) for p in path.split("/")]
    return re.compile("/v3" + "/".join(parts) + "$")


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against the subset of JSON Schema the specs use (filtered by the real validator)."""
    check = Draft202012Validator(schema, format_checker=FormatChecker())
    return _strategy(schema).filter(check.is_valid)


def _strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        return st.one_of(*[_strategy({**schema, "type": k}) for k in kind])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**31)), schema.get("maximum", 2**31))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e9), schema.get("maximum", 1e9), allow_nan=False)
    if kind == "string":
        if schema.get("format") == "email":
            return st.sampled_from(["test1@test.com", "someone@example.com"])
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        low = schema.get("minLength", 0)
        return st.text(min_size=low, max_size=max(low, min(schema.get("maxLength", 30), 30)))
    if kind == "array":
        low = schema.get("minItems", 0)
        return st.lists(
            _strategy(schema.get("items", {})), min_size=low, max_size=max(low, min(schema.get("maxItems", 3), 3))
        )
    if kind == "object":
        props = schema.get("properties", {})
        required = [k for k in schema.get("required", []) if k in props]
        optional = {k: _strategy(v) for k, v in props.items() if k not in required}
        return st.fixed_dictionaries({k: _strategy(props[k]) for k in required}, optional=optional)
    return JSON


@functools.cache
def valid_arguments(name: str) -> st.SearchStrategy[dict[str, Any]]:
    return from_schema(TOOLS[name].input_schema)


PROPERTY_SETTINGS = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)


@pytest.mark.parametrize("name", HTTP_NAMES)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_random_valid_arguments_give_a_normalized_result(name: str, data: st.DataObject) -> None:
    arguments = data.draw(valid_arguments(name))
    result, fake = run(name, arguments)
    assert_normalized(result)
    assert result["error_code"] != "INTERNAL_ERROR", result["error"]
    if result["error_code"] in ("INVALID_ARGUMENTS", "REFUSED") or arguments.get("dry_run"):
        return  # a guardrail (e.g. a number that is not a phone number) or a dry run: nothing is sent
    tool = TOOLS[name]
    # Valid arguments reach ClickSend, at the tool's method and a path of the spec's shape (read from the spec text).
    shape = path_shape(tool.spec.http.path)
    seen = [(r.method, r.raw_path.split("?")[0]) for r in fake.requests]
    assert any(m == tool.spec.http.method and shape.match(p) for m, p in seen), f"{name}: {seen}"


@pytest.mark.parametrize("name", NAMES)
@PROPERTY_SETTINGS
@given(arguments=st.dictionaries(st.text(max_size=12), JSON, max_size=4) | JSON)
def test_random_invalid_arguments_never_reach_clicksend(name: str, arguments: Any) -> None:
    tool = TOOLS[name]
    given_object = {} if arguments is None else arguments  # no arguments at all is an empty object
    if isinstance(given_object, dict) and not tool.check_arguments(given_object):
        return  # by chance valid: the other property covers it
    result, fake = run(name, arguments)
    assert_normalized(result)
    assert result["error_code"] == "INVALID_ARGUMENTS"
    assert fake.requests == []
