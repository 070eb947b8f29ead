"""The backends (direct, maton, sandbox): one module each; this one picks the module the settings name."""

from __future__ import annotations

from typing import Any

from ..settings import Settings
from . import direct, maton, sandbox
from .base import BackendConfig

__all__ = ["BackendConfig", "build_backend"]


def build_backend(settings: Settings, *, sandbox_app: Any = None, asgi_app: Any = None) -> BackendConfig:
    """The backend the settings choose. `asgi_app` routes direct/maton calls in-process (tests only)."""
    name = settings.resolved_backend()
    if name == "sandbox":
        return sandbox.build(settings, sandbox_app=sandbox_app)
    if name == "direct":
        return direct.build(settings, asgi_app=asgi_app)
    return maton.build(settings, asgi_app=asgi_app)
