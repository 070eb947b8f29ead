"""The MCP server: tools/list and tools/call handlers over the dispatcher, and the three transports.

The only module that imports `mcp`.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.server.sse import SseServerTransport
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import INVALID_PARAMS
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from . import __version__
from .compiler import RESULT_SCHEMA, CompiledTool
from .dispatcher import Dispatcher, UnknownToolError

log = logging.getLogger("clicksend_mcp")

SERVER_NAME = "clicksend-mcp"
INSTRUCTIONS = (
    "Tools for the ClickSend REST API v3: SMS, MMS, voice, email, fax, post, contacts and account. "
    "Every tool returns {successful, data, error, error_code, ...}. Sends cost money and reach real people: "
    "quote with the price tools first, and use ClickSend's test numbers (e.g. +61411111111) to try things. "
    "All timestamps are Unix seconds (UTC)."
)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def mcp_tool(tool: CompiledTool) -> types.Tool:
    return types.Tool(
        name=tool.name,
        title=tool.spec.title,
        description=" ".join(tool.spec.description.split()),
        input_schema=tool.input_schema,
        output_schema=RESULT_SCHEMA,
        annotations=types.ToolAnnotations.model_validate(tool.annotations),
    )


def call_result(result: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(result, ensure_ascii=False, separators=(",", ":")))],
        structured_content=result,
        is_error=not result.get("successful", False),
    )


def build_server(dispatcher: Dispatcher, tools: Sequence[CompiledTool] | None = None) -> Server[Any]:
    """The low-level MCP server for the given tools (default: every tool the dispatcher has)."""
    served = list(tools) if tools is not None else list(dispatcher.tools.values())
    listing = types.ListToolsResult(tools=[mcp_tool(t) for t in served])
    schemas = {t.name: t.input_schema for t in served}

    async def on_list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return listing

    async def on_call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name not in schemas:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {params.name}")
        try:
            result = await dispatcher.call(params.name, params.arguments)
        except UnknownToolError:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {params.name}") from None
        return call_result(result)

    return Server(
        SERVER_NAME,
        version=__version__,
        title="ClickSend",
        instructions=INSTRUCTIONS,
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
        get_tool_input_schema=schemas.get,
    )


async def run_stdio(server: Server[Any]) -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def transport_security(host: str, allowed_hosts: Sequence[str] = (), allowed_origins: Sequence[str] = ()) -> (
    TransportSecuritySettings | None
):
    """DNS-rebinding protection: on for loopback binds, and wherever hosts or origins are configured."""
    hosts = list(allowed_hosts)
    origins = list(allowed_origins)
    if host in LOCAL_HOSTS:
        hosts += ["127.0.0.1:*", "localhost:*", "[::1]:*"]
        origins += ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if not hosts and not origins:
        return None
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "server": SERVER_NAME, "version": __version__})


def sse_app(server: Server[Any], *, host: str = "127.0.0.1", security: TransportSecuritySettings | None = None) -> Starlette:
    """Legacy HTTP+SSE transport: GET /sse opens the stream, POST /messages/?session_id=... carries requests."""
    sse = SseServerTransport("/messages/", security_settings=security or transport_security(host))

    async def handle_sse(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with sse.connect_sse(scope, receive, send) as (read_stream, write_stream):
                await server.run(read_stream, write_stream, server.create_initialization_options())
        except ValueError:
            # connect_sse has already answered a request that failed host/origin validation.
            return

    class _SseEndpoint:
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await handle_sse(scope, receive, send)

    return Starlette(
        routes=[
            Route("/healthz", _healthz, methods=["GET"]),
            Route("/sse", _SseEndpoint(), methods=["GET"]),
            Mount("/messages/", app=sse.handle_post_message),
        ]
    )


def http_app(server: Server[Any], *, host: str = "127.0.0.1", security: TransportSecuritySettings | None = None) -> Starlette:
    """Streamable HTTP at /mcp, serving both protocol eras the SDK speaks."""
    return server.streamable_http_app(
        streamable_http_path="/mcp",
        host=host,
        transport_security=security or transport_security(host),
        custom_starlette_routes=[Route("/healthz", _healthz, methods=["GET"])],
    )


@contextlib.asynccontextmanager
async def closing(dispatcher: Dispatcher) -> AsyncIterator[Dispatcher]:
    try:
        yield dispatcher
    finally:
        await dispatcher.aclose()
