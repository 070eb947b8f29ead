"""A loopback fake of Maton's control API (https://ctrl.maton.ai): GET /connections filtered by app and status.

Answers the way Maton documents it: Bearer key required, `{"connections": [...]}` with connection_id, status and app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fake_clicksend import MATON_CONNECTION, MATON_KEY


def connection(connection_id: str = MATON_CONNECTION, status: str = "ACTIVE", app: str = "clicksend") -> dict[str, Any]:
    return {
        "connection_id": connection_id,
        "status": status,
        "creation_time": "2026-02-10T10:04:12.418030Z",
        "last_updated_time": "2026-02-10T10:06:17.059090Z",
        "url": "https://connect.maton.ai/?session_token=...",
        "app": app,
        "metadata": {},
    }


@dataclass
class FakeMatonControl:
    key: str = MATON_KEY
    connections: list[dict[str, Any]] = field(default_factory=lambda: [connection()])
    seen: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def list_connections(request: Request) -> JSONResponse:
            self.seen.append(dict(request.query_params))
            if request.headers.get("authorization") != f"Bearer {self.key}":
                return JSONResponse({"error": "Invalid API key"}, status_code=401)
            app, status = request.query_params.get("app"), request.query_params.get("status")
            found = [
                c
                for c in self.connections
                if (app is None or c["app"] == app) and (status is None or c["status"] == status)
            ]
            return JSONResponse({"connections": found})

        return Starlette(routes=[Route("/connections", list_connections, methods=["GET"])])
