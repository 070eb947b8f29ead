"""The sandbox ClickSend served on 127.0.0.1 in its own process, for the benchmark: `python bench/fake_server.py PORT`.

Both servers compared reach it at /v3/...: ours through its base URL, FastMCP's generator through the official spec's
paths, which carry the /v3 prefix.
"""

from __future__ import annotations

import sys

import uvicorn

from clicksend_mcp.sandbox import create_sandbox_app

if __name__ == "__main__":
    uvicorn.run(create_sandbox_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
