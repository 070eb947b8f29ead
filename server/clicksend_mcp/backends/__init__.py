"""The backends: one module each (direct, maton, skillboss, sandbox); this one picks the module the settings name
and says which backends serve an API. A new backend is one module here, its line in BACKENDS and its settings
(settings.py, cli.py); no other backend changes."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ..settings import Settings
from . import direct, maton, sandbox, skillboss
from .base import BackendConfig

__all__ = ["BACKENDS", "BackendConfig", "backends_serving", "build_backend", "toolsets_of"]

# name -> module with APIS (which spec `api` values it serves), TOOLSETS (its own) and build().
BACKENDS: dict[str, ModuleType] = {"direct": direct, "maton": maton, "skillboss": skillboss, "sandbox": sandbox}


def build_backend(settings: Settings, *, sandbox_app: Any = None, asgi_app: Any = None) -> BackendConfig:
    """The backend the settings choose. `asgi_app` routes network backends in-process (tests only)."""
    name = settings.resolved_backend()
    if name == "sandbox":
        return sandbox.build(settings, sandbox_app=sandbox_app)
    built: BackendConfig = BACKENDS[name].build(settings, asgi_app=asgi_app)
    return built


def backends_serving(api: str) -> list[str]:
    return [name for name, module in BACKENDS.items() if api in module.APIS]


def toolsets_of(name: str) -> tuple[str, ...]:
    module = BACKENDS.get(name)
    return tuple(module.TOOLSETS) if module is not None else ()
