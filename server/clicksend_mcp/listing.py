"""What tools/list says about each tool: its entry built as plain JSON, with what every tool shares said once.

Every byte of tools/list is paid for in each conversation, so an entry carries what is particular to its tool and
nothing the protocol, the server's instructions or an entry above it already says: the instructions (LISTING_NOTE)
state the server-added inputs' bounds and defaults, that no tool takes inputs beyond its schema, and what
"As in TOOL." means; the protocol's own defaults are not repeated in each tool's annotations; an alias points to its
canonical entry. What the server checks does not change: arguments are validated against the full compiled schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .compiler import OUTPUT_SCHEMA, CompiledTool

# The server-added inputs as listed: their types only. Their bounds and defaults are the same on every tool, and
# stated once in the instructions; the dispatcher still holds every call to the compiled (full) schemas.
_LEAN_SERVER_INPUTS: dict[str, dict[str, Any]] = {
    "dry_run": {"type": "boolean"},
    "all_pages": {"type": "boolean"},
    "keep_empty": {"type": "boolean"},
    "max_items": {"type": "integer"},
    "fields": {"type": "array"},
}

# ClickSend's paging inputs, where a list tool takes them as ClickSend documents them: listed by type, said once.
# A tool whose page or limit differs (another default, another bound) keeps its own description.
_SHARED_INPUTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "page": (
        {"type": "integer", "minimum": 1, "description": "Page number (default 1)."},
        {"type": "integer"},
    ),
    "limit": (
        {"type": "integer", "minimum": 1, "maximum": 100, "description": "Results per page (default 15)."},
        {"type": "integer"},
    ),
}

LISTING_NOTE = (
    "page and limit, where a tool lists them without a description: the page number from 1 (default 1) and results "
    "per page, 1 to 100 (default 15). dry_run, all_pages and keep_empty default to false; max_items is 1 to 5000 "
    "(default 500); fields is a non-empty list of field names. A tool takes only the inputs its schema lists: any "
    "other is refused (INVALID_ARGUMENTS) and nothing is sent. An input described 'As in TOOL.' is the input of the "
    "same name in TOOL, listed above: the same meaning and use."
)

# An alias listed beside its canonical tool: its inputs are the canonical tool's, listed there.
ALIAS_INPUTS: dict[str, Any] = {"type": "object"}

# A repeated description is replaced by a reference only where that saves this many bytes or more: a short one reads
# better in place than as a pointer.
_MIN_SAVING = 24
# A whole input is replaced only where that saves this much: its constraints then live in the entry it points to.
_MIN_WHOLE_SAVING = 64


def listed_annotations(annotations: dict[str, Any]) -> dict[str, Any]:
    """The tool's hints without those that say nothing the protocol does not.

    MCP defines destructiveHint and idempotentHint as meaningful only when readOnlyHint is false, and defaults
    readOnlyHint and idempotentHint to false and openWorldHint to true. So a read-only tool states readOnlyHint, and a
    tool that writes always states destructiveHint, true or false (a client that ignored the default of true would
    read a missing one as harmless), and idempotentHint when it is true."""
    hints: dict[str, Any] = {}
    if annotations.get("readOnlyHint"):
        hints["readOnlyHint"] = True
    else:
        if annotations.get("destructiveHint") is not None:
            hints["destructiveHint"] = annotations["destructiveHint"]
        if annotations.get("idempotentHint"):
            hints["idempotentHint"] = True
    if annotations.get("openWorldHint") is False:
        hints["openWorldHint"] = False
    return hints


def _lean_inputs(schema: dict[str, Any]) -> dict[str, Any]:
    """The input schema as listed: the root without `additionalProperties: false` (true of every tool, and said once
    in the instructions), the server-added inputs and ClickSend's standard paging inputs typed only. A shallow copy:
    the tool's own sub-schemas are shared, not copied."""
    lean = {k: v for k, v in schema.items() if k != "additionalProperties"}
    properties = schema.get("properties")
    if isinstance(properties, dict) and any(
        name in _LEAN_SERVER_INPUTS or name in _SHARED_INPUTS for name in properties
    ):
        lean["properties"] = {name: _lean_input(name, sub) for name, sub in properties.items()}
    return lean


