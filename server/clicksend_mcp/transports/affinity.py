"""Session affinity for handshake-era streamable HTTP behind a proxy: this replica's id on the sessions it mints.

A handshake-era session lives in the memory of the replica that answered `initialize`. The id that replica hands
out becomes `<replica>_<session>`, so a proxy can send every later request of the session back to it by reading
the prefix (deploy/nginx maps it to the replica's address). A request naming another replica's session is
answered exactly as an unknown session (404), which tells the client to start a new one."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_HEADER = b"mcp-session-id"
SEPARATOR = "_"
REPLICA_ID = re.compile(r"^[A-Za-z0-9.:-]{1,64}$")


class SessionAffinity:
    def __init__(self, app: ASGIApp, replica: str) -> None:
        if not REPLICA_ID.match(replica):
            raise ValueError("the replica id must be 1-64 letters, digits, '.', ':' or '-'")
        self.app = app
        self.prefix = (replica + SEPARATOR).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = list(scope["headers"])
        for index, (name, value) in enumerate(headers):
            if name.lower() == SESSION_HEADER:
                if not value.startswith(self.prefix):
                    await _unknown_session(send)
                    return
                headers[index] = (name, value[len(self.prefix) :])
        scope = {**scope, "headers": headers}

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [
                        (k, self.prefix + v if k.lower() == SESSION_HEADER else v) for k, v in message["headers"]
                    ],
                }
            await send(message)

        await self.app(scope, receive, send_marked)


async def _unknown_session(send: Send) -> None:
    # The SDK's own answer to a session it does not hold: the client then starts a new session.
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Session not found"}})
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body.encode()})
