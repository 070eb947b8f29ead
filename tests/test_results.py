"""Whatever ClickSend answers becomes one normalized result shape; secrets never survive into it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from clicksend_mcp import results
from clicksend_mcp.compiler import RESULT_CONTRACT
from clicksend_mcp.http import HttpResponse, TransportFailure
from clicksend_mcp.redaction import Redactor
from clicksend_mcp.results import from_response, from_transport_failure, invalid_arguments

VALIDATE = Draft202012Validator(RESULT_CONTRACT).validate


def answer(
    status: int, payload: Any = None, *, raw: bytes | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    body = raw if raw is not None else json.dumps(payload).encode()
    result = from_response(HttpResponse(status=status, headers=headers or {}, body=body))
    VALIDATE(result)
    return result


def envelope(http: int, code: str, msg: str, data: Any = None) -> dict[str, Any]:
    return {"http_code": http, "response_code": code, "response_msg": msg, "data": data}


def test_a_success_envelope_is_unwrapped() -> None:
    result = answer(200, envelope(200, "SUCCESS", "Here's your account", {"user_id": 1}))
    assert result["successful"] is True
    assert result["data"] == {"user_id": 1}
    assert result["error"] is None and result["error_code"] is None
    assert (result["http_code"], result["response_code"], result["response_msg"]) == (
        200,
        "SUCCESS",
        "Here's your account",
    )


def test_an_application_code_at_http_200_is_a_failure() -> None:
    result = answer(200, envelope(200, "INSUFFICIENT_CREDIT", "You have reached the end of your message credits."))
    assert result["successful"] is False
    assert result["error_code"] == "INSUFFICIENT_CREDIT"
    assert "end of your message credits" in result["error"]


def test_http_statuses_map_to_stable_codes() -> None:
    assert answer(401, envelope(401, "UNAUTHORIZED", "no"))["error_code"] == "UNAUTHORIZED"
    assert answer(403, envelope(403, "FORBIDDEN", "no"))["error_code"] == "FORBIDDEN"
    assert answer(404, envelope(404, "NOT_FOUND", "no"))["error_code"] == "NOT_FOUND"
    assert answer(400, envelope(400, "BAD_REQUEST", "no"))["error_code"] == "BAD_REQUEST"
    assert answer(500, envelope(500, "INTERNAL_SERVER_ERROR", "no"))["error_code"] == "UPSTREAM_ERROR"


def test_a_rate_limit_carries_retry_after() -> None:
    result = answer(429, envelope(429, "TOO_MANY_REQUESTS", "slow down"), headers={"retry-after": "7"})
    assert result["error_code"] == "RATE_LIMITED"
    assert result["retry_after"] == 7.0


def test_an_html_error_page_is_an_upstream_error() -> None:
    result = answer(502, raw=b"<html><body>Bad gateway</body></html>")
    assert result["error_code"] == "UPSTREAM_ERROR"
    assert "not JSON" in result["error"]


def test_an_empty_or_unparseable_200_is_an_upstream_error() -> None:
    assert answer(200, raw=b"")["error_code"] == "UPSTREAM_ERROR"
    assert answer(200, raw=b"{not json")["error_code"] == "UPSTREAM_ERROR"


@pytest.mark.parametrize("body", [b"null", b"[1, 2]", b'"done"', b"42", b"true"])
def test_a_200_that_is_not_a_json_object_is_not_a_success(body: bytes) -> None:
    result = answer(200, raw=body)
    assert result["successful"] is False and result["error_code"] == "UPSTREAM_ERROR"
    assert "not an object" in result["error"]


@pytest.mark.parametrize("body", [b'{"data": NaN}', b'{"data": [Infinity]}', b'{"data": -Infinity}'])
def test_nan_and_infinity_are_not_json(body: bytes) -> None:
    result = answer(200, raw=body)
    assert result["successful"] is False and "not JSON" in result["error"]


def test_numbers_json_cannot_carry_become_text_and_the_result_says_so() -> None:
    digits = "7" * 5000
    body = b'{"response_code":"SUCCESS","data":{"big":' + digits.encode() + b',"huge":1e400,"ok":1.5}}'
    result = answer(200, raw=body)
    assert result["successful"] is True
    assert result["data"] == {"big": digits, "huge": "1e400", "ok": 1.5}
    assert len(result["warnings"]) == 2
    json.dumps(result, allow_nan=False)  # printable by any JSON writer


def test_nesting_past_the_limit_is_cut_and_the_result_says_so() -> None:
    deep: object = "bottom"
    for _ in range(400):
        deep = {"a": deep}
    result = answer(200, envelope(200, "SUCCESS", "ok", deep))
    assert result["successful"] is True
    assert "nested deeper than" in result["warnings"][0]
    depth, node = 0, result["data"]
    while isinstance(node, dict):
        depth, node = depth + 1, node["a"]
    assert depth < 70 and node == results.TOO_DEEP


def test_a_body_too_deep_for_the_parser_is_not_json() -> None:
    result = answer(200, raw=b"[" * 100_000)
    assert result["successful"] is False and result["error_code"] == "UPSTREAM_ERROR"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
def test_every_encoding_the_parser_reads_is_read_the_same(encoding: str) -> None:
    body = json.dumps(envelope(200, "SUCCESS", "ok", {"x": "é"})).encode(encoding)
    assert answer(200, raw=body)["data"] == {"x": "é"}


def test_refused_messages_in_a_bulk_send_are_warnings() -> None:
    data = {"messages": [{"to": "+61411111111", "status": "SUCCESS"}, {"to": "+6100", "status": "INVALID_RECIPIENT"}]}
    result = answer(200, envelope(200, "SUCCESS", "Messages queued for delivery.", data))
    assert result["successful"] is True
    assert result["warnings"] == [
        "message 1 to +6100: INVALID_RECIPIENT (give the number in E.164 format, e.g. +61411111111)"
    ]
    assert result["data"]["messages"][1]["status"] == "INVALID_RECIPIENT"


def test_a_bulk_send_where_every_message_was_refused_fails() -> None:
    data = {"messages": [{"to": "x", "status": "INVALID_RECIPIENT"}]}
    result = answer(200, envelope(200, "SUCCESS", "Messages queued for delivery.", data))
    assert result["successful"] is False
    assert result["error_code"] == "BAD_REQUEST"
    assert result["data"] == data


def test_a_truncated_body_is_an_explicit_error() -> None:
    result = from_response(HttpResponse(status=200, headers={}, body=b"{" * 10, truncated=True))
    assert result["error_code"] == "UPSTREAM_ERROR" and "larger than" in result["error"]


def test_transport_failures_become_timeout_or_network_error() -> None:
    assert (
        from_transport_failure(TransportFailure("timeout", True, "ClickSend did not answer in time"))["error_code"]
        == "TIMEOUT"
    )
    assert (
        from_transport_failure(TransportFailure("network", False, "could not connect"))["error_code"] == "NETWORK_ERROR"
    )


def test_invalid_arguments_say_nothing_was_sent() -> None:
    result = invalid_arguments(["messages[0].to: is required"])
    VALIDATE(result)
    assert result["error_code"] == "INVALID_ARGUMENTS"
    assert "nothing was sent" in result["error"] and "messages[0].to: is required" in result["error"]


def test_the_redactor_hides_secret_values_and_secret_keys() -> None:
    redactor = Redactor(["SECRET-KEY-123", "c2VjcmV0dG9rZW4="])
    data = {
        "_subaccount": {"api_key": "LIVE-KEY", "username": "bob"},
        "note": "key SECRET-KEY-123 here",
        "password": "",
    }
    assert redactor.value(data) == {
        "_subaccount": {"api_key": "[REDACTED]", "username": "bob"},
        "note": "key [REDACTED] here",
        "password": "",
    }


def test_secret_keys_are_redacted_in_any_case_or_style() -> None:
    redactor = Redactor([])
    names = [
        "token",
        "api_token",
        "access_token",
        "refresh_token",
        "sessionToken",
        "client_secret",
        "secret",
        "authorization",
        "Proxy-Authorization",
        "private_key",
        "PRIVATE-KEY",
        "password",
        "newPassword",
        "api_key",
        "X-Api-Key",
        "apiKey",
        "auth",
        "secret_key",
        "aws_access_key",
        "Set-Cookie",
    ]
    redacted = redactor.value({name: "v4lue" for name in names})
    assert redacted == {name: "[REDACTED]" for name in names}


def test_harmless_fields_near_secret_words_are_kept() -> None:
    redactor = Redactor([])
    kept = {"token_count": 3, "password_set_at": 1, "secret_question": "pet?", "has_password": True, "key": "k1"}
    assert redactor.value(kept) == kept


def test_a_secret_as_an_object_key_is_redacted() -> None:
    redactor = Redactor(["SECRET-KEY-123"])
    assert redactor.value({"data": {"SECRET-KEY-123": "v", "secret-key-123x": "w"}}) == {
        "data": {"[REDACTED]": "v", "[REDACTED]x": "w"}
    }
    two = redactor.value({"SECRET-KEY-123": 1, "secret-key-123": 2})
    assert sorted(two.values()) == [1, 2] and all("SECRET" not in k.upper().replace("[REDACTED]", "") for k in two)


def test_secret_forms_in_other_case_base64_and_url_encoding_are_redacted() -> None:
    import base64
    from urllib.parse import quote

    key = "Ab+c/KEY=42&x"
    token = base64.b64encode(f"me:{key}".encode()).decode()
    redactor = Redactor([key, token])
    forms = [
        key.lower(),
        key.upper(),
        base64.b64encode(key.encode()).decode(),
        base64.urlsafe_b64encode(key.encode()).decode().rstrip("="),
        quote(key, safe=""),
        quote(key, safe="").lower(),
        token,
        quote(token, safe=""),
    ]
    for form in forms:
        assert redactor.text(f"<{form}>") == "<[REDACTED]>", form


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32-be", "utf-8-sig"])
def test_any_encoding_the_parser_reads_gets_the_redaction_walk(encoding: str) -> None:
    redactor = Redactor(["SECRET-abc/def"])
    assert redactor.could_leak('{"data":{"balance":"1.00"}}'.encode(encoding))


def test_a_body_without_secrets_needs_no_redaction_walk() -> None:
    assert Redactor(["SECRET-abc/def"]).could_leak(b'{"data":{"balance":"1.00"}}') is False


def test_a_secret_value_or_key_in_a_body_needs_the_walk() -> None:
    redactor = Redactor(["SECRET-abc/def"])
    assert redactor.could_leak(b'{"note":"SECRET-abc/def"}')
    assert redactor.could_leak(b'{"_subaccount":{"Api_Key":"x"}}')


def test_json_escapes_cannot_hide_a_secret_from_the_check() -> None:
    redactor = Redactor(["SECRET-abc/def"])
    assert redactor.could_leak(b'{"note":"SECRET-abc\\/def"}')  # json.loads restores the slash
    assert redactor.could_leak(b'{"api\\u005fkey":"x"}')  # and the underscore
