"""Running one call: tool name -> validate -> build request -> send -> normalize -> redact. Knows nothing of MCP."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from . import results
from .backends import BackendConfig
from .compiler import CompiledTool
from .http import TransportFailure
from .request_builder import PathValueError, build_request

log = logging.getLogger("clicksend_mcp.calls")


class UnknownToolError(LookupError):
    """No tool of that name is served (a protocol error, not a call result)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"Unknown tool: {name}")


class Dispatcher:
    def __init__(self, tools: Mapping[str, CompiledTool], backend: BackendConfig) -> None:
        self.tools = dict(tools)
        self.backend = backend
        self.redactor = results.Redactor(backend.secrets)

    def get(self, name: str) -> CompiledTool:
        tool = self.tools.get(name)
        if tool is None:
            raise UnknownToolError(name)
        return tool

    async def call(self, name: str, arguments: Mapping[str, Any] | None) -> dict[str, Any]:
        """The normalized result of one call. Raises only UnknownToolError."""
        tool = self.get(name)
        started = time.perf_counter()
        result = await self._run(tool, arguments or {})
        if self.backend.is_sandbox:
            result["sandbox"] = True
        result = self.redactor.value(result)
        log.info(
            "call tool=%s backend=%s http=%s error_code=%s duration_ms=%.1f",
            name,
            self.backend.name,
            result.get("http_code"),
            result.get("error_code") or "-",
            (time.perf_counter() - started) * 1000,
        )
        return result

    async def _run(self, tool: CompiledTool, arguments: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(arguments, Mapping):
            return results.invalid_arguments(["arguments: expected an object"])
        problems = tool.check_arguments(arguments)
        if problems:
            return results.invalid_arguments(str(p) for p in problems)
        try:
            request = build_request(tool, arguments)
        except PathValueError as exc:
            return results.invalid_arguments([str(exc)])
        try:
            response = await self.backend.http.send(request)
        except TransportFailure as failure:
            return results.from_transport_failure(failure)
        except Exception:  # the boundary: no exception text may reach a client
            log.exception("call tool=%s failed inside the server", tool.name)
            return results.internal_error()
        return results.from_response(response, unwrap=tool.spec.response.unwrap == "data")

    async def aclose(self) -> None:
        await self.backend.http.aclose()