def _lean_input(name: str, schema: Any) -> Any:
    if name in _LEAN_SERVER_INPUTS and "description" not in schema:
        return _LEAN_SERVER_INPUTS[name]
    shared = _SHARED_INPUTS.get(name)
    if shared is not None and schema == shared[0]:
        return shared[1]
    return schema


def listed_tool(tool: CompiledTool, canonical: CompiledTool | None = None) -> dict[str, Any]:
    """One tool as tools/list sends it, standing on its own (what `mcp_tool` dumps to), built directly: the schemas
    share the compiled tool's objects, so the listing costs neither a pydantic model per tool at start nor the memory
    of a second and third copy of every schema.

    Every tool's outputSchema is the one shared OUTPUT_SCHEMA object. `canonical`: the listed tool this
    one is a second name of, with the same inputs; then the alias says so and points to that entry for its inputs
    (an object schema only), rather than repeating the schema the canonical entry next to it gives. The server still
    checks an alias's arguments against its full schema."""
    description = " ".join(tool.spec.description.split())
    schema = _lean_inputs(tool.input_schema)
    if canonical is not None:
        description = (
            f"Same as {canonical.name}, a second name for one endpoint: the same inputs (listed there) and result."
        )
        schema = ALIAS_INPUTS
    entry: dict[str, Any] = {
        "name": tool.name,
        "title": tool.spec.title,
        "description": description,
        "inputSchema": schema,
        "outputSchema": OUTPUT_SCHEMA,
        "annotations": listed_annotations(tool.annotations),
    }
    return {k: v for k, v in entry.items() if v is not None}


def listed_tools(tools: Iterable[CompiledTool]) -> list[dict[str, Any]]:
    """The tools/list entries of these tools, in order: an alias whose canonical tool is listed too points to it, and
    an input that an earlier entry already describes under the same name says "As in TOOL." instead of repeating it
    (a create and an update of one rule, a send and its price quote): the whole input, its type kept, where the two
    are the same; else its description, where only that is."""
    listed = list(tools)
    by_name = {t.name: t for t in listed}
    entries = []
    said: Said = {}
    for tool in listed:
        canonical = by_name.get(tool.spec.alias_of or "")
        same = canonical is not None and canonical.input_schema == tool.input_schema
        entry = listed_tool(tool, canonical if same else None)
        if not same:
            entry["inputSchema"] = _refer_to_earlier(entry["inputSchema"], tool.name, (), said)
        entries.append(entry)
    return entries


Said = dict[tuple[tuple[str, ...], str], tuple[str, dict[str, Any]]]
"""(input path, description) -> the first tool that described that input so, and its schema for it."""


def _refer_to_earlier(schema: Any, tool: str, path: tuple[str, ...], said: Said) -> Any:
    """`schema` (an input at `path`) with what an earlier tool said of the same input replaced by "As in THAT_TOOL.":
    the whole input where it is the same there (its type kept), else its description where that is. What this tool
    says first is recorded in `said`. Copies only what it changes."""
    if not isinstance(schema, dict):
        return schema
    text = schema.get("description")
    if path and isinstance(text, str):
        first, first_schema = said.setdefault((path, text), (tool, schema))
        if first != tool:
            reference: dict[str, Any] = {"description": f"As in {first}."}
            if schema == first_schema and _size(schema) - _size(reference) >= _MIN_WHOLE_SAVING:
                return {"type": schema["type"], **reference} if "type" in schema else reference
            if len(text.encode()) - len(reference["description"]) >= _MIN_SAVING:
                schema = {**schema, **reference}
    out = schema
    properties = schema.get("properties")
    if isinstance(properties, dict):
        changed: dict[str, Any] | None = None
        for name, sub in properties.items():
            new_sub = _refer_to_earlier(sub, tool, (*path, name), said)
            if new_sub is not sub:
                changed = changed if changed is not None else dict(properties)
                changed[name] = new_sub
        if changed is not None:
            out = {**out, "properties": changed}
    items = schema.get("items")
    if isinstance(items, dict):
        new_items = _refer_to_earlier(items, tool, (*path, "[]"), said)
        if new_items is not items:
            out = {**out, "items": new_items}
    return out


def _size(schema: dict[str, Any]) -> int:
    return len(json.dumps(schema, ensure_ascii=False, separators=(",", ":")).encode())
