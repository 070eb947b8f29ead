"""The sandbox's state in a JSON file between runs: encoding, atomic writes, and a lock shared by processes.

Each request runs under an exclusive lock (an in-process lock, then `fcntl.flock` on `PATH.lock` where the platform
has it): the file is read again if another process replaced it, the sandbox answers, and a changed state is written
to a temporary file in the same folder and renamed over PATH, so a reader never sees half a file.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from .collection import Collection
from .state import SandboxState

if sys.platform != "win32":  # Windows has no fcntl: the rename is still atomic, concurrent writers are not serialized
    import fcntl

FORMAT = "clicksend-mcp-sandbox-state"
VERSION = 1


class StateFileError(ValueError):
    """The file is not a sandbox state file this version can read; the message says which file and why."""


def _shared_dicts(value: Any, seen: dict[int, int], shared: set[int]) -> None:
    """Collect the ids of dicts reachable twice (e.g. the account's main user is also the first subaccount)."""
    if isinstance(value, dict):
        if id(value) in seen:
            shared.add(id(value))
            return
        seen[id(value)] = 1
        for item in value.values():
            _shared_dicts(item, seen, shared)
    elif isinstance(value, list | tuple | set):
        for item in value:
            _shared_dicts(item, seen, shared)
    elif isinstance(value, Collection):
        for item in value.all():
            _shared_dicts(item, seen, shared)


class _Encoder:
    """Plain JSON plus tags for what JSON lacks: bytes, sets, non-string keys, collections and shared records."""

    def __init__(self, shared: set[int]) -> None:
        self.shared = shared
        self.refs: dict[int, int] = {}

    def encode(self, value: Any) -> Any:
        if isinstance(value, dict):
            if id(value) in self.refs:
                return {"__ref__": self.refs[id(value)]}
            if all(isinstance(k, str) for k in value):
                body: Any = {k: self.encode(v) for k, v in value.items()}
            else:
                body = {"__pairs__": [[k, self.encode(v)] for k, v in value.items()]}
            if id(value) in self.shared:
                self.refs[id(value)] = len(self.refs)
                return {"__shared__": self.refs[id(value)], "__value__": body}
            return body
        if isinstance(value, bytes):
            return {"__bytes__": base64.b64encode(value).decode("ascii")}
        if isinstance(value, set):
            return {"__set__": [self.encode(v) for v in sorted(value, key=str)]}
        if isinstance(value, list | tuple):
            return [self.encode(v) for v in value]
        if isinstance(value, Collection):
            settings = {"id_field": value.id_field, "label": value.label, "uuid_ids": value.uuid_ids}
            return {"__collection__": {**settings, "next_id": value.next_id, "items": self.encode(value.keyed())}}
        if value is None or isinstance(value, str | int | float | bool):
            return value
        raise TypeError(f"the sandbox state holds a {type(value).__name__}, which the state file cannot keep")


class _Decoder:
    def __init__(self) -> None:
        self.refs: dict[int, dict[Any, Any]] = {}

    def decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__ref__" in value and len(value) == 1:
            return self.refs[value["__ref__"]]
        if "__shared__" in value and len(value) == 2:
            target: dict[Any, Any] = {}
            self.refs[value["__shared__"]] = target  # registered before filling, in the order it was written
            target.update(self._plain(value["__value__"]))
            return target
        if len(value) == 1:
            tag, inner = next(iter(value.items()))
            if tag == "__bytes__":
                return base64.b64decode(inner)
            if tag == "__set__":
                return {self.decode(v) for v in inner}
            if tag == "__collection__":
                return Collection.restored(inner, self.decode(inner["items"]))
        return self._plain(value)

    def _plain(self, value: dict[str, Any]) -> dict[Any, Any]:
        if "__pairs__" in value and len(value) == 1:
            return {(tuple(k) if isinstance(k, list) else k): self.decode(v) for k, v in value["__pairs__"]}
        return {k: self.decode(v) for k, v in value.items()}


def dump_state(state: SandboxState) -> dict[str, Any]:
    """The whole state as JSON-ready data (every attribute, so new ones are kept without changes here)."""
    attributes = vars(state)
    seen: dict[int, int] = {}
    shared: set[int] = set()
    _shared_dicts(list(attributes.values()), seen, shared)
    encoder = _Encoder(shared)
    return {"format": FORMAT, "version": VERSION, "state": {k: encoder.encode(v) for k, v in attributes.items()}}


def load_state(data: Any, now: float | None = None) -> SandboxState:
    """A SandboxState from `dump_state` output; each attribute keeps the container type a fresh state has."""
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("state"), dict):
        raise StateFileError("not a clicksend-mcp sandbox state file")
    if data.get("version") != VERSION:
        raise StateFileError(f"state file version {data.get('version')!r}; this version reads {VERSION}")
    state = SandboxState(now=now, seed=False)
    decoder = _Decoder()
    for name, raw in data["state"].items():
        value = decoder.decode(raw)
        fresh = getattr(state, name, None)
        if isinstance(fresh, dict) and isinstance(value, dict) and isinstance(fresh, defaultdict):
            value = defaultdict(fresh.default_factory, value)
        setattr(state, name, value)
    return state


