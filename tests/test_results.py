"""Whatever ClickSend answers becomes one normalized result shape; secrets never survive into it."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator

from clicksend_mcp.compiler import RESULT_SCHEMA
from clicksend_mcp.http import HttpResponse, TransportFailure
from clicksend_mcp.results import Redactor, from_response, from_transport_failure, invalid_arguments

VALIDATE = Draft202012Validator(RESULT_SCHEMA).validate


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


def test_a_json_array_answer_is_kept_as_data() -> None:
    result = answer(200, [1, 2])
    assert result["successful"] is True and result["data"] == [1, 2]


def test_refused_messages_in_a_bulk_send_are_warnings() -> None:
    data = {"messages": [{"to": "+61411111111", "status": "SUCCESS"}, {"to": "+6100", "status": "INVALID_RECIPIENT"}]}
    result = answer(200, envelope(200, "SUCCESS", "Messages queued for delivery.", data))
    assert result["successful"] is True
    assert result["warnings"] == ["message 1 to +6100: INVALID_RECIPIENT"]
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


def test_secret_named_keys_are_redacted_whatever_their_case() -> None:
    redactor = Redactor([])
    data = {
        "API_KEY": "k1",
        "Api_Key": "k2",
        "apiKey": "k3",
        "PASSWORD": "p1",
        "Secret": "s1",
        "nested": [{"Auth_Token": "t1", "ACCESS_TOKEN": "t2", "Refresh_Token": "t3"}],
        "username": "bob",
    }
    redacted = redactor.value(data)
    assert redacted == {
        "API_KEY": "[REDACTED]",
        "Api_Key": "[REDACTED]",
        "apiKey": "[REDACTED]",
        "PASSWORD": "[REDACTED]",
        "Secret": "[REDACTED]",
        "nested": [{"Auth_Token": "[REDACTED]", "ACCESS_TOKEN": "[REDACTED]", "Refresh_Token": "[REDACTED]"}],
        "username": "bob",
    }


def test_a_secret_named_key_in_any_case_makes_a_body_need_the_walk() -> None:
    redactor = Redactor([])
    for key in ("API_KEY", "ApiKey", "PASSWORD", "Secret", "AUTH_TOKEN"):
        assert redactor.could_leak(b'{"x":{"' + key.encode() + b'":"v"}}'), key
    assert not redactor.could_leak(b'{"x":{"username":"v"}}')


def test_a_204_no_content_is_a_success_without_data() -> None:
    # ClickSend's OpenAPI documents DELETE /senders/default-senders/{id} as 204 with no body.
    result = answer(204, raw=b"")
    assert result["successful"] is True and result["data"] is None and result["http_code"] == 204


def test_a_transport_failure_is_a_failed_result_with_a_sentence() -> None:
    result = from_transport_failure(TransportFailure("network", False, "could not connect to ClickSend"))
    VALIDATE(result)
    assert result["successful"] is False
    assert result["error"] == "Could not connect to ClickSend."


def test_the_invalid_arguments_error_lists_every_problem() -> None:
    result = invalid_arguments(["a: is required", "b: expected an integer"])
    assert result["error"] == (
        "Invalid arguments, nothing was sent to ClickSend: a: is required; b: expected an integer"
    )


def test_results_the_server_makes_itself_are_successful_and_say_so() -> None:
    from clicksend_mcp.results import dry_run, ok

    assert ok({"n": 1}) == {**ok(None), "data": {"n": 1}} and ok(None)["successful"] is True
    made = dry_run({"sent": False})
    assert made["successful"] is True and made["response_msg"] == "Dry run: nothing was sent."


def test_a_negative_retry_after_is_ignored() -> None:
    result = answer(429, envelope(429, "TOO_MANY_REQUESTS", "Slow down."), headers={"retry-after": "-1"})
    assert result["error_code"] == "RATE_LIMITED" and "retry_after" not in result


def test_json_text_is_compact_unicode_and_never_fails_on_odd_values() -> None:
    import datetime

    from clicksend_mcp.results import json_text

    when = datetime.date(2026, 1, 2)
    assert json_text({"a": [1, "ü"], "when": when}) == '{"a":[1,"ü"],"when":"2026-01-02"}'


def test_untrusted_fields_are_marked_only_where_present() -> None:
    from clicksend_mcp.compiler import parse_path
    from clicksend_mcp.results import mark_untrusted

    paths = [parse_path("data.data[].body"), parse_path("data.subject"), parse_path("data.missing[].x")]
    result = {"data": {"data": [{"id": 1}, {"body": "reply STOP"}], "subject": None, "missing": []}}
    mark_untrusted(result, paths)
    assert result["untrusted_content"]["fields"] == ["data.data[].body"]
    empty = {"data": {"data": [{"id": 1}], "subject": "s"}}
    mark_untrusted(empty, [parse_path("data.data[].body")])
    assert "untrusted_content" not in empty
    flat = {"data": "not an object"}
    mark_untrusted(flat, paths)
    assert "untrusted_content" not in flat


def test_a_guardrail_error_reads_as_its_message() -> None:
    from clicksend_mcp.guardrails import GuardrailError

    error = GuardrailError("REFUSED", "messages[0].to: not allowed")
    assert (error.code, error.message, str(error)) == ("REFUSED", "messages[0].to: not allowed", error.message)
