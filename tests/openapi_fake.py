"""A ClickSend built from ClickSend's official OpenAPI files alone, independent of the product's sandbox.

It knows only what `reference/` says: each operation's method and path, and the example response documented for
it. The newest OpenAPI 3 file comes first; endpoints it lacks come from the older Swagger 2 file, then from the
Apiary conversion. Every request is recorded with the operation it matched (or none), so a test can check that a
tool reaches an endpoint ClickSend documents, whatever the sandbox believes.

Served on 127.0.0.1 (an OS-chosen port) by uvicorn from a background thread.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
import yaml

from reference_data import REFERENCE

# Newest first: the first file that documents a (method, path) answers for it.
SOURCES = (
    "clicksend-openapi.yaml",
    "clicksend-openapi-legacy-swagger2.yaml",
    "clicksend-openapi-apiary-apisguru.yaml",
)
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # "/v3/sms/{message_id}/cancel"
    source: str  # which file documents it
    status: int
    example: Any  # the documented response body, or None when the file gives no example

    @property
    def literal_segments(self) -> int:
        return sum(1 for s in self.template.split("/") if s and not s.startswith("{"))

    def matches(self, raw_path: str) -> bool:
        want, got = self.template.split("/"), raw_path.split("/")
        if len(want) != len(got):
            return False
        return all(w == g if not w.startswith("{") else g != "" for w, g in zip(want, got, strict=True))


@dataclass(frozen=True)
class Received:
    method: str
    raw_path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    operation: Operation | None

    @property
    def path(self) -> str:
        return self.raw_path

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _resolve(document: dict[str, Any], node: Any, depth: int = 0) -> Any:
    if isinstance(node, dict) and "$ref" in node and depth < 20:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return _resolve(document, target, depth + 1)
    return node


def _example(document: dict[str, Any], response: dict[str, Any]) -> Any:
    """The documented example body of one response, in OpenAPI 3 or Swagger 2 form; None when there is none."""
    response = _resolve(document, response)
    content = response.get("content", {}).get("application/json")
    if content is not None:  # OpenAPI 3
        if "example" in content:
            return content["example"]
        for example in (content.get("examples") or {}).values():
            example = _resolve(document, example)
            if isinstance(example, dict) and "value" in example:
                return example["value"]
        schema = _resolve(document, content.get("schema", {}))
        return schema.get("example") if isinstance(schema, dict) else None
    examples = response.get("examples", {})  # Swagger 2
    if "application/json" in examples:
        return examples["application/json"]
    schema = _resolve(document, response.get("schema", {}))
    return schema.get("example") if isinstance(schema, dict) else None


def _base(document: dict[str, Any]) -> str:
    """The path prefix the file's paths sit under, so every template reads /v3/..."""
    if "basePath" in document:
        return str(document["basePath"]).rstrip("/")
    servers = document.get("servers") or [{}]
    url = str(servers[0].get("url", ""))
    return re.sub(r"^https?://[^/]+", "", url).rstrip("/")


@cache
def operations() -> tuple[Operation, ...]:
    """Every documented (method, path) once, from the newest file that has it."""
    found: dict[tuple[str, str], Operation] = {}
    for name in SOURCES:
        document = yaml.load((REFERENCE / name).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        base = _base(document)
        for path, item in document["paths"].items():
            for method in METHODS:
                operation = item.get(method) if isinstance(item, dict) else None
                if not isinstance(operation, dict):
                    continue
                # The Apiary conversion writes query strings and trailing slashes into its path keys.
                template = base + (path.split("?")[0].rstrip("/") or "/")
                shape = (method.upper(), re.sub(r"\{[^}]+\}", "{}", template))
                if shape in found:
                    continue
                responses = operation.get("responses", {})
                codes = sorted(c for c in map(str, responses) if c.startswith("2")) or ["200"]
                response = responses.get(codes[0]) or responses.get(int(codes[0])) or {}
                found[shape] = Operation(method.upper(), template, name, int(codes[0]), _example(document, response))
    return tuple(found.values())


def find_operation(method: str, raw_path: str) -> Operation | None:
    """The documented operation a request reaches; literal segments win over placeholders (/sms/history/export
    is not /sms/{message_id}/...)."""
    candidates = [op for op in operations() if op.method == method and op.matches(raw_path)]
    return max(candidates, key=lambda op: op.literal_segments) if candidates else None


def _envelope(status: int, code: str, message: str, data: Any = None) -> bytes:
    return json.dumps({"http_code": status, "response_code": code, "response_msg": message, "data": data}).encode()


@dataclass
class OpenApiFake:
    """An ASGI app answering every documented operation with its documented example, recording each request."""

    requests: list[Received] = field(default_factory=list)

    def sent(self, method: str | None = None, path: str | None = None) -> list[Received]:
        return [r for r in self.requests if (method is None or r.method == method) and (path is None or r.path == path)]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        operation = find_operation(scope["method"], raw_path)
        self.requests.append(
            Received(
                method=scope["method"],
                raw_path=raw_path,
                query=parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True),
                headers=headers,
                body=b"".join(chunks),
                operation=operation,
            )
        )
        status, body = self._answer(scope["method"], raw_path, headers, operation)
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _answer(method: str, raw_path: str, headers: dict[str, str], operation: Operation | None) -> tuple[int, bytes]:
        # ClickSend refuses a request without credentials before routing it (HTTP Basic, or Bearer at a gateway).
        if not headers.get("authorization", "").startswith(("Basic ", "Bearer ")):
            return 401, _envelope(401, "INVALID_CREDENTIALS", "Missing credentials.")
        if operation is None:
            known = any(op.matches(raw_path) for op in operations())
            if known:
                return 405, _envelope(405, "METHOD_NOT_ALLOWED", f"{method} is not documented for this path.")
            return 404, _envelope(404, "NOT_FOUND", "No documented endpoint has this path.")
        if operation.status == 204:
            return 204, b""  # No Content: the files document no body, and HTTP allows none
        if operation.example is None:
            # The files document this operation but give no example: answer ClickSend's success envelope, empty.
            return operation.status, _envelope(operation.status, "SUCCESS", "No example is documented.", {})
        return operation.status, json.dumps(operation.example, default=str).encode()  # YAML dates become text


class OpenApiServer:
    """The fake on 127.0.0.1 at a port the OS chooses, from a background thread."""

    def __init__(self, app: OpenApiFake) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="openapi-clicksend", daemon=True)
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3"

    def __enter__(self) -> OpenApiServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the OpenAPI fake did not start on loopback")
            time.sleep(0.01)
        self.port = int(self._server.servers[0].sockets[0].getsockname()[1])
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
