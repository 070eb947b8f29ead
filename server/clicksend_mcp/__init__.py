"""clicksend-mcp: the ClickSend REST API as safe, well-described MCP tools."""

from __future__ import annotations

__version__ = "0.1.0"
SERVER_NAME = "clicksend-mcp"  # the MCP serverInfo name and /healthz's "server"
