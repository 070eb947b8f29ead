"""The command line: serve (stdio, SSE or streamable HTTP), list tools, run one call, or check the set-up (doctor)."""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import os
import socket
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from . import __version__

# Everything else is imported where it is used: `clicksend-mcp` imports this module before main() runs, and main()
# first pauses the garbage collector (see _pause_collection), so the heavy imports (pydantic, the settings and spec
# models) come after it.
if TYPE_CHECKING:
    import argparse

    from pydantic import ValidationError

    from .dispatcher import Dispatcher, PreparedCall
    from .settings import Settings

log = logging.getLogger("clicksend_mcp")

EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a program ended by SIGPIPE, e.g. `seq 1e9 | head -1`


@dataclass(frozen=True)
class Flag:
    """One command-line flag over one settings field; its environment variable and default come from Settings."""

    group: str
    field: str
    help: str
    # dataclasses.field, spelled out: the bare name would be this class's `field` attribute above.
    options: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def flag(self) -> str:
        return "--" + self.field.replace("_", "-")

    def add_to(self, group: argparse._ArgumentGroup) -> None:
        import argparse

        from .settings import Settings, env_name

        default = Settings.model_fields[self.field].default
        shown = f"; default {default}" if default not in (None, False) and "default" not in self.help else ""
        # SUPPRESS: an absent flag sets nothing, so a subcommand's parser never overwrites a value given before it.
        group.add_argument(
            self.flag,
            default=argparse.SUPPRESS,
            help=f"{self.help} [{env_name(self.field)}{shown}]",
            **self.options,
        )


