"""The SDK's floor for one call: a bare `mcp` low-level server over stdio with one tool that makes the same HTTP
request the raw client makes (GET /v3/account with httpx2, one pooled connection) and returns the answer as
structured content and JSON text, with an outputSchema as every clicksend-mcp tool has. Nothing else: no
validation, no redaction, no normalization. What a stdio call costs beyond the raw request here is the SDK's own
share on both sides of the pipe, which no server built on it can go below.

    python bench/floor_server.py BASE_URL USERNAME API_KEY
"""

from __future__ import annotations

import json
import sys
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.server.stdio import stdio_server

OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {"successful": {"type": "boolean"}, "data": {}, "error": {"type": ["string", "null"]}},
    "required": ["successful", "data", "error"],
}
TOOL = types.Tool(
    name="CLICKSEND_GET_ACCOUNT",
    description="The account.",
    input_schema={"type": "object", "properties": {}},
    output_schema=OUTPUT_SCHEMA,
)


async def main(base_url: str, username: str, api_key: str) -> None:
    async with httpx2.AsyncClient(base_url=base_url, auth=(username, api_key)) as http:

        async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
            return types.ListToolsResult(tools=[TOOL])

        async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
            response = await http.get("/v3/account")
            body = response.json()
            result = {"successful": response.status_code == 200, "data": body.get("data"), "error": None}
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=json.dumps(result))], structured_content=result
            )

        server: Server[object] = Server("floor", on_list_tools=list_tools, on_call_tool=call_tool)
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main, *sys.argv[1:4])
