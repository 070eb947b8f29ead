"""An in-process fake ClickSend REST API v3 with state: the sandbox backend and the tests' fake server."""

from __future__ import annotations

from .app import create_sandbox_app, has_route
from .auth import SandboxAuth
from .state import SandboxState

__all__ = ["SandboxAuth", "SandboxState", "create_sandbox_app", "has_route"]