_SWITCH = {"action": "store_true"}
GENERAL, BACKEND, SERVING, SELECTION, GUARDRAILS = "general", "backend", "serving", "selection", "guardrails"
LEDGER, REPLIES = "ledger", "replies"
HOSTING = "hosting"
_GROUP_TITLES = {
    GENERAL: "general",
    BACKEND: "where calls go",
    SERVING: "serving over SSE or streamable HTTP",
    HOSTING: "hosting many users on many replicas (HTTP transports)",
    SELECTION: "what the agent sees",
    GUARDRAILS: "guardrails on sends",
    LEDGER: "the send ledger, budgets and limits",
    REPLIES: "replies and delivery receipts",
}
FLAGS: tuple[Flag, ...] = (
    Flag(GENERAL, "log_level", "stderr log level", {"choices": ["debug", "info", "warning", "error"]}),
    Flag(GENERAL, "log_format", "stderr log lines as text or JSON", {"choices": ["text", "json"]}),
    Flag(GENERAL, "specs_dir", "serve the tool specs from this folder", {"metavar": "DIR"}),
    Flag(
        BACKEND,
        "backend",
        "direct (ClickSend), maton or skillboss (gateways), or sandbox (no account, nothing sent); default: "
        "chosen from the credentials set",
        {"choices": ["direct", "maton", "skillboss", "sandbox"]},
    ),
    Flag(
        BACKEND,
        "maton_connection_arg",
        "maton backend: every tool takes an optional maton_connection (one account per call)",
        _SWITCH,
    ),
    Flag(BACKEND, "timeout", "seconds to wait for ClickSend", {"type": float, "metavar": "SECONDS"}),
    Flag(BACKEND, "retries", "retries of reads and idempotent writes", {"type": int, "metavar": "N"}),
    Flag(
        BACKEND,
        "sandbox_state",
        "keep the sandbox's state in this JSON file between runs",
        {"metavar": "PATH"},
    ),
    Flag(SERVING, "transport", "how MCP clients connect", {"choices": ["stdio", "sse", "http"]}),
    Flag(SERVING, "host", "address to bind for sse/http"),
    Flag(SERVING, "port", "port for sse/http", {"type": int}),
    Flag(
        SERVING,
        "workers",
        "processes serving one port (handshake-era and SSE sessions then need sticky routing)",
        {"type": int, "metavar": "N"},
    ),
    Flag(
        SERVING,
        "auth_token",
        "token HTTP clients must send as a Bearer (required off loopback; prefer the variable)",
        {"metavar": "TOKEN"},
    ),
    Flag(
        SERVING,
        "allowed_hosts",
        "Host headers to accept, e.g. mcp.example.com:* (default: loopback names when bound to loopback)",
        {"metavar": "HOSTS"},
    ),
    Flag(
        SERVING,
        "allowed_origins",
        "Origin headers to accept (default: loopback origins when bound to loopback)",
        {"metavar": "ORIGINS"},
    ),
    Flag(
        HOSTING,
        "multi_tenant",
        "hold no ClickSend credentials: each request sends X-ClickSend-Username + X-ClickSend-Api-Key, "
        "or X-Maton-Api-Key (+ X-Maton-Connection)",
        _SWITCH,
    ),
    Flag(HOSTING, "oauth_issuer", "accept JWT access tokens from this OAuth issuer", {"metavar": "URL"}),
    Flag(HOSTING, "oauth_audience", "this server's public URL, the tokens' required audience", {"metavar": "URL"}),
    Flag(HOSTING, "oauth_required_scope", "a scope every access token must carry", {"metavar": "SCOPE"}),
    Flag(
        HOSTING,
        "oauth_jwks_url",
        "the issuer's JWKS (default: from the issuer's metadata document)",
        {"metavar": "URL"},
    ),
    Flag(
        HOSTING,
        "replica_id",
        "this replica's name, put on handshake-era session ids so a proxy can pin them",
        {"metavar": "ID"},
    ),
    Flag(HOSTING, "metrics", "serve Prometheus metrics at /metrics behind the same access control", _SWITCH),
    Flag(
        HOSTING,
        "metrics_port",
        "serve /metrics on this port instead, without access control (for the scraper only)",
        {"type": int, "metavar": "PORT"},
    ),
    Flag(
        SERVING,
        "header_timeout",
        "seconds a connection may take to send a request head",
        {"type": float, "metavar": "SECONDS"},
    ),
    Flag(SERVING, "max_connections", "open HTTP connections", {"type": int, "metavar": "N"}),
    Flag(
        SERVING,
        "session_idle_timeout",
        "seconds before an idle HTTP session is closed",
        {"type": float, "metavar": "SECONDS"},
    ),
    Flag(SERVING, "max_sessions", "open HTTP sessions in all", {"type": int, "metavar": "N"}),
    Flag(SERVING, "max_sessions_per_client", "open sessions per client address", {"type": int, "metavar": "N"}),
    Flag(
        SELECTION,
        "toolsets",
        "comma-separated toolsets, 'all', 'default' (the everyday tools) or 'aliases' (second names of tools)",
        {"metavar": "NAMES"},
    ),
    Flag(SELECTION, "tools", "comma-separated tool names to add (alone: only these)", {"metavar": "NAMES"}),
    Flag(SELECTION, "exclude_tools", "comma-separated tool names to hide", {"metavar": "NAMES"}),
    Flag(SELECTION, "read_only", "only tools that change nothing", _SWITCH),
    Flag(
        SELECTION,
        "discovery",
        "list four tools (search, describe, call, call read-only) instead of every tool",
        _SWITCH,
    ),
    Flag(GUARDRAILS, "max_recipients", "most recipients one call may reach", {"type": int, "metavar": "N"}),
    Flag(GUARDRAILS, "allowed_countries", "only send to these ISO countries, e.g. AU,US", {"metavar": "CODES"}),
    Flag(GUARDRAILS, "test_numbers_only", "refuse any recipient that is not a ClickSend test number", _SWITCH),
    Flag(
        GUARDRAILS,
        "confirm_sends",
        "ask the person before every send (MCP elicitation; `call` asks y/N on a terminal)",
        _SWITCH,
    ),
    Flag(GUARDRAILS, "max_result_bytes", "cut larger results, saying so", {"type": int, "metavar": "BYTES"}),
    Flag(
        LEDGER,
        "database_url",
        "where the send ledger lives: sqlite:///path, postgresql://... or off (default: SQLite in the state "
        "directory; prefer the variable for a URL with a password)",
        {"metavar": "URL"},
    ),
    Flag(LEDGER, "max_spend_per_day", "refuse sends beyond this spend per UTC day", {"metavar": "AMOUNT"}),
    Flag(LEDGER, "max_spend_per_month", "refuse sends beyond this spend per UTC month", {"metavar": "AMOUNT"}),
    Flag(
        LEDGER,
        "max_messages_per_recipient",
        "most messages one recipient may get, e.g. 3/day or 10/week",
        {"metavar": "COUNT/WINDOW"},
    ),
    Flag(LEDGER, "quiet_hours", "e.g. 21:00-08:00, in each recipient's own time zone", {"metavar": "HH:MM-HH:MM"}),
    Flag(
        LEDGER,
        "ledger_pending_timeout",
        "seconds after which a send left pending by a dead process becomes unknown",
        {"type": float, "metavar": "SECONDS"},
    ),
    Flag(
        REPLIES,
        "public_url",
        "the URL ClickSend reaches this server at, for its webhooks (CLICKSEND_MCP_WEBHOOK_SECRET turns them on)",
        {"metavar": "URL"},
    ),
    Flag(
        REPLIES,
        "sandbox_responder",
        "sandbox: how test numbers answer: fixed:<text>, echo, script:<a>|<b>|..., or off",
        {"metavar": "SPEC"},
    ),
    Flag(
        REPLIES,
        "sandbox_reply_delay",
        "sandbox: seconds before a test number answers",
        {"type": int, "metavar": "SECONDS"},
    ),
)
# Which flags each command takes; with no command the server is served, so the top level takes them all.
_COMMAND_GROUPS = {
    "serve": (GENERAL, BACKEND, SERVING, HOSTING, SELECTION, GUARDRAILS, LEDGER, REPLIES),
    "tools": (GENERAL, BACKEND, SELECTION),  # the list is what the configured backend serves
    "call": (GENERAL, BACKEND, SELECTION, GUARDRAILS, LEDGER, REPLIES),
    "doctor": (GENERAL, BACKEND),
    "ledger": (GENERAL, BACKEND, LEDGER),
}

