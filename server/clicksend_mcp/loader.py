"""Finding and reading the tool spec files: the only module that reads specs from the filesystem."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from .spec import ToolSpec

SPECS_DIR_ENV = "CLICKSEND_SPECS_DIR"


@dataclass(frozen=True)
class SpecProblem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


class SpecLoadError(Exception):
    """One or more spec files are wrong; `problems` names each file and field."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the tool specs:\n{lines}")


def default_specs_dir() -> Path:
    """The specs to serve: $CLICKSEND_SPECS_DIR, else the copy shipped in the wheel, else the checkout's."""
    override = os.environ.get(SPECS_DIR_ENV)
    if override:
        return Path(override)
    shipped = Path(str(resources.files("clicksend_mcp"))) / "tool_specs"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[2] / "tool_specs"


def spec_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _field_path(loc: Iterable[int | str], data: object) -> str:
    """A readable field path: params[name=messages].schema rather than params.0.schema."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int) and isinstance(node, list) and 0 <= item < len(node):
            entry = node[item]
            label = entry.get("name") if isinstance(entry, dict) else None
            if parts:
                parts[-1] += f"[{label}]" if label else f"[{item}]"
            else:
                parts.append(f"[{item}]")
            node = entry
            continue
        parts.append(str(item))
        node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)


def read_spec(path: Path, root: Path | None = None) -> tuple[ToolSpec | None, list[SpecProblem]]:
    shown = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, [SpecProblem(shown, "", f"cannot be read ({type(exc).__name__})")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        return None, [SpecProblem(shown, where, f"is not valid YAML: {getattr(exc, 'problem', exc)}")]
    if not isinstance(data, dict):
        return None, [SpecProblem(shown, "", "must be a YAML mapping")]
    try:
        spec = ToolSpec.model_validate(data)
    except ValidationError as exc:
        return None, [
            SpecProblem(shown, _field_path(err["loc"], data), err["msg"].removeprefix("Value error, "))
            for err in exc.errors()
        ]
    if path.stem.lower() != spec.name.lower():
        return spec, [SpecProblem(shown, "name", f"file should be named {spec.name.lower()}{path.suffix}")]
    return spec, []


def load_specs(root: Path | None = None) -> list[ToolSpec]:
    """Every spec under `root`, sorted by name; raises SpecLoadError listing every bad file and field."""
    root = root or default_specs_dir()
    if not root.is_dir():
        raise SpecLoadError([SpecProblem(str(root), "", "is not a directory of tool specs")])
    specs: list[ToolSpec] = []
    problems: list[SpecProblem] = []
    seen: dict[str, str] = {}
    for path in spec_files(root):
        spec, found = read_spec(path, root)
        problems.extend(found)
        if spec is None:
            continue
        shown = str(path.relative_to(root))
        if spec.name in seen:
            problems.append(SpecProblem(shown, "name", f"{spec.name} is already defined in {seen[spec.name]}"))
            continue
        seen[spec.name] = shown
        specs.append(spec)
    if problems:
        raise SpecLoadError(problems)
    if not specs:
        raise SpecLoadError([SpecProblem(str(root), "", "holds no tool specs")])
    return sorted(specs, key=lambda s: s.name)
