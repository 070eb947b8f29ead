"""Putting the pieces together: settings -> specs -> compiled tools -> backend -> dispatcher."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .backends import build_backend
from .compiler import CompiledTool, compile_tools
from .dispatcher import Dispatcher
from .loader import load_specs
from .settings import Settings


def load_tools(settings: Settings | None = None) -> dict[str, CompiledTool]:
    specs_dir = Path(settings.specs_dir) if settings and settings.specs_dir else None
    return compile_tools(load_specs(specs_dir))


def build_dispatcher(
    settings: Settings,
    *,
    tools: dict[str, CompiledTool] | None = None,
    sandbox_app: Any = None,
    asgi_app: Any = None,
) -> Dispatcher:
    """A dispatcher for the settings' backend. `sandbox_app`/`asgi_app` replace the network (tests)."""
    backend = build_backend(settings, sandbox_app=sandbox_app, asgi_app=asgi_app)
    return Dispatcher(tools if tools is not None else load_tools(settings), backend)
