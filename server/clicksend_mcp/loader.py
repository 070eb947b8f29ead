"""Finding and reading the tool spec files: the only module that reads specs from the filesystem."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import __version__
from .spec import ToolSpec

SPECS_DIR_ENV = "CLICKSEND_SPECS_DIR"
CACHE_DIR_ENV = "CLICKSEND_MCP_CACHE_DIR"
CACHE_FORMAT = 2  # bump when what the cache holds, or what makes a spec valid, changes

log = logging.getLogger("clicksend_mcp.loader")


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


EXEMPTIONS_FILE = "guard_exemptions.yaml"
"""Beside the specs: the tools that change things out in the world yet have no guard, each with the reason."""


def spec_files(root: Path) -> list[Path]:
    """Every spec file under `root` (the exemptions file aside), in the order of their paths' parts."""
    if not root.is_dir():
        return []
    return [Path(path) for parts, path in _found(str(root)) if parts != (EXEMPTIONS_FILE,)]


def read_guard_exemptions(root: Path | None = None) -> dict[str, str]:
    """Tool name -> why it needs no guard, from `guard_exemptions.yaml`; SpecLoadError naming each bad entry."""
    import yaml

    root = root or default_specs_dir()
    path = root / EXEMPTIONS_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.load(path.read_bytes().decode("utf-8"), Loader=_yaml_loader())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SpecLoadError([SpecProblem(EXEMPTIONS_FILE, "", f"cannot be read ({type(exc).__name__})")]) from None
    if not isinstance(data, dict) or not isinstance(data.get("exemptions"), dict):
        raise SpecLoadError([SpecProblem(EXEMPTIONS_FILE, "exemptions", "must map tool names to reasons")])
    problems = [
        SpecProblem(EXEMPTIONS_FILE, f"exemptions.{name}", "needs a reason of at least 30 characters")
        for name, reason in data["exemptions"].items()
        if not isinstance(reason, str) or len(reason.strip()) < 30
    ]
    if problems:
        raise SpecLoadError(problems)
    return {str(name): " ".join(reason.split()) for name, reason in data["exemptions"].items()}


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


def _yaml_loader() -> Any:
    import yaml

    # libyaml's C loader parses the specs about ten times faster than the pure-Python one.
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_spec(
    path: Path, root: Path | None = None, text: bytes | None = None
) -> tuple[ToolSpec | None, list[SpecProblem]]:
    import yaml

    shown = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
    try:
        raw = text if text is not None else path.read_bytes()
        data = yaml.load(raw.decode("utf-8"), Loader=_yaml_loader())
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
    return read_sources(root).parse()


def _parse(root: Path, files: list[tuple[Path, bytes]]) -> list[ToolSpec]:
    specs: list[ToolSpec] = []
    problems: list[SpecProblem] = []
    seen: dict[str, str] = {}
    for path, text in files:
        spec, found = read_spec(path, root, text)
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


# --- the cache of specs that loaded and compiled cleanly -----------------------------------------------------------


class SpecCache:
    """Validated specs, keyed by a digest of every spec file's path and bytes (and this version of the server).

    Any change to any file gives a new digest, so a stale entry is never used. A cache hit skips YAML parsing and the
    JSON-Schema meta-checks (they passed when the entry was written); pydantic validation still runs (milliseconds).
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    @classmethod
    def default(cls) -> SpecCache:
        configured = os.environ.get(CACHE_DIR_ENV)
        if configured is not None:
            return cls(None if configured.strip().lower() in ("", "off", "0", "none") else Path(configured))
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return cls(Path(base) / "clicksend-mcp")

    def read(self, digest: str) -> list[ToolSpec] | None:
        if self.directory is None:
            return None
        try:
            entries = json.loads((self.directory / f"specs-{digest}.json").read_text(encoding="utf-8"))
            return [ToolSpec.model_validate(entry) for entry in entries]
        except (OSError, ValueError, ValidationError):
            return None

    def write(self, digest: str, specs: list[ToolSpec]) -> None:
        if self.directory is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            payload = json.dumps([s.model_dump(by_alias=True, mode="json", exclude_defaults=True) for s in specs])
            with tempfile.NamedTemporaryFile("w", dir=self.directory, delete=False, suffix=".tmp") as tmp:
                tmp.write(payload)
            os.replace(tmp.name, self.directory / f"specs-{digest}.json")
            for old in self.directory.glob("specs-*.json"):
                if old.name != f"specs-{digest}.json":
                    old.unlink(missing_ok=True)
        except OSError as exc:  # a read-only home is fine: the cache is an optimisation
            log.debug("spec cache not written: %s", type(exc).__name__)


@dataclass(frozen=True)
class SpecSources:
    """Every spec file's bytes as read at this start, and their digest (what any cache of them is keyed by)."""

    root: Path
    files: list[tuple[str, bytes]]  # (path, bytes) in spec_files' order
    digest: str

    def parse(self) -> list[ToolSpec]:
        """The specs, parsed and fully checked (SpecLoadError naming every bad file and field)."""
        return _parse(self.root, [(Path(path), text) for path, text in self.files])


def read_sources(root: Path | None = None) -> SpecSources:
    """Every spec file's bytes (as `spec_files` lists them) and their digest: each file's path relative to `root`,
    its length and its bytes, after the cache format and the server's version. Read with os.scandir and plain
    strings: this runs at every start, and pathlib's walk and paths cost more than the reads."""
    root = root or default_specs_dir()
    if not root.is_dir():
        raise SpecLoadError([SpecProblem(str(root), "", "is not a directory of tool specs")])
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{CACHE_FORMAT}:{__version__}".encode())
    files: list[tuple[str, bytes]] = []
    for parts, path in _found(str(root)):
        if parts == (EXEMPTIONS_FILE,):
            continue
        with open(path, "rb", buffering=0) as file:
            text = file.readall()
        h.update(os.sep.join(parts).encode() + b"\0" + len(text).to_bytes(8, "big") + text)
        files.append((path, text))
    return SpecSources(root, files, h.hexdigest())


def _found(root: str) -> list[tuple[tuple[str, ...], str]]:
    """(path parts relative to `root`, path) of every .yaml/.yml file under it, sorted by the parts."""
    found: list[tuple[tuple[str, ...], str]] = []
    _walk(root, (), found)
    found.sort()
    return found


def _walk(folder: str, parts: tuple[str, ...], found: list[tuple[tuple[str, ...], str]]) -> None:
    """The .yaml/.yml files under `folder` (a linked file counts, a linked folder is not entered) passing over
    unreadable folders, as Path.rglob does."""
    try:
        with os.scandir(folder) as entries:
            listed = list(entries)
    except PermissionError:
        return
    for entry in listed:
        if entry.is_dir(follow_symlinks=False):
            _walk(entry.path, (*parts, entry.name), found)
        elif os.path.splitext(entry.name)[1] in (".yaml", ".yml") and entry.is_file():
            found.append(((*parts, entry.name), entry.path))
