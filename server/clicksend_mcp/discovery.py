"""Discovery mode: three small tools (search, describe, call) in place of hundreds; the search and describe logic."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .compiler import CompiledTool
from .tool_reference import first_sentence

SEARCH = "CLICKSEND_SEARCH_TOOLS"
DESCRIBE = "CLICKSEND_DESCRIBE_TOOL"
CALL = "CLICKSEND_CALL_TOOL"

_WORD = re.compile(r"[a-z0-9]+")


def meta_tools(toolsets: Iterable[str]) -> list[dict[str, Any]]:
    """The three tools discovery mode lists; kept small (the whole tools/list stays under 4 KB)."""
    sets = sorted(set(toolsets))
    return [
        {
            "name": SEARCH,
            "title": "Search ClickSend tools",
            "description": "Find ClickSend API tools (SMS, MMS, voice, email, fax, post, contacts, account...) by "
            "words. Returns names and one-line summaries; then describe one and call it.",
            "input_schema": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "Words, e.g. 'send sms' or 'contact list'."},
                    "toolset": {"type": "string", "enum": sets, "description": "Only this toolset."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                },
                "additionalProperties": False,
            },
            "annotations": {
                "title": "Search ClickSend tools",
                "readOnlyHint": True,
                "destructiveHint": False,
                "idempotentHint": True,
                "openWorldHint": False,
            },
        },
        {
            "name": DESCRIBE,
            "title": "Describe a ClickSend tool",
            "description": "The full description and input schema of one tool found with "
            f"{SEARCH}: read it before {CALL}.",
            "input_schema": {
                "type": "object",
                "properties": {"name": {"type": "string", "description": "The tool name, e.g. CLICKSEND_GET_ACCOUNT."}},
                "required": ["name"],
                "additionalProperties": False,
            },
            "annotations": {
                "title": "Describe a ClickSend tool",
                "readOnlyHint": True,
                "destructiveHint": False,
                "idempotentHint": True,
                "openWorldHint": False,
            },
        },
        {
            "name": CALL,
            "title": "Call a ClickSend tool",
            "description": "Run one tool by name with arguments matching its input schema (see "
            f"{DESCRIBE}). Sends cost money and reach real people: use dry_run: true first.",
            "input_schema": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "The tool name."},
                    "arguments": {"type": "object", "description": "The tool's arguments."},
                },
                "required": ["name"],
                "additionalProperties": False,
            },
            "annotations": {
                "title": "Call a ClickSend tool",
                "readOnlyHint": False,
                "destructiveHint": True,
                "idempotentHint": False,
                "openWorldHint": True,
            },
        },
    ]


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def search(
    tools: Iterable[CompiledTool], query: str = "", toolset: str | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """Tools ranked by how many query words their name, title, toolset and description share."""
    wanted = _words(query)
    scored: list[tuple[int, str, CompiledTool]] = []
    for tool in tools:
        spec = tool.spec
        if toolset and spec.toolset != toolset:
            continue
        head = _words(f"{spec.name.replace('_', ' ')} {spec.title} {spec.toolset}")
        body = _words(spec.description)
        score = sum(3 if w in head else 1 if w in body else 0 for w in wanted)
        if wanted and score == 0:
            continue
        scored.append((-score, spec.name, tool))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [summary(tool) for _, _, tool in scored[:limit]]


def summary(tool: CompiledTool) -> dict[str, Any]:
    spec = tool.spec
    return {
        "name": spec.name,
        "title": spec.title,
        "toolset": spec.toolset,
        "read_only": spec.annotations.read_only,
        "sends": spec.sends,
        "summary": first_sentence(spec.description),
    }


def describe(tool: CompiledTool) -> dict[str, Any]:
    spec = tool.spec
    return {
        "name": spec.name,
        "title": spec.title,
        "toolset": spec.toolset,
        "description": " ".join(spec.description.split()),
        "endpoint": spec.endpoint,
        "input_schema": tool.input_schema,
        "annotations": tool.annotations,
    }
