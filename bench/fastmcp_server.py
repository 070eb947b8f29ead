"""The generic alternative: FastMCP's OpenAPI-to-MCP generator over ClickSend's official spec, over stdio or HTTP.

    python bench/fastmcp_server.py SPEC.yaml BASE_URL [--http PORT]
Calls go to BASE_URL (the fake ClickSend), with the same Basic credentials the benchmark gives our server.

FastMCP's parser refuses the official spec as published (no info.version; three operations with an empty
requestBody), so `repair` makes exactly those fixes, as anyone using the generator on this spec would have to.
"""

from __future__ import annotations

import base64
import os
import sys

import httpx2
import yaml
from fastmcp import FastMCP


def repair(spec: dict) -> dict:
    spec.setdefault("info", {}).setdefault("version", "0")
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and operation.get("requestBody") == {}:
                del operation["requestBody"]
    return spec


def build(spec_path: str, base_url: str) -> FastMCP:
    with open(spec_path, encoding="utf-8") as f:
        spec = repair(yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    user, key = os.environ.get("CLICKSEND_USERNAME", "u"), os.environ.get("CLICKSEND_API_KEY", "k")
    token = base64.b64encode(f"{user}:{key}".encode()).decode()
    client = httpx2.AsyncClient(base_url=base_url, headers={"Authorization": f"Basic {token}"}, timeout=30)
    return FastMCP.from_openapi(openapi_spec=spec, client=client, name="clicksend-openapi")


if __name__ == "__main__":
    server = build(sys.argv[1], sys.argv[2])
    if len(sys.argv) > 4 and sys.argv[3] == "--http":
        server.run(transport="http", host="127.0.0.1", port=int(sys.argv[4]), show_banner=False)
    else:
        server.run(show_banner=False)