EPILOG = """\
credentials (environment variables only, so they never show in the process list):
  CLICKSEND_USERNAME, CLICKSEND_API_KEY   ClickSend's API username and key (direct backend)
  MATON_API_KEY, MATON_CONNECTION         a Maton API key, and optionally which connection (maton backend)
  SKILLBOSS_API_KEY                       a SkillBoss API Hub key (skillboss backend)
  CLICKSEND_MCP_STATE_KEYS                keys sealing confirmations, shared by every replica (first seals)

The backend is chosen automatically: direct when both ClickSend variables are set, else maton when
MATON_API_KEY is set, else skillboss when SKILLBOSS_API_KEY is set. --backend sandbox needs no account:
an in-process ClickSend where nothing is sent.
Settings that exist only as environment variables (base URLs, retry wait, size limits, shutdown grace,
cache folder) are in the README's configuration table. Check a set-up with: clicksend-mcp doctor
"""


def _parent(groups: Sequence[str]) -> argparse.ArgumentParser:
    import argparse

    parent = argparse.ArgumentParser(add_help=False)
    for name in groups:
        group = parent.add_argument_group(_GROUP_TITLES[name])
        for flag in FLAGS:
            if flag.group == name:
                flag.add_to(group)
    return parent


def _parser() -> argparse.ArgumentParser:
    import argparse

    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="clicksend-mcp",
        description="An MCP server for the ClickSend REST API. With no command it serves MCP (stdio by default).",
        epilog=EPILOG,
        formatter_class=formatter,
        parents=[_parent(_COMMAND_GROUPS["serve"])],
    )
    parser.add_argument("--version", action="version", version=f"clicksend-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=summary,
            description=textwrap.fill(description, 100),
            epilog=EPILOG,
            formatter_class=formatter,
            parents=[_parent(_COMMAND_GROUPS[name])],
        )

    command("serve", "serve MCP (the default)", "Serve MCP over stdio (the default), SSE or streamable HTTP.")
    tools = command(
        "tools",
        "list the tools: name, toolset, read-only or write",
        "List the tools the selection serves (name, toolset, read-only or write), their MCP definitions, the "
        "tool reference, or what tools/list costs.",
    )
    shape = tools.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the MCP tool definitions as JSON")
    shape.add_argument("--markdown", action="store_true", help="print the tool reference (docs/tools.md)")
    shape.add_argument("--size", action="store_true", help="bytes (and ~tokens) of tools/list for this selection")
    call = command(
        "call",
        "run one tool and print its normalized result",
        "Run one tool through the same validation, guardrails and backend as the server, and print its result "
        "as JSON (exit status 1 when the call failed).",
    )
    call.add_argument("name", help="the tool name, e.g. CLICKSEND_GET_ACCOUNT")
    call.add_argument("--args", default="{}", metavar="JSON", help="the arguments as a JSON object (default {})")
    command(
        "doctor",
        "check the configuration and credentials with one read-only call",
        "Check the configuration and the credentials with one read-only call (GET /account) and say in plain "
        "words what is wrong. Exit status 0 only when that call succeeded.",
    )
    ledger = command(
        "ledger",
        "the send ledger: spend, budgets left, recent sends, limits",
        "Show the send ledger of the configured account: what is left of the budgets and when they reset, spend "
        "by day, recent sends with their outcome, cost, tag and message ids, and the limits in force.",
    )
    ledger.add_argument("--days", type=int, default=7, metavar="N", help="days of spend by day to show (default 7)")
    ledger.add_argument("--limit", type=int, default=20, metavar="N", help="recent sends to list (default 20)")
    ledger.add_argument("--json", action="store_true", help="print it as JSON")
    return parser


