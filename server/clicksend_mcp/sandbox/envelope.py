"""ClickSend's response envelope: the `Reply` a handler returns, the `SandboxError` it raises, and their JSON form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse

# The HTTP-level response_code ClickSend pairs with each status (405 answers NOT_FOUND, as ClickSend does).
HTTP_CODES: dict[int, str] = {
    200: "SUCCESS",
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "NOT_FOUND",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
}


@dataclass(frozen=True)
class Reply:
    """A successful (or application-level) answer: becomes `{http_code, response_code, response_msg, data}`."""

    data: Any
    msg: str
    code: str = "SUCCESS"
    http: int = 200
    bare: bool = False  # ClickSend's newer endpoints (alpha tags, own numbers) answer with `data` alone


class SandboxError(Exception):
    """An error answer. Raise it anywhere below a handler; the app turns it into the envelope."""

    def __init__(self, http: int, msg: str, code: str | None = None, data: Any = None) -> None:
        super().__init__(msg)
        self.http = http
        self.code = code or HTTP_CODES.get(http, "SOMETHING_IS_WRONG")
        self.msg = msg
        self.data = data

    def reply(self) -> Reply:
        return Reply(data=self.data, msg=self.msg, code=self.code, http=self.http)


def to_response(reply: Reply, headers: dict[str, str] | None = None) -> JSONResponse:
    """The HTTP response for a reply; the status always equals `http_code` (a bare reply is `data` alone)."""
    if reply.bare:
        return JSONResponse(reply.data, status_code=reply.http, headers=headers)
    body = {"http_code": reply.http, "response_code": reply.code, "response_msg": reply.msg, "data": reply.data}
    return JSONResponse(body, status_code=reply.http, headers=headers)


def not_found(msg: str = "Resource not found.") -> SandboxError:
    return SandboxError(404, msg)


def bad_request(msg: str, code: str = "BAD_REQUEST", data: Any = None) -> SandboxError:
    return SandboxError(400, msg, code, data)


def missing_fields(*names: str) -> SandboxError:
    """400 MISSING_REQUIRED_FIELDS naming every missing field."""
    listed = ", ".join(names)
    return SandboxError(400, f"Missing required fields: {listed}.", "MISSING_REQUIRED_FIELDS", {"missing": list(names)})
