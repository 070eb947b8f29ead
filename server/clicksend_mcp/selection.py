"""Which tools the agent sees: toolsets, explicit tools, exclusions and read-only mode."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .compiler import CompiledTool
from .settings import ConfigError

DEFAULT_TOOLSETS = ("account", "sms", "contacts", "ledger", "conversations")
ALL = "all"


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
        elif not sets or "default" in sets:
            chosen = tuple(dict.fromkeys([*(s for s in sets if s != "default"), *defaults]))
        elif ALL in sets:
            chosen = None
        else:
            chosen = sets
        return cls(chosen, split_names(tools), split_names(exclude), read_only)

    def validate(self, tools: Mapping[str, CompiledTool]) -> None:
        """Refuse unknown names at start-up, listing the valid ones."""
        known_sets = sorted({t.spec.toolset for t in tools.values()})
        unknown_sets = sorted(set(self.toolsets or ()) - set(known_sets))
        if unknown_sets:
            raise ConfigError(
                f"unknown toolset(s) {', '.join(unknown_sets)}; valid toolsets: {', '.join(known_sets)}, "
                f"'{ALL}' and 'default' ({', '.join(DEFAULT_TOOLSETS)})"
            )
        unknown = sorted((set(self.tools) | set(self.exclude)) - set(tools))
        if unknown:
            raise ConfigError(
                f"unknown tool name(s) {', '.join(unknown)}; "
                "list the valid ones with: clicksend-mcp --toolsets all tools"
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

    def _chosen(self, tool: CompiledTool) -> bool:
        in_sets = self.toolsets is None or tool.spec.toolset in self.toolsets
        return (in_sets or tool.name in self.tools) and tool.name not in self.exclude

    def apply(self, tools: Mapping[str, CompiledTool]) -> dict[str, CompiledTool]:
        return {
            name: tool for name, tool in tools.items() if self._chosen(tool) and (tool.read_only or not self.read_only)
        }

    def why_hidden(self, name: str, tools: Mapping[str, CompiledTool]) -> str:
        tool = tools.get(name)
        if tool is None:
            return f"Unknown tool: {name}"
        if self.read_only and not tool.read_only and self._chosen(tool):
            return f"{name} changes things in ClickSend and this server is read-only (--read-only)"
        return (
            f"{name} is not enabled on this server (its toolset is {tool.spec.toolset}); "
            "enable it with --toolsets or --tools"
        )