def _settings(ns: argparse.Namespace | SimpleNamespace) -> Settings:
    from .settings import Settings

    overrides: dict[str, Any] = {f.field: getattr(ns, f.field) for f in FLAGS if hasattr(ns, f.field)}
    return Settings(**overrides)


def _export_flags(ns: argparse.Namespace | SimpleNamespace) -> None:
    """Put the flags given into the environment, so worker processes (which read settings from it) see them."""
    from .settings import env_name

    for flag in FLAGS:
        if hasattr(ns, flag.field):
            value = getattr(ns, flag.field)
            os.environ[env_name(flag.field)] = ("true" if value else "false") if isinstance(value, bool) else str(value)


def _config_problem(exc: ValidationError) -> str:
    # Only field names and messages: pydantic's own text quotes the input, which can hold secrets.
    from .settings import env_name

    lines = []
    for err in exc.errors():
        field_name = str(err["loc"][0]) if err["loc"] else ""
        try:
            name = env_name(field_name)
        except (KeyError, AssertionError):
            name = field_name or "configuration"
        lines.append(f"  {name}: {err['msg'].removeprefix('Value error, ')}")
    return "Invalid configuration:\n" + "\n".join(lines)


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"clicksend-mcp: {message}", file=sys.stderr)
    return code


_collection_paused = False


def _pause_collection() -> None:
    """No cyclic garbage collection while the server starts. Starting allocates hundreds of thousands of objects
    that live as long as the process (the SDK's and pydantic's modules, the compiled catalogue) and almost no
    garbage; each collection on the way rescans them all, which costs more than a tenth of the start."""
    global _collection_paused
    if gc.isenabled():
        gc.disable()
        _collection_paused = True


def resume_collection() -> None:
    """Collection on again, once what starting built is in place: that is moved out of the collector's sight for
    good (gc.freeze, the pattern Python documents for long-lived start-up state), so later collections scan only
    what serving allocates."""
    global _collection_paused
    if _collection_paused:
        gc.freeze()
        gc.enable()
        _collection_paused = False


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:  # run as the command (not called with arguments, as tests do): this process is the server
        _pause_collection()
    try:
        code = _main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader went away (`clicksend-mcp tools | head -1`): stop quietly. Point stdout at /dev/null so the
        # interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    finally:
        resume_collection()


