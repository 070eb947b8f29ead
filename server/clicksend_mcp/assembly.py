"""Putting the pieces together: settings -> specs -> compiled tools -> backend -> dispatcher."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .backends import BackendConfig, build_backend, build_tenant_backends
from .compiler import CompiledTool, compile_tools
from .dispatcher import Dispatcher
from .guardrails import SendPolicy
from .loader import SpecCache, load_specs_cached
from .retries import RetryPolicy
from .selection import Selection
from .settings import Settings


def load_tools(settings: Settings | None = None, cache: SpecCache | None = None) -> dict[str, CompiledTool]:
    """Every tool, compiled. Specs unchanged since a clean start come from the cache, without re-checking schemas."""
    specs_dir = Path(settings.specs_dir) if settings and settings.specs_dir else None
    cache = cache or SpecCache.default()
    specs, digest = load_specs_cached(specs_dir, cache)
    tools = compile_tools(specs, check_schemas=digest is not None)
    if digest is not None:
        cache.write(digest, specs)
    return tools


def build_dispatcher(
    settings: Settings,
    *,
    tools: dict[str, CompiledTool] | None = None,
    sandbox_app: Any = None,
    asgi_app: Any = None,
) -> Dispatcher:
    """A dispatcher for the settings' backend. `sandbox_app`/`asgi_app` replace the network (tests)."""
    tools = tools if tools is not None else load_tools(settings)
    selection = selection_of(settings)
    selection.validate(tools)
    tenants = None
    if settings.multi_tenant:
        # No stored credentials: the configured backend is a client with no Authorization, used by nothing (the
        # dispatcher refuses a call that brings no tenant before it could reach it).
        tenants = build_tenant_backends(settings, asgi_app=asgi_app)
        backend = BackendConfig("direct", tenants.direct)
    else:
        backend = build_backend(settings, sandbox_app=sandbox_app, asgi_app=asgi_app)
    return Dispatcher(
        tools,
        backend,
        selection=selection,
        policy=policy_of(settings),
        retry=RetryPolicy(attempts=settings.retries + 1, max_wait=settings.retry_max_wait),
        max_result_bytes=settings.max_result_bytes,
        max_argument_bytes=settings.max_argument_bytes,
        extra_secrets=[
            *([settings.auth_token.get_secret_value()] if settings.auth_token else []),
            *settings.state_key_ring(),
        ],
        tenants=tenants,
    )


def selection_of(settings: Settings) -> Selection:
    """The settings' selection; with no toolsets or tools named, the default toolsets (documented in the README)."""
    return Selection.from_names(settings.toolsets, settings.tools, settings.exclude_tools, settings.read_only)


def policy_of(settings: Settings) -> SendPolicy:
    countries = frozenset((settings.allowed_countries or "").split(",")) - {""}
    return SendPolicy(
        max_recipients=settings.max_recipients,
        allowed_countries=countries,
        test_numbers_only=settings.test_numbers_only,
        confirm_sends=settings.confirm_sends,
    )
