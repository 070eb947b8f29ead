"""How the MCP server is reached: stdio, SSE and streamable HTTP, the access checks in front of them, and shutdown."""
