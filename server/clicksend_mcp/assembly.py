"""Putting the pieces together: settings -> specs -> compiled tools -> backend -> dispatcher."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .backends import BACKENDS, BackendConfig, build_backend, toolsets_of
from .backends.tenants import build_tenant_backends
from .catalogue_cache import CompiledCache, compiled_key
from .clock import Clock
from .compiler import MATON_CONNECTION_PARAM, CompiledTool, compile_tools, with_param
from .dispatcher import Dispatcher
from .guardrails import SendPolicy
from .ledger import Ledger
from .loader import SpecCache, read_sources
from .retries import RetryPolicy
from .selection import DEFAULT_TOOLSETS, Selection
from .settings import ConfigError, Settings

if TYPE_CHECKING:
    from .conversations import Conversations


def load_tools(settings: Settings | None = None, cache: SpecCache | None = None) -> dict[str, CompiledTool]:
    """Every tool, compiled. Spec files unchanged since a clean start come from the compiled catalogue kept then
    (neither validated nor compiled again), else from the validated specs kept then (compiled without re-checking
    schemas), else from the files."""
    specs_dir = Path(settings.specs_dir) if settings and settings.specs_dir else None
    cache = cache or SpecCache.default()
    sources = read_sources(specs_dir)
    compiled = CompiledCache(cache.directory)
    try:
        key = compiled_key(sources.digest) if cache.directory is not None else ""
    except OSError:  # installed without its sources: nothing to key the compiled catalogue by, so none is kept
        key = ""
    tools = compiled.read(key) if key else None
    if tools is not None:
        return tools
    specs = cache.read(sources.digest)
    fresh = specs is None
    if specs is None:
        specs = sources.parse()
    tools = compile_tools(specs, check_schemas=fresh)
    if fresh:
        cache.write(sources.digest, specs)
    if key:
        compiled.write(key, tools)
    return tools


def build_dispatcher(
    settings: Settings,
    *,
    tools: dict[str, CompiledTool] | None = None,
    sandbox_app: Any = None,
    asgi_app: Any = None,
    clock: Clock | None = None,
) -> Dispatcher:
    """A dispatcher for the settings' backend. `sandbox_app`/`asgi_app` replace the network (tests)."""
    tools = tools if tools is not None else load_tools(settings)
    tenants = None
    if settings.multi_tenant:
        # No stored credentials: each call brings its tenant's backend; this one only names what is served (the
        # dispatcher refuses a call that brings no tenant before anything could be sent).
        tenants = build_tenant_backends(settings, asgi_app=asgi_app)
        backend = tenants.placeholder
    else:
        backend = build_backend(settings, sandbox_app=sandbox_app, asgi_app=asgi_app)
    selection = selection_of(settings, backend.name)
    selection.validate(tools)
    if settings.maton_connection_arg:
        if backend.name != "maton":
            raise ConfigError(
                f"--maton-connection-arg (CLICKSEND_MATON_CONNECTION_ARG) needs the maton backend, not {backend.name}"
            )
        # Declared by the compiler like dry_run: the argument, its pattern and the header it becomes.
        tools = {n: with_param(t, MATON_CONNECTION_PARAM) if t.spec.api == "clicksend" else t for n, t in tools.items()}
    ledger = build_ledger(settings, backend, clock=clock)
    dispatcher = Dispatcher(
        tools,
        backend,
        selection=selection,
        policy=policy_of(settings),
        retry=RetryPolicy(attempts=settings.retries + 1, max_wait=settings.retry_max_wait),
        max_result_bytes=settings.max_result_bytes,
        max_argument_bytes=settings.max_argument_bytes,
        extra_secrets=[
            *(
                s.get_secret_value()
                for s in (settings.auth_token, settings.ledger_key, settings.database_url, settings.webhook_secret)
                if s
            ),
            *settings.state_key_ring(),
        ],
        ledger=ledger,
        tenants=tenants,
    )
    if ledger is not None:
        dispatcher.conversations = build_conversations(settings, ledger, clock)
    elif settings.receives_webhooks:
        raise ConfigError(
            "CLICKSEND_MCP_WEBHOOK_SECRET: webhooks store replies in the send ledger's database, and it is off "
            "(CLICKSEND_MCP_DATABASE_URL=off)"
        )
    if not dispatcher.tools:
        served = sorted({t.spec.toolset for t in tools.values() if backend.serves(t.spec.api)})
        raise ConfigError(
            f"this selection leaves no tools the {backend.name} backend can run; its toolsets: {', '.join(served)}"
        )
    return dispatcher


