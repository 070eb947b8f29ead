"""The Maton backend: ClickSend through Maton's managed gateway (Bearer key, optional Maton-Connection), and Maton's
control API for the `clicksend` app's connections; the gateway's own errors, normalized with a next step."""

from __future__ import annotations

from typing import Any

from .. import results
from ..http import ClickSendHttp, HttpResponse
from ..settings import Settings
from .base import BackendConfig, message_of, timeouts_of

APIS = frozenset({"clicksend", "maton_control"})
TOOLSETS = ("maton",)
LIST_TOOL = "CLICKSEND_MATON_LIST_CONNECTIONS"
CREATE_TOOL = "CLICKSEND_MATON_CREATE_CONNECTION"
GET_TOOL = "CLICKSEND_MATON_GET_CONNECTION"

# The gateway's own failures (not ClickSend's): stable codes, each with the step that fixes it.
INVALID_KEY = "MATON_INVALID_KEY"
NO_ACTIVE_CONNECTION = "MATON_NO_ACTIVE_CONNECTION"
WRONG_APP_PATH = "MATON_WRONG_APP_PATH"
NEXT_STEPS = {
    INVALID_KEY: f"Check MATON_API_KEY by listing connections ({LIST_TOOL}); if that fails too, copy the key again "
    "from maton.ai/settings.",
    NO_ACTIVE_CONNECTION: f"Create a connection with {CREATE_TOOL} and ask the person to open its url to authorize "
    f"ClickSend; or pick an ACTIVE connection_id from {LIST_TOOL}.",
    WRONG_APP_PATH: "MATON_BASE_URL must start with the app name: https://gateway.maton.ai/clicksend/v3 "
    "(not https://gateway.maton.ai/v3).",
}
AUTHORIZE_STEP = (
    "The person must open authorize_url in a browser and sign in to ClickSend to authorize this connection; until "
    f"then it cannot send or read anything (its status becomes ACTIVE; check with {GET_TOOL})."
)


def build(settings: Settings, *, asgi_app: Any = None) -> BackendConfig:
    assert settings.maton_api_key  # resolved_backend checked it
    key = settings.maton_api_key.get_secret_value()
    timeouts = timeouts_of(settings)
    headers = {"Authorization": f"Bearer {key}"}
    # The default connection; a call's own maton_connection argument replaces it for that call (a request header).
    gateway_headers = dict(headers)
    if settings.maton_connection:
        gateway_headers["Maton-Connection"] = settings.maton_connection
    gateway = ClickSendHttp(
        settings.maton_base_url,
        headers=gateway_headers,
        timeouts=timeouts,
        asgi_app=asgi_app,
        service="the Maton gateway",
    )
    control = ClickSendHttp(
        settings.maton_ctrl_base_url, headers=headers, timeouts=timeouts, asgi_app=asgi_app, service="Maton"
    )
    return BackendConfig(
        "maton",
        gateway,
        (key,),
        apis={"clicksend": gateway, "maton_control": control},
        normalizers={"clicksend": normalize_gateway, "maton_control": normalize_control},
        toolsets=TOOLSETS,
    )


def _parse(body: bytes) -> tuple[bool, Any]:
    # As ClickSend's answers are parsed: every encoding, no NaN, bounded nesting, over-long numbers as text.
    is_json, payload, _ = results.parse_json(body)
    return is_json, payload


def _gateway_problem(status: int, text: str) -> str | None:
    """Which of the gateway's own failures an answer is (Maton's troubleshooting cases), or None."""
    lowered = text.lower()
    if status == 401 or "api key" in lowered or "api_key" in lowered:
        return INVALID_KEY
    if "connection" in lowered:
        return NO_ACTIVE_CONNECTION
    if "app" in lowered.split() or "app name" in lowered or "invalid app" in lowered or status == 404:
        return WRONG_APP_PATH
    return None


def _failure(code: str, status: int, said: str | None, http_code: int) -> dict[str, Any]:
    what = f"The Maton gateway answered HTTP {status}" + (f": {said}" if said else "")
    result = results.answered(
        False, error=f"{what}. {NEXT_STEPS[code]}", error_code=code, http_code=http_code, response_msg=said
    )
    result["next_step"] = NEXT_STEPS[code]
    return result


def normalize_gateway(response: HttpResponse, unwrap: bool) -> dict[str, Any]:
    """ClickSend's answers as for the direct backend; the gateway's own refusals (no ClickSend envelope) mapped."""
    result = results.from_response(response, unwrap=unwrap)
    if result["successful"] or result["response_code"] is not None or response.status < 400:
        return result
    _, payload = _parse(response.body)
    said = message_of(payload)
    problem = _gateway_problem(response.status, said or "")
    return _failure(problem, response.status, said, response.status) if problem else result


_CONTROL_CODES = {400: "BAD_REQUEST", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT", 429: "RATE_LIMITED"}


def normalize_control(response: HttpResponse, unwrap: bool) -> dict[str, Any]:
    """Maton's control API answers plain JSON ({"connection": {...}}, {"connections": [...]}), no envelope."""
    is_json, payload = _parse(response.body)
    status = response.status
    if 200 <= status < 300 and not response.truncated:
        if response.body.strip() and not is_json:
            return results.answered(
                False,
                error="Maton answered with a body that is not JSON.",
                error_code="UPSTREAM_ERROR",
                http_code=status,
            )
        result = results.answered(True, payload, http_code=status)
        _add_authorize_step(result, payload)
        return result
    said = message_of(payload) if is_json else None
    if status == 401:
        return _failure(INVALID_KEY, status, said, status)
    code = _CONTROL_CODES.get(status, "UPSTREAM_ERROR")
    if response.truncated:
        code, said = "UPSTREAM_ERROR", "the answer was larger than the server accepts"
    hint = {
        "NOT_FOUND": f"No such connection: list them with {LIST_TOOL}.",
        "RATE_LIMITED": "Wait before calling again.",
        "UPSTREAM_ERROR": "Maton failed on its side; try again later.",
    }.get(code, "")
    what = f"Maton's connection API answered HTTP {status}" + (f": {said}" if said else "")
    return results.answered(
        False,
        payload if is_json else None,
        error=f"{what}. {hint}".strip(),
        error_code=code,
        http_code=status,
        response_msg=said,
    )


def _add_authorize_step(result: dict[str, Any], payload: Any) -> None:
    """A connection that is not ACTIVE yet waits for the person: say so plainly, with the URL they must open."""
    connection = payload.get("connection") if isinstance(payload, dict) else None
    if not isinstance(connection, dict):
        return
    url = connection.get("url")
    if isinstance(url, str) and url and connection.get("status") != "ACTIVE":
        result["authorize_url"] = url
        result["next_step"] = AUTHORIZE_STEP
