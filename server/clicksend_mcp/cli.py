"""The command line: serve (stdio, SSE or streamable HTTP), list tools, or run one call for people and scripts."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

import anyio
from pydantic import ValidationError

from . import __version__
from .compiler import CompileError
from .loader import SpecLoadError
from .logs import setup_logging
from .redaction import Redactor
from .settings import ConfigError, Settings

log = logging.getLogger("clicksend_mcp")

# Flag -> settings field; the flag wins over the environment variable.
_FLAG_FIELDS = (
    "auth_token",
    "allowed_hosts",
    "allowed_origins",
    "retries",
    "backend",
    "transport",
    "host",
    "port",
    "timeout",
    "log_level",
    "log_format",
    "specs_dir",
    "toolsets",
    "tools",
    "exclude_tools",
    "read_only",
    "discovery",
    "max_recipients",
    "allowed_countries",
    "test_numbers_only",
    "confirm_sends",
    "max_result_bytes",
    "maton_connection_arg",
    "database_url",
    "max_spend_per_day",
    "max_spend_per_month",
    "max_messages_per_recipient",
    "quiet_hours",
    "ledger_pending_timeout",
    "public_url",
    "sandbox_responder",
    "sandbox_reply_delay",
)
_ENV_NAMES = {
    "backend": "CLICKSEND_BACKEND",
    "clicksend_username": "CLICKSEND_USERNAME",
    "clicksend_api_key": "CLICKSEND_API_KEY",
    "clicksend_base_url": "CLICKSEND_BASE_URL",
    "maton_api_key": "MATON_API_KEY",
    "maton_connection": "MATON_CONNECTION",
    "maton_base_url": "MATON_BASE_URL",
    "maton_ctrl_base_url": "MATON_CTRL_BASE_URL",
    "maton_connection_arg": "CLICKSEND_MATON_CONNECTION_ARG",
    "skillboss_api_key": "SKILLBOSS_API_KEY",
    "skillboss_base_url": "SKILLBOSS_BASE_URL",
    "timeout": "CLICKSEND_TIMEOUT",
    "retries": "CLICKSEND_RETRIES",
    "retry_max_wait": "CLICKSEND_RETRY_MAX_WAIT",
    "max_argument_bytes": "CLICKSEND_MAX_ARGUMENT_BYTES",
    "auth_token": "CLICKSEND_MCP_AUTH_TOKEN",
    "allowed_hosts": "CLICKSEND_MCP_ALLOWED_HOSTS",
    "allowed_origins": "CLICKSEND_MCP_ALLOWED_ORIGINS",
    "max_body_bytes": "CLICKSEND_MCP_MAX_BODY_BYTES",
    "shutdown_grace": "CLICKSEND_MCP_SHUTDOWN_GRACE",
    "transport": "CLICKSEND_MCP_TRANSPORT",
    "host": "CLICKSEND_MCP_HOST",
    "port": "CLICKSEND_MCP_PORT",
    "log_level": "CLICKSEND_MCP_LOG_LEVEL",
    "log_format": "CLICKSEND_MCP_LOG_FORMAT",
    "specs_dir": "CLICKSEND_SPECS_DIR",
    "toolsets": "CLICKSEND_TOOLSETS",
    "tools": "CLICKSEND_TOOLS",
    "exclude_tools": "CLICKSEND_EXCLUDE_TOOLS",
    "read_only": "CLICKSEND_READ_ONLY",
    "discovery": "CLICKSEND_DISCOVERY",
    "max_recipients": "CLICKSEND_MAX_RECIPIENTS",
    "allowed_countries": "CLICKSEND_ALLOWED_COUNTRIES",
    "test_numbers_only": "CLICKSEND_TEST_NUMBERS_ONLY",
    "confirm_sends": "CLICKSEND_CONFIRM_SENDS",
    "max_result_bytes": "CLICKSEND_MAX_RESULT_BYTES",
    "database_url": "CLICKSEND_MCP_DATABASE_URL",
    "ledger_key": "CLICKSEND_MCP_LEDGER_KEY",
    "ledger_pending_timeout": "CLICKSEND_MCP_LEDGER_PENDING_TIMEOUT",
    "max_spend_per_day": "CLICKSEND_MAX_SPEND_PER_DAY",
    "max_spend_per_month": "CLICKSEND_MAX_SPEND_PER_MONTH",
    "max_messages_per_recipient": "CLICKSEND_MAX_MESSAGES_PER_RECIPIENT",
    "quiet_hours": "CLICKSEND_QUIET_HOURS",
    "public_url": "CLICKSEND_MCP_PUBLIC_URL",
    "webhook_secret": "CLICKSEND_MCP_WEBHOOK_SECRET",
    "sandbox_responder": "CLICKSEND_MCP_SANDBOX_RESPONDER",
    "sandbox_reply_delay": "CLICKSEND_MCP_SANDBOX_REPLY_DELAY",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clicksend-mcp",
        description="An MCP server for the ClickSend REST API. With no command it serves MCP (stdio by default).",
    )
    parser.add_argument("--version", action="version", version=f"clicksend-mcp {__version__}")
    parser.add_argument(
        "--backend", choices=["direct", "maton", "skillboss", "sandbox"], help="where calls go [CLICKSEND_BACKEND]"
    )
    parser.add_argument(
        "--maton-connection-arg",
        action="store_true",
        default=None,
        help="maton backend: every tool takes an optional maton_connection (one account per call) "
        "[CLICKSEND_MATON_CONNECTION_ARG]",
    )
    parser.add_argument(
        "--transport", choices=["stdio", "sse", "http"], help="how MCP clients connect [CLICKSEND_MCP_TRANSPORT]"
    )
    parser.add_argument("--host", help="address to bind for sse/http (default 127.0.0.1) [CLICKSEND_MCP_HOST]")
    parser.add_argument("--port", type=int, help="port for sse/http (default 8000) [CLICKSEND_MCP_PORT]")
    parser.add_argument(
        "--auth-token",
        help="token HTTP clients must send as a Bearer (required off loopback) [CLICKSEND_MCP_AUTH_TOKEN]",
    )
    parser.add_argument(
        "--allowed-hosts", help="Host headers to accept, e.g. mcp.example.com:* [CLICKSEND_MCP_ALLOWED_HOSTS]"
    )
    parser.add_argument("--allowed-origins", help="Origin headers to accept [CLICKSEND_MCP_ALLOWED_ORIGINS]")
    parser.add_argument(
        "--retries", type=int, help="retries of reads and idempotent writes (default 2) [CLICKSEND_RETRIES]"
    )
    parser.add_argument("--timeout", type=float, help="seconds to wait for ClickSend (default 30) [CLICKSEND_TIMEOUT]")
    parser.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="stderr log level [CLICKSEND_MCP_LOG_LEVEL]"
    )
    parser.add_argument(
        "--log-format", choices=["text", "json"], help="stderr log lines as text or JSON [CLICKSEND_MCP_LOG_FORMAT]"
    )
    parser.add_argument("--specs-dir", help="serve the tool specs from this folder [CLICKSEND_SPECS_DIR]")
    pick = parser.add_argument_group("what the agent sees")
    pick.add_argument(
        "--toolsets",
        help="comma-separated toolsets, 'all', or 'default' (account,sms,contacts,ledger) [CLICKSEND_TOOLSETS]",
    )
    pick.add_argument("--tools", help="comma-separated tool names to add (alone: only these) [CLICKSEND_TOOLS]")
    pick.add_argument("--exclude-tools", help="comma-separated tool names to hide [CLICKSEND_EXCLUDE_TOOLS]")
    pick.add_argument(
        "--read-only", action="store_true", default=None, help="only tools that change nothing [CLICKSEND_READ_ONLY]"
    )
    pick.add_argument(
        "--discovery",
        action="store_true",
        default=None,
        help="list four tools (search, describe, call, call read-only) instead of every tool [CLICKSEND_DISCOVERY]",
    )
    guard = parser.add_argument_group("guardrails on sends")
    guard.add_argument(
        "--max-recipients", type=int, help="most recipients one call may reach (default 100) [CLICKSEND_MAX_RECIPIENTS]"
    )
    guard.add_argument(
        "--allowed-countries", help="only send to these ISO countries, e.g. AU,US [CLICKSEND_ALLOWED_COUNTRIES]"
    )
    guard.add_argument(
        "--test-numbers-only",
        action="store_true",
        default=None,
        help="refuse any recipient that is not a ClickSend test number [CLICKSEND_TEST_NUMBERS_ONLY]",
    )
    guard.add_argument(
        "--confirm-sends",
        action="store_true",
        default=None,
        help="ask the person (MCP elicitation) before every send [CLICKSEND_CONFIRM_SENDS]",
    )
    guard.add_argument(
        "--max-result-bytes",
        type=int,
        help="cut larger results, saying so (default 200000) [CLICKSEND_MAX_RESULT_BYTES]",
    )
    limits = parser.add_argument_group("the send ledger, budgets and limits")
    limits.add_argument(
        "--database-url",
        help="where the ledger lives: sqlite:///path, postgresql://..., or off "
        "(default: SQLite in $XDG_STATE_HOME/clicksend-mcp) [CLICKSEND_MCP_DATABASE_URL]",
    )
    limits.add_argument(
        "--max-spend-per-day", help="refuse sends beyond this spend per UTC day [CLICKSEND_MAX_SPEND_PER_DAY]"
    )
    limits.add_argument(
        "--max-spend-per-month", help="refuse sends beyond this spend per UTC month [CLICKSEND_MAX_SPEND_PER_MONTH]"
    )
    limits.add_argument(
        "--max-messages-per-recipient",
        help="e.g. 3/day, 10/week: messages one recipient may get [CLICKSEND_MAX_MESSAGES_PER_RECIPIENT]",
    )
    limits.add_argument(
        "--quiet-hours", help="e.g. 21:00-08:00 in each recipient's own time zone [CLICKSEND_QUIET_HOURS]"
    )
    limits.add_argument(
        "--ledger-pending-timeout",
        type=float,
        help="seconds after which a send left pending by a dead process becomes unknown (default 300) "
        "[CLICKSEND_MCP_LEDGER_PENDING_TIMEOUT]",
    )
    replies = parser.add_argument_group("replies and delivery receipts")
    replies.add_argument(
        "--public-url",
        help="the URL ClickSend reaches this server at, for its webhooks (CLICKSEND_MCP_WEBHOOK_SECRET turns them on) "
        "[CLICKSEND_MCP_PUBLIC_URL]",
    )
    replies.add_argument(
        "--sandbox-responder",
        help="sandbox: how test numbers answer: fixed:<text>, echo, script:<a>|<b>|..., or off "
        "[CLICKSEND_MCP_SANDBOX_RESPONDER]",
    )
    replies.add_argument(
        "--sandbox-reply-delay",
        type=int,
        help="sandbox: seconds before a test number answers (default 0) [CLICKSEND_MCP_SANDBOX_REPLY_DELAY]",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve MCP (the default)")
    tools = sub.add_parser("tools", help="list the tools: name, toolset, read-only or not")
    shape = tools.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the MCP tool definitions as JSON")
    shape.add_argument("--markdown", action="store_true", help="print the tool reference (docs/tools.md)")
    shape.add_argument("--size", action="store_true", help="bytes (and ~tokens) of tools/list for this selection")
    call = sub.add_parser("call", help="run one tool and print its normalized result")
    call.add_argument("name", help="the tool name, e.g. CLICKSEND_GET_ACCOUNT")
    call.add_argument("--args", default="{}", help="the arguments as a JSON object (default {})")
    ledger = sub.add_parser("ledger", help="the send ledger of the configured account: spend, recent sends, limits")
    ledger.add_argument("--days", type=int, default=7, help="days of spend by day to show (default 7)")
    ledger.add_argument("--limit", type=int, default=20, help="recent sends to list (default 20)")
    ledger.add_argument("--json", action="store_true", help="print it as JSON")
    return parser


def _settings(ns: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {f: getattr(ns, f) for f in _FLAG_FIELDS if getattr(ns, f, None) is not None}
    return Settings(**overrides)


def _config_problem(exc: ValidationError) -> str:
    # Only field names and messages: pydantic's own text quotes the input, which can hold secrets.
    lines = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        name = _ENV_NAMES.get(field, field) or "configuration"
        lines.append(f"  {name}: {err['msg'].removeprefix('Value error, ')}")
    return "Invalid configuration:\n" + "\n".join(lines)


def _fail(message: str, code: int = 2) -> int:
    print(f"clicksend-mcp: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    ns = _parser().parse_args(argv)
    try:
        settings = _settings(ns)
    except ValidationError as exc:
        return _fail(_config_problem(exc))
    command = ns.command or "serve"
    setup_logging(settings.log_level, Redactor(()), settings.log_format)
    try:
        from .assembly import build_dispatcher, load_tools, selection_of, served_tools

        if command == "serve":
            settings.check_http_exposure()
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
    except (SpecLoadError, CompileError) as exc:
        return _fail(f"refusing to start: {exc}")
    except ConfigError as exc:
        return _fail(str(exc))
    setup_logging(settings.log_level, dispatcher.redactor, settings.log_format)
    if command == "call":
        return anyio.run(_call, dispatcher, ns.name, ns.args)
    if command == "ledger":
        from .ledger_report import print_ledger

        return anyio.run(print_ledger, dispatcher, ns.days, ns.limit, ns.json)
    return anyio.run(_serve, dispatcher, settings)


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


async def _call(dispatcher: Any, name: str, raw_args: str) -> int:
    from .dispatcher import UnknownToolError

    try:
        arguments = json.loads(raw_args)
    except json.JSONDecodeError as exc:
        return _fail(f"--args is not valid JSON ({exc.msg} at position {exc.pos})")
    if not isinstance(arguments, dict):
        return _fail("--args must be a JSON object")
    try:
        if not await start(dispatcher):
            return 2
        result = await dispatcher.call(name, arguments)
    except UnknownToolError:
        return _fail(f"unknown tool {name!r}; list them with: clicksend-mcp tools")
    finally:
        await dispatcher.aclose()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result.get("successful") else 1


async def start(dispatcher: Any) -> bool:
    """Open the send ledger before the first call (migrations, stale pending sends); say why not, without secrets."""
    try:
        await dispatcher.start()
    except Exception as exc:
        label = dispatcher.ledger.store.label if dispatcher.ledger else "?"
        detail = dispatcher.redactor.text(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        _fail(f"cannot open the send ledger ({label}): {type(exc).__name__}{': ' + detail if detail else ''}")
        return False
    return True


async def _serve(dispatcher: Any, settings: Settings) -> int:
    from .app import build_server
    from .selection import split_names
    from .transports.asgi import HttpOptions, http_app, sse_app
    from .transports.serving import ServeOptions, closing, serve_http
    from .transports.stdio import run_stdio

    if not await start(dispatcher):
        await dispatcher.aclose()
        return 2
    server = build_server(dispatcher, discovery=settings.discovery)
    log.info(
        "clicksend-mcp %s: %d tools%s, backend=%s, transport=%s",
        __version__,
        len(dispatcher.tools),
        " behind discovery" if settings.discovery else "",
        dispatcher.backend.name,
        settings.transport,
    )
    async with closing(dispatcher):
        if settings.transport == "stdio":
            await run_stdio(server)
            return 0
        options = HttpOptions(
            host=settings.host,
            auth_token=settings.auth_token.get_secret_value() if settings.auth_token else None,
            allowed_hosts=split_names(settings.allowed_hosts),
            allowed_origins=split_names(settings.allowed_origins),
            max_body_bytes=settings.max_body_bytes,
            conversations=dispatcher.conversations if settings.receives_webhooks else None,
            webhook_secret=settings.webhook_secret.get_secret_value() if settings.webhook_secret else None,
        )
        app = sse_app(server, options) if settings.transport == "sse" else http_app(server, options)
        endpoint = "/sse" if settings.transport == "sse" else "/mcp"
        log.info("listening on http://%s:%d%s", settings.host, settings.port, endpoint)
        serve = ServeOptions(
            host=settings.host, port=settings.port, log_level=settings.log_level, shutdown_grace=settings.shutdown_grace
        )
        async with anyio.create_task_group() as tasks:
            if options.conversations is not None and options.webhook_secret and dispatcher.backend.is_sandbox:
                from .transports.webhooks import push_sandbox_events

                # The sandbox's test numbers answer through this server's own webhook endpoints.
                state = dispatcher.backend.http.asgi_app.state.sandbox
                tasks.start_soon(push_sandbox_events, state, app, options.webhook_secret)
            if dispatcher.conversations is not None:
                how = "webhooks at /webhooks/clicksend/<secret>/" if options.conversations else "polled from ClickSend"
                log.info("replies and receipts: %s", how)
            await serve_http(app, dispatcher, serve)
            tasks.cancel_scope.cancel()
    return 0