def _main(argv: Sequence[str] | None) -> int:
    import anyio
    from pydantic import ValidationError

    from .compiler import CompileError
    from .loader import SpecLoadError
    from .logs import setup_logging
    from .redaction import Redactor
    from .settings import ConfigError

    argv = sys.argv[1:] if argv is None else argv
    # An MCP client usually starts the server with no arguments (settings in the environment): serve, without
    # building the parser, which costs as much as the rest of the command line's start-up.
    ns = _parser().parse_args(argv) if argv else SimpleNamespace(command=None)
    try:
        settings = _settings(ns)
    except ValidationError as exc:
        return _fail(_config_problem(exc))
    command = ns.command or "serve"
    setup_logging(settings.log_level, Redactor(()), settings.log_format)
    if command == "doctor":
        from .doctor import run_doctor

        return anyio.run(run_doctor, settings)
    try:
        from .assembly import build_dispatcher, load_tools, selection_of, served_tools

        listener: socket.socket | None = None
        if command == "serve":
            settings.check_http_exposure()
            if settings.transport != "stdio":
                from .selection import split_names
                from .transports.access import host_rules

                host_rules(settings.host, split_names(settings.allowed_hosts), split_names(settings.allowed_origins))
        tools = load_tools(settings)
        if command == "tools":
            from .presentation import served as as_served
            from .selection import Selection

            selection = selection_of(settings)
            selection.validate(tools)
            # As the agent reads them: references rendered for this selection, the operator's recipient limit,
            # only what the configured backend runs.
            runnable = served_tools(settings, Selection(), tools)
            listed, _ = as_served(
                selection, tools, max_recipients=settings.max_recipients, runs=lambda t: t.name in runnable
            )
            if ns.size:
                return _print_size(tools, listed, discovery=settings.discovery)
            # The reference documents the specs as written (ClickSend's limits), whatever this server's settings.
            shown = served_tools(settings, selection, tools) if ns.markdown else listed
            return _print_tools(shown, as_json=ns.json, as_markdown=ns.markdown)
        dispatcher = build_dispatcher(settings, tools=tools)
        if command == "serve" and settings.transport != "stdio":
            from .transports.serving import bind_listener

            # Bind before anything starts, so a taken port is one clear line, not a traceback after start-up.
            listener = bind_listener(settings.host, settings.port)
    except (SpecLoadError, CompileError) as exc:
        return _fail(f"refusing to start: {exc}")
    except ConfigError as exc:
        return _fail(str(exc))
    setup_logging(settings.log_level, dispatcher.redactor, settings.log_format)
    if command != "serve":
        resume_collection()  # a command's own work runs with the collector on (serving resumes it in _serve)
    if command == "ledger":
        from .ledger_report import print_ledger

        return anyio.run(print_ledger, dispatcher, ns.days, ns.limit, ns.json)
    if command == "serve" and settings.workers > 1:
        _export_flags(ns)
    if command == "call":
        return anyio.run(_call, dispatcher, ns.name, ns.args, settings.confirm_sends)
    return anyio.run(_serve, dispatcher, settings, listener)


def _print_tools(tools: dict[str, Any], *, as_json: bool, as_markdown: bool) -> int:
    from .app import mcp_tool
    from .tool_reference import render_markdown

    if as_markdown:
        sys.stdout.write(render_markdown(tools.values()))
        return 0
    ordered = sorted(tools.values(), key=lambda t: (t.spec.toolset, t.name))
    if as_json:
        payload = [mcp_tool(t).model_dump(by_alias=True, mode="json", exclude_none=True) for t in ordered]
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    width = max(len(t.name) for t in ordered)
    for t in ordered:
        kind = "read-only" if t.read_only else "write"
        print(f"{t.name:<{width}}  {t.spec.toolset:<12} {kind}")
    sys.stdout.flush()
    print(f"{len(ordered)} tools", file=sys.stderr)
    return 0


def _print_size(all_tools: dict[str, Any], selected: dict[str, Any], *, discovery: bool) -> int:
    from .app import listing_bytes
    from .discovery import NAMES as DISCOVERY_NAMES

    rows = [
        (
            "this selection",
            listing_bytes(selected.values(), discovery=discovery),
            len(selected) if not discovery else len(DISCOVERY_NAMES),
        ),
        ("full catalogue", listing_bytes(all_tools.values(), discovery=False), len(all_tools)),
        ("discovery mode", listing_bytes(selected.values(), discovery=True), len(DISCOVERY_NAMES)),
    ]
    for label, size, count in rows:
        print(f"{label:<16} {count:>4} tools  {size:>8} bytes  ~{size // 4:>6} tokens")
    return 0


async def _call(dispatcher: Any, name: str, raw_args: str, confirm_sends: bool) -> int:
    from .dispatcher import UnknownToolError

    try:
        arguments = json.loads(raw_args)
    except json.JSONDecodeError as exc:
        await dispatcher.aclose()
        return _fail(f"--args is not valid JSON ({exc.msg} at position {exc.pos})")
    if not isinstance(arguments, dict):
        await dispatcher.aclose()
        return _fail("--args must be a JSON object")
    try:
        if not await start(dispatcher):
            return EXIT_USAGE
        prepared = await dispatcher.prepare(name, arguments)
        if confirm_sends and prepared.needs_confirmation:
            result = await _confirm_then_execute(dispatcher, prepared)
        else:
            result = await dispatcher.execute(prepared)
    except UnknownToolError as exc:
        real = name in dispatcher.all_tools  # a real tool this selection hides: the reason says how to enable it
        return _fail(str(exc) if real else f"{exc} List the tools with: clicksend-mcp --toolsets all tools")
    finally:
        await dispatcher.aclose()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result.get("successful") else 1


