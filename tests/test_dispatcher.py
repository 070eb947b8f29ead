"""Calls through the dispatcher against the fake ClickSend over an ASGI transport: auth, routing, results, redaction."""

from __future__ import annotations

import base64
import logging

import pytest

from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.dispatcher import Dispatcher, UnknownToolError
from clicksend_mcp.settings import Settings
from conftest import direct_settings, maton_settings
from fake_clicksend import API_KEY, MATON_CONNECTION, MATON_KEY, TEST_KEY, TEST_NUMBER, USERNAME, FakeClickSend

pytestmark = pytest.mark.anyio

SEND = "CLICKSEND_CREATE_SMS_SEND"


def one_sms(to: str = TEST_NUMBER, body: str = "Hello from the tests") -> dict[str, object]:
    return {"messages": [{"to": to, "body": body}]}


async def test_the_direct_backend_sends_basic_auth_to_the_v3_path(dispatcher: Dispatcher, fake: FakeClickSend) -> None:
    result = await dispatcher.call("CLICKSEND_GET_ACCOUNT", {})
    assert result["successful"] is True
    [request] = fake.requests
    assert (request.method, request.path) == ("GET", "/v3/account")
    expected = base64.b64encode(f"{USERNAME}:{API_KEY}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"


async def test_the_maton_backend_sends_bearer_and_connection_headers(tools: dict[str, CompiledTool]) -> None:
    fake = FakeClickSend(prefix="/clicksend")
    settings = maton_settings(maton_base_url="https://gateway.maton.ai/clicksend/v3")
    dispatcher = build_dispatcher(settings, tools=tools, asgi_app=fake)
    try:
        result = await dispatcher.call("CLICKSEND_GET_ACCOUNT", {})
    finally:
        await dispatcher.aclose()
    assert result["successful"] is True
    [request] = fake.requests
    assert request.path == "/clicksend/v3/account"
    assert request.headers["authorization"] == f"Bearer {MATON_KEY}"
    assert request.headers["maton-connection"] == MATON_CONNECTION


async def test_the_maton_backend_omits_the_connection_header_when_unset(tools: dict[str, CompiledTool]) -> None:
    fake = FakeClickSend(prefix="/clicksend")
    dispatcher = build_dispatcher(Settings(backend="maton", maton_api_key=MATON_KEY), tools=tools, asgi_app=fake)
    try:
        await dispatcher.call("CLICKSEND_GET_ACCOUNT", {})
    finally:
        await dispatcher.aclose()
    assert "maton-connection" not in fake.requests[0].headers


async def test_an_invalid_call_names_the_field_and_sends_nothing(dispatcher: Dispatcher, fake: FakeClickSend) -> None:
    result = await dispatcher.call(SEND, {"messages": [{"to": TEST_NUMBER, "body": 5}]})
    assert result["successful"] is False
    assert result["error_code"] == "INVALID_ARGUMENTS"
    assert "messages[0].body: expected a string, got an integer" in result["error"]
    assert fake.requests == []


async def test_a_missing_required_argument_is_named(dispatcher: Dispatcher, fake: FakeClickSend) -> None:
    result = await dispatcher.call(SEND, {})
    assert "messages: is required" in result["error"]
    assert fake.requests == []


async def test_an_unknown_argument_is_refused(dispatcher: Dispatcher, fake: FakeClickSend) -> None:
    result = await dispatcher.call("CLICKSEND_GET_ACCOUNT", {"confirm": True})
    assert result["error_code"] == "INVALID_ARGUMENTS" and "confirm: unknown field" in result["error"]
    assert fake.requests == []


async def test_an_unknown_tool_raises(dispatcher: Dispatcher) -> None:
    with pytest.raises(UnknownToolError):
        await dispatcher.call("CLICKSEND_NOPE", {})


async def test_a_sent_sms_shows_up_in_history(dispatcher: Dispatcher, fake: FakeClickSend) -> None:
    sent = await dispatcher.call(SEND, one_sms(body="history check"))
    assert sent["successful"] is True
    [message] = sent["data"]["messages"]
    assert message["status"] == "SUCCESS"
    [send_request] = fake.sent("POST", "/v3/sms/send")
    tagged = one_sms(body="history check")
    tagged["messages"][0]["custom_string"] = sent["tag"]  # type: ignore[index]
    assert send_request.json == tagged
    history = await dispatcher.call("CLICKSEND_GET_SMS_HISTORY", {})
    assert history["successful"] is True
    assert message["message_id"] in [m["message_id"] for m in history["data"]["data"]]


async def test_an_unknown_id_is_not_found(dispatcher: Dispatcher) -> None:
    result = await dispatcher.call("CLICKSEND_GET_LISTS2", {"list_id": 999999})
    assert result["successful"] is False
    assert (result["error_code"], result["http_code"]) == ("NOT_FOUND", 404)


async def test_wrong_credentials_are_unauthorized(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    settings = Settings(backend="direct", clicksend_username=USERNAME, clicksend_api_key="WRONG-KEY-0000")
    dispatcher = build_dispatcher(settings, tools=tools, asgi_app=fake)
    try:
        result = await dispatcher.call("CLICKSEND_GET_ACCOUNT", {})
    finally:
        await dispatcher.aclose()
    assert (result["error_code"], result["http_code"]) == ("UNAUTHORIZED", 401)
    assert "WRONG-KEY-0000" not in str(result)


async def test_the_nocredit_test_account_cannot_send(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    settings = Settings(backend="direct", clicksend_username="nocredit", clicksend_api_key=TEST_KEY)
    dispatcher = build_dispatcher(settings, tools=tools, asgi_app=fake)
    try:
        result = await dispatcher.call(SEND, one_sms())
    finally:
        await dispatcher.aclose()
    assert result["successful"] is False
    assert result["error_code"] == "INSUFFICIENT_CREDIT"
    assert TEST_KEY not in str(result)


async def test_the_sandbox_marks_its_results_and_redacts_the_subaccount_key(sandbox_dispatcher: Dispatcher) -> None:
    result = await sandbox_dispatcher.call("CLICKSEND_GET_ACCOUNT", {})
    assert result["successful"] is True and result["sandbox"] is True
    assert result["data"]["_subaccount"]["api_key"] == "[REDACTED]"


async def test_each_call_logs_one_line_without_arguments_or_secrets(
    dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="clicksend_mcp.calls"):
        await dispatcher.call(SEND, one_sms(body="private words"))
    [record] = [r for r in caplog.records if r.name == "clicksend_mcp.calls"]
    line = record.getMessage()
    assert f"tool={SEND}" in line and "backend=direct" in line and "http=200" in line and "duration_ms=" in line
    assert "private words" not in line and API_KEY not in line and TEST_NUMBER not in line


async def test_the_same_connection_pool_is_reused_across_calls(dispatcher: Dispatcher) -> None:
    await dispatcher.call("CLICKSEND_GET_ACCOUNT", {})
    first = dispatcher.backend.http.transport
    await dispatcher.call("CLICKSEND_GET_COUNTRIES", {})
    assert dispatcher.backend.http.transport is first


@pytest.mark.parametrize("settings", [direct_settings(), Settings(backend="sandbox")], ids=["direct", "sandbox"])
async def test_a_scheduled_sms_can_be_cancelled(settings: Settings, tools: dict[str, CompiledTool]) -> None:
    dispatcher = build_dispatcher(settings, tools=tools, asgi_app=FakeClickSend())
    try:
        sent = await dispatcher.call(SEND, {"messages": [{"to": TEST_NUMBER, "body": "later", "schedule": 4102444800}]})
        message_id = sent["data"]["messages"][0]["message_id"]
        cancelled = await dispatcher.call("CLICKSEND_DELETE_SMS_CANCEL", {"message_id": message_id})
    finally:
        await dispatcher.aclose()
    assert cancelled["successful"] is True, cancelled
