"""The tool reference (docs/tools.md): every tool by toolset with its endpoint, kind and one-line description."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .compiler import CompiledTool

_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]`])\.(\s|$)")


def first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    match = _SENTENCE_END.search(flat)
    return flat[: match.start() + 1] if match else flat


def _kind(tool: CompiledTool) -> str:
    if tool.spec.sends:
        return f"sends {tool.spec.sends}"
    return "read-only" if tool.read_only else "write"


def render_markdown(tools: Iterable[CompiledTool]) -> str:
    ordered = sorted(tools, key=lambda t: (t.spec.toolset, t.name))
    toolsets: dict[str, list[CompiledTool]] = {}
    for tool in ordered:
        toolsets.setdefault(tool.spec.toolset, []).append(tool)
    lines = [
        "# Tool reference",
        "",
        "Generated from `tool_specs/` by `clicksend-mcp --toolsets all tools --markdown > docs/tools.md`;"
        " a test keeps it current.",
        "",
        f"{len(ordered)} tools in {len(toolsets)} toolsets"
        f" ({sum(1 for t in ordered if t.spec.source.catalogue)} from the CLICKSEND_* catalogue).",
        "",
    ]
    lines += [f"- [{name}](#{name}) ({len(items)})" for name, items in toolsets.items()]
    for name, items in toolsets.items():
        lines += ["", f"## {name}", "", "| tool | endpoint | kind | what it does |", "|---|---|---|---|"]
        for tool in items:
            description = first_sentence(tool.spec.description).replace("|", "\\|")
            lines.append(f"| `{tool.name}` | `{tool.spec.endpoint}` | {_kind(tool)} | {description} |")
    return "\n".join(lines) + "\n"