def build_conversations(settings: Settings, ledger: Ledger, clock: Clock | None = None) -> Conversations:
    """Replies and receipts in the ledger's database: pushed by webhooks on an HTTP transport with a secret,
    otherwise polled from ClickSend while a tool waits."""
    from typing import cast

    from .conversations import Conversations
    from .store.messages import MessageStore

    conversations = Conversations(
        cast(MessageStore, ledger.store),
        ledger.tenant,
        clock,
        # Multi-tenant: the server cannot know whether a tenant pointed its rules here, so its account is still
        # polled while a tool waits; a push wakes the waiter at once.
        poll_clicksend=not settings.receives_webhooks or settings.multi_tenant,
        ready=ledger.start,
        fingerprints=ledger.fingerprints,
    )
    if settings.receives_webhooks and settings.public_url and settings.webhook_secret:
        from .webhook_addresses import WebhookAddress

        conversations.webhooks = WebhookAddress(
            settings.public_url, settings.webhook_secret.get_secret_value(), per_tenant=settings.multi_tenant
        )
    return conversations


def tenant_identity(settings: Settings, backend: BackendConfig) -> tuple[str, ...]:
    """Who the backend authenticates as; fingerprinted with the ledger key, so the ledger holds none of it."""
    if backend.name == "maton":
        key = settings.maton_api_key.get_secret_value() if settings.maton_api_key else ""
        return ("maton", key, settings.maton_connection or "")
    if backend.name == "skillboss":
        return ("skillboss", settings.skillboss_api_key.get_secret_value() if settings.skillboss_api_key else "")
    return (backend.name, settings.clicksend_username or "")


def build_ledger(settings: Settings, backend: BackendConfig, *, clock: Clock | None = None) -> Ledger | None:
    """The send ledger the settings ask for (SQLite in the state directory unless told otherwise), not yet opened."""
    from .fingerprints import Fingerprints, LedgerKeyError, key_beside, key_from_text
    from .store import locate, open_store

    location = locate(settings.database_url.get_secret_value() if settings.database_url else None)
    if location is None:
        return None
    try:
        if settings.ledger_key is not None:
            key = key_from_text(settings.ledger_key.get_secret_value())
        elif location.path is not None:
            key = key_beside(location.path)
        else:
            raise ConfigError(
                "a PostgreSQL ledger needs CLICKSEND_MCP_LEDGER_KEY (at least 32 characters, the same on every "
                "replica): it keys the hashes of recipients, and is kept out of the database on purpose"
            )
    except LedgerKeyError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(f"cannot create the ledger key beside {location.path}: {exc.strerror}") from None
    fingerprints = Fingerprints(key)
    identity = tenant_identity(settings, backend)
    return Ledger(
        open_store(location),
        fingerprints,
        fingerprints.tenant(*identity),
        settings.limits(),
        clock,
        pending_timeout=settings.ledger_pending_timeout,
        wait_timeout=settings.timeout + 30,
    )


def selection_of(settings: Settings, backend: str | None = None) -> Selection:
    """The settings' selection; with no toolsets or tools named, the default toolsets (documented in the README)
    plus the backend's own (maton: its connections; skillboss: its tools)."""
    if backend is None:
        try:
            backend = settings.resolved_backend()
        except ConfigError:
            backend = None
    defaults = (*DEFAULT_TOOLSETS, *toolsets_of(backend)) if backend else DEFAULT_TOOLSETS
    return Selection.from_names(
        settings.toolsets, settings.tools, settings.exclude_tools, settings.read_only, defaults=defaults
    )


def served_tools(settings: Settings, selection: Selection, tools: dict[str, CompiledTool]) -> dict[str, CompiledTool]:
    """The selected tools the settings' backend can run (every selected tool when no backend is configured yet)."""
    try:
        apis = BACKENDS[settings.resolved_backend()].APIS
    except ConfigError:
        return selection.apply(tools)
    return {n: t for n, t in selection.apply(tools).items() if t.spec.api in apis}


def policy_of(settings: Settings) -> SendPolicy:
    countries = frozenset((settings.allowed_countries or "").split(",")) - {""}
    return SendPolicy(
        max_recipients=settings.max_recipients,
        allowed_countries=countries,
        test_numbers_only=settings.test_numbers_only,
        confirm_sends=settings.confirm_sends,
    )
