"""The compiled catalogue kept between starts: every CompiledTool as the compiler built it, so a warm start neither
validates nor compiles a spec.

An entry is keyed by the digest of every spec file (which already holds the server's version and the spec cache's
format), the source of each module whose code shapes a compiled tool or decides whether the catalogue is sound
(COMPILED_FROM), and the Python and pydantic versions the objects were pickled with. Change any of them and the key
changes, so a stale entry is never read; an entry that cannot be read as a catalogue is ignored and rewritten.

It is a pickle, so it is read only from a file this user owns that no one else can write (like Python's own
`__pycache__`): anyone able to write it could already change the code the server runs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .compiler import CompiledTool

log = logging.getLogger("clicksend_mcp.catalogue_cache")

# The modules whose code makes a compiled tool what it is: the spec model and its checks (spec.py), how the files
# become specs (loader.py), the compiler with its catalogue-wide checks (compiler.py, catalogue.py, times.py), and
# the local handlers a local tool must name (local_tools.py). tests/test_catalogue_cache.py holds this list to
# every module whose classes are in an entry.
COMPILED_FROM = ("spec.py", "loader.py", "compiler.py", "catalogue.py", "times.py", "local_tools.py")
PACKAGE_DIR = Path(__file__).resolve().parent
PREFIX, SUFFIX = "compiled-", ".pickle"


def compiled_key(spec_digest: str, package_dir: Path = PACKAGE_DIR) -> str:
    """The entry's name for these spec files under this code."""
    import pydantic

    h = hashlib.blake2b(digest_size=16)
    h.update(f"{spec_digest}:{sys.version_info[:2]}:{pydantic.VERSION}:{pickle.HIGHEST_PROTOCOL}".encode())
    for name in COMPILED_FROM:
        source = (package_dir / name).read_bytes()
        h.update(name.encode() + b"\0" + len(source).to_bytes(8, "big") + source)
    return h.hexdigest()


class CompiledCache:
    """Compiled catalogues in a directory (the spec cache's); None: off."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def path(self, key: str) -> Path | None:
        return self.directory / f"{PREFIX}{key}{SUFFIX}" if self.directory is not None else None

    def read(self, key: str) -> dict[str, CompiledTool] | None:
        path = self.path(key)
        if path is None:
            return None
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            if not _trusted(os.fstat(fd)):
                log.warning("compiled catalogue %s ignored: not owned by this user, or writable by others", path.name)
                return None
            # Read as it is unpickled (buffered), not whole first: the file and the objects are not both held.
            with os.fdopen(fd, "rb", closefd=False) as file:
                tools = pickle.load(file)
        except Exception as exc:  # a truncated or foreign file can fail in many ways: it is only a cache
            log.debug("compiled catalogue %s unreadable: %s", path.name, type(exc).__name__)
            return None
        finally:
            os.close(fd)
        return tools if _is_catalogue(tools) else None

    def write(self, key: str, tools: dict[str, CompiledTool]) -> None:
        """Store freshly compiled tools (before any call used them: their cached validators are not kept)."""
        path = self.path(key)
        if path is None:
            return
        assert self.directory is not None
        try:
            blob = pickle.dumps(tools, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            log.debug("compiled catalogue not written: %s", type(exc).__name__)
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Created 0600 by tempfile, then moved into place whole: a reader never sees half an entry.
            with tempfile.NamedTemporaryFile("wb", dir=self.directory, delete=False, suffix=".tmp") as tmp:
                tmp.write(blob)
            os.replace(tmp.name, path)
            for old in self.directory.glob(f"{PREFIX}*{SUFFIX}"):
                if old.name != path.name:
                    old.unlink(missing_ok=True)
        except OSError as exc:  # a read-only home is fine: the cache is an optimisation
            log.debug("compiled catalogue not written: %s", type(exc).__name__)


def _trusted(info: os.stat_result) -> bool:
    owner_ok = not hasattr(os, "geteuid") or info.st_uid == os.geteuid()
    return stat.S_ISREG(info.st_mode) and owner_ok and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _is_catalogue(tools: object) -> bool:
    from .compiler import CompiledTool

    return (
        isinstance(tools, dict)
        and bool(tools)
        and all(isinstance(tool, CompiledTool) and tool.name == name for name, tool in tools.items())
    )
