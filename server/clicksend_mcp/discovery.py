"""Discovery mode: four small tools (search, describe, call, call read-only) in place of hundreds; their logic."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from . import results
from .compiler import CompiledTool
from .dispatcher import Dispatcher, PreparedCall
from .tool_reference import first_sentence

SEARCH = "CLICKSEND_SEARCH_TOOLS"
DESCRIBE = "CLICKSEND_DESCRIBE_TOOL"
CALL = "CLICKSEND_CALL_TOOL"
READ = "CLICKSEND_CALL_READ_ONLY_TOOL"
NAMES = (SEARCH, DESCRIBE, CALL, READ)

_WORD = re.compile(r"[a-z0-9]+")


def meta_tools(toolsets: Iterable[str]) -> list[dict[str, Any]]:
    """The tools discovery mode lists; kept small (the whole tools/list stays under 4 KB)."""
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
                    "limit": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 50,
                        "default": 10,
                        "description": "Most tools to return, best first.",
                    },
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
        {
            "name": READ,
            "title": "Read with a ClickSend tool",
            "description": f"Like {CALL}, for tools that change nothing (read_only in the search): lists, gets, "
            "prices. Refuses any other tool.",
            "input_schema": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "A read-only tool's name."},
                    "arguments": {"type": "object", "description": "The tool's arguments."},
                },
                "required": ["name"],
                "additionalProperties": False,
            },
            "annotations": {
                "title": "Read with a ClickSend tool",
                "readOnlyHint": True,
                "destructiveHint": False,
                "idempotentHint": True,
                "openWorldHint": False,
            },
        },
    ]


def _stem(word: str) -> str:
    """'templates' finds 'template', 'sends' finds 'send': a plural or third-person s is not a different word."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower())}


def search(
    tools: Iterable[CompiledTool], query: str = "", toolset: str | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """Canonical tools ranked by how many query words their name, title, toolset and description share; each
    names its aliases (second names of the same endpoint), which are not listed on their own."""
    pool = list(tools)
    names = {tool.name for tool in pool}
    aliases: dict[str, list[str]] = {}
    for tool in pool:
        if tool.spec.alias_of in names:
            aliases.setdefault(tool.spec.alias_of, []).append(tool.name)
    wanted = _words(query)
    best = 3 * len(wanted) or 1
    scored: list[tuple[int, str, CompiledTool]] = []
    for tool in pool:
        spec = tool.spec
        if spec.alias_of in names or (toolset and spec.toolset != toolset):
            continue
        head = _words(f"{spec.name.replace('_', ' ')} {spec.title} {spec.toolset}")
        body = _words(spec.description)
        score = sum(3 if w in head else 1 if w in body else 0 for w in wanted)
        if wanted and score == 0:
            continue
        scored.append((-score, spec.name, tool))
    scored.sort(key=lambda item: (item[0], item[1]))
    found = []
    for negative, _, tool in scored[:limit]:
        entry = {**summary(tool), "score": round(-negative / best, 2)}
        if tool.name in aliases:
            entry["aliases"] = sorted(aliases[tool.name])
        found.append(entry)
    return found


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
        **({"alias_of": spec.alias_of} if spec.alias_of else {}),
        "title": spec.title,
        "toolset": spec.toolset,
        "description": " ".join(spec.description.split()),
        "endpoint": spec.endpoint,
        "input_schema": tool.input_schema,
        "annotations": tool.annotations,
    }


async def handle(dispatcher: Dispatcher, meta: str, arguments: dict[str, Any]) -> dict[str, Any] | PreparedCall:
    """One call of a discovery tool: a finished result, or a prepared call for the app to confirm and execute."""
    tools = dispatcher.tools
    if meta == SEARCH:
        query, toolset = arguments.get("query", ""), arguments.get("toolset")
        limit = arguments.get("limit", 10)
        if (
            not isinstance(query, str)
            or not (toolset is None or isinstance(toolset, str))
            or not isinstance(limit, int)
        ):
            return results.invalid_arguments(["query and toolset are strings, limit an integer"])
        found = search(tools.values(), query, toolset, max(1, min(limit, 50)))
        return results.ok({"tools": found, "count": len(found)})
    name = arguments.get("name")
    if not isinstance(name, str) or not name:
        return results.invalid_arguments(["name: is required (a tool name from the search)"])
    unsupported = dispatcher.unsupported(name)
    if unsupported is not None:
        return unsupported
    tool = dispatcher.callable.get(name)
    if tool is None:
        hidden = dispatcher.selection.why_hidden(name, dispatcher.all_tools)
        return results.refused("UNKNOWN_TOOL", f"{hidden}; find tools with {SEARCH}")
    if meta == DESCRIBE:
        return results.ok(describe(tool))
    if meta == READ and not tool.read_only:
        return results.refused(
            "REFUSED", f"{name} changes things in ClickSend; {READ} runs only read-only tools (use {CALL})"
        )
    inner = arguments.get("arguments", {})
    if not isinstance(inner, dict):
        return results.invalid_arguments(
            [f"arguments: expected an object with {name}'s arguments (see {DESCRIBE}), got {type(inner).__name__}"]
        )
    return await dispatcher.prepare(name, inner)
