"""The SkillBoss backend: SkillBoss API Hub's POST /run (Bearer key) with Prelude models for templated SMS and
passcode verification; its {"status", "result"} envelope, normalized into the common result shape."""

from __future__ import annotations

from typing import Any

from .. import results
from ..http import ClickSendHttp, HttpResponse
from ..settings import Settings
from .base import BackendConfig, message_of, timeouts_of

APIS = frozenset({"skillboss"})
TOOLSETS = ("skillboss",)

_HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 429: "RATE_LIMITED"}
# The response codes SkillBoss's ClickSend guide lists, as our stable codes.
_APP_CODES = {"FORBIDDEN": "FORBIDDEN", "BAD_REQUEST": "BAD_REQUEST", "INVALID_RECIPIENT": "BAD_REQUEST"}
_HINTS = {
    "UNAUTHORIZED": "Check SKILLBOSS_API_KEY (copy it again from your SkillBoss account settings).",
    "FORBIDDEN": "The SkillBoss key may not be allowed to run this model.",
    "NOT_FOUND": "Check the template or verification ids (templates live in the Prelude dashboard).",
    "RATE_LIMITED": "Wait before calling again.",
    "UPSTREAM_ERROR": "SkillBoss failed on its side; try again later.",
}


def build(settings: Settings, *, asgi_app: Any = None) -> BackendConfig:
    assert settings.skillboss_api_key  # resolved_backend checked it
    key = settings.skillboss_api_key.get_secret_value()
    http = ClickSendHttp(
        settings.skillboss_base_url,
        headers={"Authorization": f"Bearer {key}"},
        timeouts=timeouts_of(settings),
        asgi_app=asgi_app,
        service="SkillBoss",
    )
    return BackendConfig(
        "skillboss", http, (key,), apis={"skillboss": http}, normalizers={"skillboss": normalize}, toolsets=TOOLSETS
    )


def normalize(response: HttpResponse, unwrap: bool) -> dict[str, Any]:
    """Success needs a 2xx and status "success"; data is the envelope's result."""
    status = response.status
    # As ClickSend's answers are parsed: every encoding, no NaN, bounded nesting, over-long numbers as text.
    parsed, payload, _ = results.parse_json(response.body)
    is_json = parsed and payload is not None
    envelope = payload if isinstance(payload, dict) and "status" in payload else None
    state = str(envelope["status"]) if envelope is not None else None
    if 200 <= status < 300 and not response.truncated and state is not None and state.lower() == "success":
        return results.answered(
            True, envelope.get("result") if envelope else None, http_code=status, response_code=state
        )
    said = message_of(payload) or (message_of(envelope.get("result")) if envelope else None)
    app_code = payload.get("code") or payload.get("error_code") if isinstance(payload, dict) else None
    code = _APP_CODES.get(str(app_code)) if app_code else None
    if response.truncated:
        code, said = "UPSTREAM_ERROR", "the answer was larger than the server accepts"
    code = code or _HTTP_CODES.get(status)
    if code is None:
        # Another 4xx, or a 2xx whose envelope says no: the request was refused. A 5xx, or a 2xx without the
        # {"status", "result"} envelope: SkillBoss misbehaved.
        refused = 400 <= status < 500 or (envelope is not None and status < 300)
        code = "BAD_REQUEST" if refused else "UPSTREAM_ERROR"
    what = f"SkillBoss answered HTTP {status}"
    if state:
        what += f" with status {state}"
    elif is_json and status < 300:
        what += " without its status envelope"
    if said:
        what += f": {said}"
    elif not is_json:
        what += " with a body that is not JSON"
    hint = _HINTS.get(code)
    return results.answered(
        False,
        envelope.get("result") if envelope else None,
        error=f"{what}. {hint}" if hint else f"{what}.",
        error_code=code,
        http_code=status,
        response_code=state,
        response_msg=said,
    )