async def _confirm_then_execute(dispatcher: Dispatcher, prepared: PreparedCall) -> dict[str, Any]:
    """--confirm-sends on the command line: the elicitation's summary and a y/N question on the terminal."""
    from .send_summary import send_summary

    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return dispatcher.finish_declined(
            prepared,
            "NOT_CONFIRMED",
            "this command asks the person to confirm every send (--confirm-sends), and there is no terminal to ask on",
        )
    message = await send_summary(dispatcher, prepared)
    sys.stderr.write(f"{message}\nSend it? [y/N] ")
    sys.stderr.flush()
    import anyio.to_thread

    answer = await anyio.to_thread.run_sync(sys.stdin.readline)
    if answer.strip().lower() not in ("y", "yes"):
        return dispatcher.finish_declined(prepared, "NOT_CONFIRMED", "the person declined this send")
    return await dispatcher.execute(prepared)


async def start(dispatcher: Any) -> bool:
    """Open the send ledger before the first call (migrations, stale pending sends); say why not, without secrets."""
    try:
        await dispatcher.start()
    except Exception as exc:
        label = dispatcher.ledger.store.label if dispatcher.ledger else "?"
        text = str(exc).strip()
        detail = dispatcher.redactor.text(text.splitlines()[0]) if text else ""
        _fail(f"cannot open the send ledger ({label}): {type(exc).__name__}{': ' + detail if detail else ''}")
        return False
    return True


async def _serve(dispatcher: Any, settings: Settings, listener: socket.socket | None) -> int:
    from .app import build_server
    from .transports.serving import (
        attach_metrics,
        build_http_app,
        closing,
        serve_http,
        serve_options,
        serve_workers,
    )
    from .transports.stdio import run_stdio

    if not await start(dispatcher):
        await dispatcher.aclose()
        if listener is not None:
            listener.close()
        return EXIT_USAGE
    metrics = attach_metrics(dispatcher, settings)
    server = build_server(dispatcher, discovery=settings.discovery, state_keys=settings.state_key_ring())
    log.info(
        "clicksend-mcp %s: %d tools%s, backend=%s, transport=%s",
        __version__,
        len(dispatcher.tools),
        " behind discovery" if settings.discovery else "",
        "per-request (multi-tenant)" if dispatcher.tenants is not None else dispatcher.backend.name,
        settings.transport,
    )
    resume_collection()
    async with closing(dispatcher):
        if settings.transport == "stdio" or listener is None:
            await run_stdio(server, dispatcher, settings.shutdown_grace)
            return 0
        endpoint = "/sse" if settings.transport == "sse" else "/mcp"
        port = listener.getsockname()[1]
        shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
        log.info("listening on http://%s:%d%s", shown_host, port, endpoint)
        if settings.workers > 1:
            # The parent only supervises: each worker builds its own dispatcher from the environment.
            await dispatcher.aclose()
            return await serve_workers(settings, listener)
        conversations = dispatcher.conversations if settings.receives_webhooks else None
        app = build_http_app(server, settings, metrics, conversations)
        webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        import anyio

        async with anyio.create_task_group() as tasks:
            if conversations is not None and webhook_secret and dispatcher.backend.is_sandbox:
                from .sandbox.responder import state_of
                from .transports.webhooks import push_sandbox_events

                # The sandbox's test numbers answer through this server's own webhook endpoints.
                state = state_of(dispatcher.backend.http.asgi_app)
                tasks.start_soon(push_sandbox_events, state, app, webhook_secret)
            if dispatcher.conversations is not None:
                how = (
                    "webhooks at /webhooks/clicksend/<tenant token>/ and polled from each tenant's account"
                    if conversations and settings.multi_tenant
                    else "webhooks at /webhooks/clicksend/<secret>/"
                    if conversations
                    else "polled from ClickSend"
                )
                log.info("replies and receipts: %s", how)
            await serve_http(app, dispatcher, serve_options(settings, listener, metrics))
            tasks.cancel_scope.cancel()
    return 0
