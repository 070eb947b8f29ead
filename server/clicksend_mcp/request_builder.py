"""Checked arguments -> the HTTP request ClickSend should receive. Pure: no I/O, no clients, no secrets."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from .compiler import CompiledTool


@dataclass(frozen=True)
class HttpRequest:
    """A request relative to the backend's base URL: `path` is already percent-encoded."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    json_body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()  # per-call headers from header inputs (never credentials)

    def describe(self) -> dict[str, Any]:
        """What would be sent, for people and dry runs: no host, no credentials (only the per-call headers)."""
        out: dict[str, Any] = {"method": self.method, "path": self.path}
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.query:
            out["query"] = dict(self.query)
        if self.json_body is not None:
            out["json"] = self.json_body
        return out


MAX_VALUE_CHARS = 2_048
"""Longest path segment, query or header value, in characters: ClickSend's ids, names and filters are far shorter."""
MAX_URL_BYTES = 8_192
"""Longest encoded path and query together: web servers and gateways commonly refuse longer request lines."""


class RequestValueError(ValueError):
    """An argument that cannot go into the request as given (refused as INVALID_ARGUMENTS, nothing is sent)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


class PathValueError(RequestValueError):
    """A path argument that cannot be sent as one path segment."""


def encode_segment(name: str, value: Any) -> str:
    """One value as exactly one path segment: '/', '?', '#', '%' and dot-segments can never change the endpoint."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise PathValueError(name, "expected a string or a number")
    text = str(value)
    if text == "":
        raise PathValueError(name, "must not be empty")
    if len(text) > MAX_VALUE_CHARS:
        raise PathValueError(name, f"expected at most {MAX_VALUE_CHARS} characters, got {len(text)}")
    encoded = quote(text, safe="")
    # '.' and '..' are dot-segments: HTTP stacks collapse them, so a lone dot run must be escaped.
    if set(encoded) == {"."}:
        encoded = encoded.replace(".", "%2E")
    return encoded


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def build_request(tool: CompiledTool, arguments: Mapping[str, Any]) -> HttpRequest:
    """Build the request for arguments that already passed the tool's validator. Omitted optionals are not sent."""
    http = tool.spec.http
    if http is None:
        raise RequestValueError(tool.name, "is answered by the server, not sent to ClickSend")
    path = http.path
    for param in tool.path_params:
        path = path.replace("{" + param.wire + "}", encode_segment(param.name, arguments[param.name]))
    query: list[tuple[str, str]] = list(http.fixed_query.items())
    for param in tool.query_params:
        if param.name not in arguments or arguments[param.name] is None:
            continue
        value = arguments[param.name]
        for item in value if isinstance(value, list) else [value]:
            text = _query_value(item)
            if len(text) > MAX_VALUE_CHARS:
                raise RequestValueError(param.name, f"expected at most {MAX_VALUE_CHARS} characters, got {len(text)}")
            query.append((param.wire, text))
    size = len(path) + len(urlencode(query))
    if size > MAX_URL_BYTES:
        raise RequestValueError(
            "arguments", f"the path and query would be {size} bytes encoded, more than the {MAX_URL_BYTES} allowed"
        )
    body: dict[str, Any] | None = None
    if tool.body_params or http.fixed_body:
        given = {p.wire: arguments[p.name] for p in tool.body_params if p.name in arguments}
        body = copy.deepcopy(http.fixed_body) if http.fixed_body else {}
        if http.body_key is not None:
            body[http.body_key] = given
        else:
            body.update(given)
    headers: list[tuple[str, str]] = []
    for param in tool.header_params:
        if arguments.get(param.name) is None:
            continue
        value = str(arguments[param.name])
        # CR/LF would forge other headers, and the HTTP library refuses other control characters and non-ASCII:
        # the schemas' patterns refuse them already, this holds without them too.
        if not all(" " <= ch <= "~" for ch in value):
            raise RequestValueError(param.name, "expected printable ASCII (no control characters or non-ASCII)")
        if len(value) > MAX_VALUE_CHARS:
            raise RequestValueError(param.name, f"expected at most {MAX_VALUE_CHARS} characters, got {len(value)}")
        headers.append((param.wire, value))
    return HttpRequest(method=http.method, path=path, query=tuple(query), json_body=body, headers=tuple(headers))
