"""Which tools the agent sees and may call: toolsets, the default set, aliases, explicit tools, exclusions,
read-only mode; and the closest names to an unknown one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .compiler import CompiledTool
from .settings import ConfigError

DEFAULT = "default"  # the tools whose spec says `default: true` (chosen by everyday tasks; see the README)
ALIASES = "aliases"  # tools whose spec says `alias_of`: listed only when asked for, always callable by name
ALL = "all"
DEFAULT_TOOLSETS = (DEFAULT,)


def split_names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    return tuple(p.strip() for p in parts if p and p.strip())


@dataclass(frozen=True)
class Selection:
    """toolsets: None means every toolset; `tools` adds tools beyond the toolsets; `exclude` removes tools."""

    toolsets: tuple[str, ...] | None = None
    tools: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    read_only: bool = False

    @classmethod
    def from_names(
        cls,
        toolsets: str | Iterable[str] | None,
        tools: str | Iterable[str] | None = None,
        exclude: str | Iterable[str] | None = None,
        read_only: bool = False,
        defaults: tuple[str, ...] = DEFAULT_TOOLSETS,
    ) -> Selection:
        sets = split_names(toolsets)
        chosen: tuple[str, ...] | None
        if not sets and split_names(tools):
            chosen = ()  # only the named tools
        elif not sets or DEFAULT in sets:
            # `defaults` is the default set plus the backend's own toolsets (maton: connections; skillboss: its tools)
            chosen = tuple(dict.fromkeys([*(s for s in sets if s != DEFAULT), *defaults]))
        elif ALL in sets:
            chosen = None
        else:
            chosen = sets
        return cls(chosen, split_names(tools), split_names(exclude), read_only)

    def validate(self, tools: Mapping[str, CompiledTool]) -> None:
        """Refuse unknown names at start-up, listing the valid ones."""
        known_sets = sorted({t.spec.toolset for t in tools.values()})
        unknown_sets = sorted(set(self.toolsets or ()) - {*known_sets, DEFAULT, ALIASES})
        if unknown_sets:
            choices = [*known_sets, ALL, DEFAULT, ALIASES]
            named = [
                f"{name} (did you mean {', '.join(close)}?)"
                if (close := difflib.get_close_matches(name.strip().lower(), choices, n=3, cutoff=0.6))
                else name
                for name in unknown_sets
            ]
            raise ConfigError(
                f"unknown toolset(s) {', '.join(named)}; valid toolsets: {', '.join(known_sets)}, "
                f"'{ALL}', '{DEFAULT}' (the everyday tools; see the README) and '{ALIASES}' (second names of tools)"
            )
        unknown = sorted((set(self.tools) | set(self.exclude)) - set(tools))
        if unknown:
            hints = [
                f"{name} (did you mean {', '.join(close)}?)" if (close := closest(name, tools)) else name
                for name in unknown
            ]
            raise ConfigError(
                f"unknown tool name(s) {', '.join(hints)}; list the valid ones with: clicksend-mcp --toolsets all tools"
            )
        if self.read_only:
            writes = sorted(n for n in self.tools if not tools[n].read_only)
            if writes:
                raise ConfigError(
                    f"{', '.join(writes)} change things in ClickSend and the server is read-only (--read-only); "
                    "drop them from --tools or drop --read-only"
                )
        if not self.apply(tools):
            raise ConfigError("this selection leaves no tools to serve")

    def _in_sets(self, tool: CompiledTool) -> bool:
        spec, sets = tool.spec, self.toolsets
        if sets is None:
            return True
        if spec.alias_of is not None:
            return ALIASES in sets  # a second name is listed only when asked for
        return spec.toolset in sets or (DEFAULT in sets and spec.default)

    def _chosen(self, tool: CompiledTool) -> bool:
        return (self._in_sets(tool) or tool.name in self.tools) and tool.name not in self.exclude

    def apply(self, tools: Mapping[str, CompiledTool]) -> dict[str, CompiledTool]:
        """The tools listed to the agent."""
        return {
            name: tool for name, tool in tools.items() if self._chosen(tool) and (tool.read_only or not self.read_only)
        }

    def callable(self, tools: Mapping[str, CompiledTool]) -> dict[str, CompiledTool]:
        """The listed tools, and the aliases of listed tools: an old name keeps working though it is not listed."""
        listed = self.apply(tools)
        extra = {
            name: tool
            for name, tool in tools.items()
            if tool.spec.alias_of in listed and name not in self.exclude and name not in listed
        }
        return {**listed, **extra}

    def why_hidden(self, name: str, tools: Mapping[str, CompiledTool]) -> str:
        tool = tools.get(name)
        if tool is None:
            close = closest(name, self.callable(tools))
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            return f"Unknown tool: {name}{hint}"
        if self.read_only and not tool.read_only and self._chosen(tool):
            return f"{name} changes things in ClickSend and this server is read-only (--read-only)"
        return f"{name} is not enabled on this server; {enable_hint(tool)}"


def enable_hint(tool: CompiledTool) -> str:
    """How an operator serves a tool that is not served."""
    return f"the operator can add it with --tools {tool.name} (or --toolsets {tool.spec.toolset})"


def closest(name: str, names: Iterable[str], limit: int = 3) -> list[str]:
    """The known names nearest to a mistyped one (case and the CLICKSEND_ prefix do not matter)."""
    known = list(names)
    key = name.strip().upper()
    if key and not key.startswith("CLICKSEND_"):
        key = "CLICKSEND_" + key
    if key in known:
        return [key]
    return difflib.get_close_matches(key, known, n=limit, cutoff=0.6)