class StateFile:
    """One state file on disk: read, written atomically, and locked across processes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._seen: tuple[int, int, int] | None = None
        self._written: str | None = None

    def check(self) -> None:
        """Refuse a path that can never work, at start rather than at the first call."""
        if not self.path.parent.is_dir():
            raise StateFileError(f"{self.path}: the folder {self.path.parent} does not exist")
        if self.path.exists() and not self.path.is_file():
            raise StateFileError(f"{self.path}: not a file")

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def read(self, now: float | None = None) -> SandboxState | None:
        """The stored state, or None when there is no file yet."""
        self._seen = self._stat()
        if self._seen is None:
            return None
        try:
            text = self.path.read_text(encoding="utf-8")
            state = load_state(json.loads(text), now)
        except (OSError, ValueError) as exc:
            reason = exc if isinstance(exc, StateFileError) else f"cannot be read ({type(exc).__name__})"
            raise StateFileError(f"{self.path}: {reason}; move it away to start afresh") from None
        self._written = text
        return state

    def changed_on_disk(self) -> bool:
        return self._stat() != self._seen

    def write(self, state: SandboxState) -> None:
        text = json.dumps(dump_state(state), ensure_ascii=False, separators=(",", ":"))
        if text == self._written and not self.changed_on_disk():
            return  # a read that changed nothing: no write
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._written = text
        self._seen = self._stat()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        if sys.platform == "win32":  # pragma: no cover
            yield
            return
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


class PersistentSandbox:
    """ASGI middleware over the sandbox app: each request sees the latest stored state and leaves its changes."""

    def __init__(self, app: ASGIApp, state: SandboxState, file: StateFile, clock: Callable[[], float]) -> None:
        self.app = app
        self.state = state
        self.file = file
        self.clock = clock
        self._lock = anyio.Lock()  # one request at a time in this process; flock orders the processes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self._lock:
            with self.file.locked():
                if self.file.changed_on_disk():
                    stored = self.file.read(self.clock())
                    if stored is not None:
                        # Swap the contents in place: the sandbox's endpoint holds this very object.
                        vars(self.state).clear()
                        vars(self.state).update(vars(stored))
                await self.app(scope, receive, send)
                self.file.write(self.state)


def persistent_sandbox_app(path: str | os.PathLike[str], clock: Callable[[], float] = time.time) -> ASGIApp:
    """The sandbox app with its state kept in `path` (created on the first call when missing)."""
    from .app import create_sandbox_app

    file = StateFile(path)
    file.check()
    with file.locked():
        state = file.read(clock())
    app = create_sandbox_app(state=state, clock=clock)
    sandbox_state: SandboxState = app.state.sandbox
    return PersistentSandbox(app, sandbox_state, file, clock)
