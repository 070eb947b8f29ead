"""The sandbox answers every tool's endpoint: each spec's method and path (with sample ids) has a route."""

from __future__ import annotations

import re

import pytest

from clicksend_mcp.loader import load_specs
from clicksend_mcp.sandbox import has_route
from clicksend_mcp.spec import ToolSpec

# The sandbox is ClickSend: it answers the tools ClickSend's API serves (not Maton's control API or SkillBoss), and
# not the tools the server answers itself (`local:`).
SPECS = sorted((s for s in load_specs() if s.api == "clicksend" and s.http), key=lambda spec: spec.name)
_PLACEHOLDER = re.compile(r"\{[^}]+\}")


def concrete(path: str) -> str:
    """The spec path with a sample value in each placeholder (the route table matches shapes, not ids)."""
    return _PLACEHOLDER.sub("5", path)


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_every_tool_endpoint_has_a_sandbox_route(spec: ToolSpec) -> None:
    assert spec.http is not None
    method, path = spec.http.method, spec.http.path
    assert has_route(method, concrete(path)), f"no sandbox route for {method} {path}"


def test_every_spec_is_checked() -> None:
    assert len(SPECS) >= 253  # every spec that calls ClickSend


def test_has_route_is_false_for_an_unknown_path() -> None:
    assert not has_route("GET", "/no/such/endpoint")


def test_has_route_is_false_for_a_known_path_with_the_wrong_method() -> None:
    assert not has_route("DELETE", "/account")


def test_has_route_accepts_a_v3_prefix_and_a_trailing_slash() -> None:
    assert has_route("GET", "/v3/lists/5/contacts/")
