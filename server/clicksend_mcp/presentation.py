"""What the agent reads, rendered for this server: tool references only to served tools (or how to enable them),
the operator's recipient limit in send schemas and descriptions, and the second names of aliased tools."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any

from .compiler import CompiledTool
from .selection import Selection

TOOL_REF = re.compile(r"\bCLICKSEND_[A-Z0-9_]+\b")
# ClickSend's own per-call caps as the specs state them; replaced by the operator's lower limit.
_CLICKSEND_CAP = re.compile(
    r"\b(?:1,?000|20,?000)(?=[- ]recipient)|(?<=\b1 to )1,?000\b|(?<=up to )1,?000(?= individual)"
)
CLICKSEND_MAX_RECIPIENTS = 1000
# Short, as it can recur in a description; the server's instructions say what it means and how to enable a tool.
NOT_ENABLED = "(not enabled here; --tools adds it)"


def render_references(text: str, served: Mapping[str, CompiledTool], catalogue: Mapping[str, CompiledTool]) -> str:
    """Each tool named in `text` is served, or is replaced by its served canonical tool, or says how to enable it."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(0)
        tool = catalogue.get(name)
        if tool is None:
            return name
        canonical = tool.spec.alias_of
        if canonical and canonical in served:
            return canonical  # the agent sees the canonical name listed; the alias is a second name for it
        if name in served:
            return name
        return f"{name} {NOT_ENABLED}"

    # Most texts name no tool: a substring test is far cheaper than the regex's scan.
    return TOOL_REF.sub(replace, text) if "CLICKSEND_" in text else text


def _render_mentions(tool: CompiledTool, render: Callable[[str], str]) -> dict[str, Any]:
    """The tool's input schema with each description that names a tool rendered (the compiler found where they
    are): the same object where none changes, else new containers on the way to each change and the rest shared, so
    a start does not copy or walk some 250 schemas to change a few descriptions."""
    schema = tool.input_schema
    for path in tool.mentions:
        node: Any = schema
        for key in path:
            node = node[key]
        rendered = render(node)
        if rendered != node:
            schema = _replaced(schema, path, rendered)
    return schema


def _replaced(node: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A copy of the containers along `path` with the value at its end replaced; everything else shared."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy: Any = dict(node) if isinstance(node, dict) else list(node)
    copy[head] = _replaced(node[head], rest, value)
    return copy


def _map_descriptions(schema: Any, render: Callable[[str], str]) -> Any:
    """A copy of a JSON schema (every container new) with every `description` rendered."""
    if isinstance(schema, dict):
        return {
            k: (render(v) if k == "description" and isinstance(v, str) else _map_descriptions(v, render))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_map_descriptions(v, render) for v in schema]
    return schema


def _cap_recipient_arrays(schema: dict[str, Any], tool: CompiledTool, limit: int) -> None:
    """Lower maxItems of the arrays a send's recipients sit in (messages[], recipients[], to[]...) to the limit."""
    assert tool.guard is not None
    for path, _kind in tool.guard.recipients:
        node: Any = schema
        for name, each in path:
            node = node.get("properties", {}).get(name) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                break
            if each and node.get("type") == "array":
                if node.get("maxItems", CLICKSEND_MAX_RECIPIENTS + 1) > limit:
                    node["maxItems"] = limit
                node = node.get("items")


def present(
    tools: Mapping[str, CompiledTool],
    catalogue: Mapping[str, CompiledTool],
    *,
    max_recipients: int | None = None,
) -> dict[str, CompiledTool]:
    """The served tools as the agent should read them. `tools` are the served (callable) tools."""
    presented: dict[str, CompiledTool] = {}
    for name, tool in tools.items():
        limit = max_recipients if tool.guard is not None and max_recipients is not None else None
        limit = limit if limit is not None and limit < CLICKSEND_MAX_RECIPIENTS else None

        def render(text: str, limit: int | None = limit) -> str:
            text = render_references(text, tools, catalogue)
            return _CLICKSEND_CAP.sub(str(limit), text) if limit is not None else text

        description = render(tool.spec.description)
        if limit is not None:
            description = f"{description.rstrip()} This server allows at most {limit} recipients per call."
        if limit is not None:  # the caps are set in place: on a copy of every container
            schema = _map_descriptions(tool.input_schema, render)
            _cap_recipient_arrays(schema, tool, limit)
        else:
            schema = _render_mentions(tool, render)
        if description == tool.spec.description and schema == tool.input_schema:
            presented[name] = tool
            continue
        spec = tool.spec.model_copy(update={"description": description})
        # Arguments are still checked against ClickSend's limits: a send over the operator's cap is refused by
        # the guardrails, which say how many recipients it reaches (a list's size included) and the limit.
        presented[name] = dataclasses.replace(
            tool, spec=spec, input_schema=schema, validation_schema=tool.validation_schema or tool.input_schema
        )
    return presented


def served(
    selection: Selection,
    catalogue: Mapping[str, CompiledTool],
    *,
    max_recipients: int | None = None,
    runs: Callable[[CompiledTool], bool] | None = None,
) -> tuple[dict[str, CompiledTool], dict[str, CompiledTool]]:
    """(listed, callable) for a selection, rendered: callable adds the aliases of listed tools. `runs` says which
    tools the backend can run (the others are neither listed nor named as served)."""
    runnable = {n: t for n, t in catalogue.items() if runs is None or runs(t)}
    callable_tools = present(selection.callable(runnable), catalogue, max_recipients=max_recipients)
    listed = selection.apply(runnable)
    return {name: tool for name, tool in callable_tools.items() if name in listed}, callable_tools
