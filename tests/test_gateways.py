"""The gateways: Maton's connection tools and its own errors, the connection chosen per call, and the SkillBoss
backend (templated SMS and passcodes under the send guardrails), against loopback fakes built from their guides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client

from clicksend_mcp.app import build_server
from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.dispatcher import Dispatcher, UnknownToolError
from clicksend_mcp.settings import ConfigError, Settings
from conftest import direct_settings
from fake_clicksend import TEST_NUMBER, FakeClickSend
from fake_gateways import CONNECTION_A, CONNECTION_B, MATON_KEY, SKILLBOSS_KEY, TEMPLATE_ID, FakeMaton, FakeSkillBoss

pytestmark = pytest.mark.anyio

GATEWAY = "http://gateway.maton.test/clicksend/v3"
CTRL = "http://ctrl.maton.test"
SKILLBOSS = "http://api.skillboss.test/v1"
LIST = "CLICKSEND_MATON_LIST_CONNECTIONS"
GET = "CLICKSEND_MATON_GET_CONNECTION"
CREATE = "CLICKSEND_MATON_CREATE_CONNECTION"
DELETE = "CLICKSEND_MATON_DELETE_CONNECTION"
NOTIFY = "CLICKSEND_SKILLBOSS_SEND_TEMPLATED_SMS"
VERIFY = "CLICKSEND_SKILLBOSS_SEND_VERIFICATION"
CHECK = "CLICKSEND_SKILLBOSS_CHECK_VERIFICATION"
US_NUMBER = "+12015550123"  # a valid US number (not one of ClickSend's test numbers)


def maton_settings(**extra: Any) -> Settings:
    extra.setdefault("toolsets", "all")
    extra.setdefault("maton_base_url", GATEWAY)
    return Settings(backend="maton", maton_api_key=MATON_KEY, maton_ctrl_base_url=CTRL, **extra)


def skillboss_settings(**extra: Any) -> Settings:
    return Settings(backend="skillboss", skillboss_api_key=SKILLBOSS_KEY, skillboss_base_url=SKILLBOSS, **extra)


@pytest.fixture
def maton() -> FakeMaton:
    fake = FakeMaton()
    fake.add_connection(CONNECTION_A, created="2026-02-10T10:04:12Z")
    fake.add_connection(CONNECTION_B, created="2026-02-11T08:00:00Z")
    return fake


@pytest.fixture
def skillboss() -> FakeSkillBoss:
    return FakeSkillBoss()


@pytest.fixture
async def on_maton(maton: FakeMaton, tools: dict[str, CompiledTool]) -> AsyncIterator[Dispatcher]:
    d = build_dispatcher(maton_settings(), tools=tools, asgi_app=maton)
    yield d
    await d.aclose()


@pytest.fixture
async def on_skillboss(skillboss: FakeSkillBoss, tools: dict[str, CompiledTool]) -> AsyncIterator[Dispatcher]:
    d = build_dispatcher(skillboss_settings(), tools=tools, asgi_app=skillboss)
    yield d
    await d.aclose()


# --- Maton: connection tools ----------------------------------------------------------------------------------------


async def test_listing_connections_asks_the_control_api_for_clicksend_ones(
    on_maton: Dispatcher, maton: FakeMaton
) -> None:
    result = await on_maton.call(LIST, {"status": "ACTIVE"})
    assert result["successful"] is True, result
    assert [c["connection_id"] for c in result["data"]["connections"]] == [CONNECTION_A, CONNECTION_B]
    [request] = maton.requests
    assert (request.method, request.path) == ("GET", "/connections")
    assert request.query == [("app", "clicksend"), ("status", "ACTIVE")]
    assert request.headers["authorization"] == f"Bearer {MATON_KEY}"
    assert "maton-connection" not in request.headers
    assert request.body == b""


async def test_listing_connections_without_a_status_lists_every_one(on_maton: Dispatcher, maton: FakeMaton) -> None:
    maton.add_connection("0f0f0f0f-1111-4222-8333-444455556666", status="PENDING")
    result = await on_maton.call(LIST, {})
    assert len(result["data"]["connections"]) == 3
    assert maton.requests[0].query == [("app", "clicksend")]


async def test_getting_a_connection_reads_it_by_id(on_maton: Dispatcher, maton: FakeMaton) -> None:
    result = await on_maton.call(GET, {"connection_id": CONNECTION_A})
    assert result["successful"] is True
    assert result["data"]["connection"]["status"] == "ACTIVE"
    assert "authorize_url" not in result  # an ACTIVE connection needs nothing from the person
    [request] = maton.requests
    assert (request.method, request.path) == ("GET", f"/connections/{CONNECTION_A}")


async def test_a_malformed_connection_id_is_refused_before_maton(on_maton: Dispatcher, maton: FakeMaton) -> None:
    result = await on_maton.call(GET, {"connection_id": "../account"})
    assert result["error_code"] == "INVALID_ARGUMENTS" and "connection_id: expected text matching" in result["error"]
    assert maton.requests == []


async def test_an_unknown_connection_is_not_found_with_where_to_look(on_maton: Dispatcher) -> None:
    result = await on_maton.call(GET, {"connection_id": "00000000-0000-4000-8000-000000000000"})
    assert result["error_code"] == "NOT_FOUND" and "Connection not found" in result["error"]
    assert LIST in result["error"]


async def test_creating_a_connection_says_the_person_must_open_its_url(on_maton: Dispatcher, maton: FakeMaton) -> None:
    result = await on_maton.call(CREATE, {})
    assert result["successful"] is True
    [request] = maton.requests
    assert (request.method, request.path) == ("POST", "/connections")
    assert request.json == {"app": "clicksend"}
    assert request.headers["content-type"] == "application/json"
    connection = result["data"]["connection"]
    assert connection["status"] == "PENDING"
    assert result["authorize_url"] == connection["url"]
    assert "must open authorize_url in a browser" in result["next_step"]


async def test_deleting_a_connection_removes_it(on_maton: Dispatcher, maton: FakeMaton) -> None:
    result = await on_maton.call(DELETE, {"connection_id": CONNECTION_B})
    assert result["successful"] is True
    [request] = maton.requests
    assert (request.method, request.path) == ("DELETE", f"/connections/{CONNECTION_B}")
    assert maton.find(CONNECTION_B) is None


def test_deleting_a_connection_is_marked_destructive(tools: dict[str, CompiledTool]) -> None:
    assert tools[DELETE].annotations["destructiveHint"] is True
    assert tools[DELETE].spec.confirm is not None
    assert tools[CREATE].annotations["destructiveHint"] is False


async def test_read_only_mode_hides_and_refuses_deleting_a_connection(
    maton: FakeMaton, tools: dict[str, CompiledTool]
) -> None:
    d = build_dispatcher(maton_settings(read_only=True), tools=tools, asgi_app=maton)
    try:
        assert LIST in d.tools and DELETE not in d.tools and CREATE not in d.tools
        with pytest.raises(UnknownToolError, match="read-only"):
            await d.call(DELETE, {"connection_id": CONNECTION_A})
    finally:
        await d.aclose()
    assert maton.requests == []


async def test_an_invalid_maton_key_says_to_check_it_by_listing_connections(
    maton: FakeMaton, tools: dict[str, CompiledTool]
) -> None:
    d = build_dispatcher(
        Settings(
            backend="maton", maton_api_key="wrong-maton-key-123", maton_base_url=GATEWAY, maton_ctrl_base_url=CTRL
        ),
        tools=tools,
        asgi_app=maton,
    )
    try:
        on_control = await d.call(LIST, {})
        on_gateway = await d.call("CLICKSEND_GET_ACCOUNT", {})
    finally:
        await d.aclose()
    for result in (on_control, on_gateway):
        assert result["error_code"] == "MATON_INVALID_KEY", result
        assert result["http_code"] == 401
        assert LIST in result["next_step"] and "MATON_API_KEY" in result["error"]


# --- Maton: the gateway's own errors ---------------------------------------------------------------------------------


async def test_no_active_connection_says_to_create_one_and_open_its_url(
    tools: dict[str, CompiledTool],
) -> None:
    maton = FakeMaton()
    maton.add_connection(CONNECTION_A, status="PENDING")
    d = build_dispatcher(maton_settings(), tools=tools, asgi_app=maton)
    try:
        result = await d.call("CLICKSEND_GET_ACCOUNT", {})
    finally:
        await d.aclose()
    assert result["error_code"] == "MATON_NO_ACTIVE_CONNECTION", result
    assert CREATE in result["next_step"] and "open its url" in result["next_step"]


async def test_a_gateway_url_without_the_app_name_is_a_wrong_app_path(
    maton: FakeMaton, tools: dict[str, CompiledTool]
) -> None:
    d = build_dispatcher(maton_settings(maton_base_url="http://gateway.maton.test/v3"), tools=tools, asgi_app=maton)
    try:
        result = await d.call("CLICKSEND_GET_ACCOUNT", {})
    finally:
        await d.aclose()
    assert result["error_code"] == "MATON_WRONG_APP_PATH", result
    assert "https://gateway.maton.ai/clicksend/v3" in result["next_step"]


async def test_clicksends_own_errors_through_the_gateway_keep_their_codes(
    on_maton: Dispatcher, maton: FakeMaton
) -> None:
    result = await on_maton.call("CLICKSEND_GET_LISTS2", {"list_id": 987654321})
    assert result["error_code"] == "NOT_FOUND" and result["response_code"] == "NOT_FOUND"
    assert maton.routed == [(CONNECTION_A, "GET", "/v3/lists/987654321")]


async def test_the_maton_backend_serves_its_connection_tools_by_default(
    maton: FakeMaton, tools: dict[str, CompiledTool]
) -> None:
    d = build_dispatcher(maton_settings(toolsets=None), tools=tools, asgi_app=maton)
    try:
        assert {LIST, GET, CREATE, DELETE} <= set(d.tools)
        assert "CLICKSEND_GET_ACCOUNT" in d.tools and NOTIFY not in d.tools
    finally:
        await d.aclose()


# --- Maton: choosing the connection per call ------------------------------------------------------------------------


async def test_with_the_flag_every_clicksend_tool_takes_a_connection_argument(
    maton: FakeMaton, tools: dict[str, CompiledTool]
) -> None:
    d = build_dispatcher(maton_settings(maton_connection_arg=True), tools=tools, asgi_app=maton)
    try:
        clicksend = [t for t in d.tools.values() if t.spec.api == "clicksend"]
        assert len(clicksend) > 200
        for tool in clicksend:
            schema = tool.input_schema["properties"]["maton_connection"]
            assert schema["pattern"].startswith("^[0-9a-fA-F]{8}-") and "maton_connection" not in tool.input_schema.get(
                "required", []
            )
        assert "maton_connection" not in d.tools[LIST].input_schema["properties"]
    finally:
        await d.aclose()


async def test_a_calls_connection_goes_as_its_header_for_that_call_only(
    maton: FakeMaton, tools: dict[str, CompiledTool]
) -> None:
    d = build_dispatcher(
        maton_settings(maton_connection_arg=True, maton_connection=CONNECTION_A), tools=tools, asgi_app=maton
    )
    try:
        chosen = await d.call("CLICKSEND_GET_ACCOUNT", {"maton_connection": CONNECTION_B})
        default = await d.call("CLICKSEND_GET_ACCOUNT", {})
    finally:
        await d.aclose()
    assert chosen["successful"] and default["successful"]
    first, second = maton.requests
    assert first.headers["maton-connection"] == CONNECTION_B
    assert second.headers["maton-connection"] == CONNECTION_A
    assert [r[0] for r in maton.routed] == [CONNECTION_B, CONNECTION_A]


async def test_without_any_choice_maton_uses_the_oldest_active_connection(
    maton: FakeMaton, tools: dict[str, CompiledTool]
) -> None:
    d = build_dispatcher(maton_settings(maton_connection_arg=True), tools=tools, asgi_app=maton)
    try:
        await d.call("CLICKSEND_GET_ACCOUNT", {})
    finally:
        await d.aclose()
    assert "maton-connection" not in maton.requests[0].headers
    assert maton.routed[0][0] == CONNECTION_A


async def test_sends_through_two_connections_reach_two_accounts(
    maton: FakeMaton, tools: dict[str, CompiledTool]
) -> None:
    d = build_dispatcher(maton_settings(maton_connection_arg=True), tools=tools, asgi_app=maton)
    try:
        for connection, body in ((CONNECTION_A, "to A"), (CONNECTION_B, "to B")):
            sent = await d.call(
                "CLICKSEND_CREATE_SMS_SEND",
                {"messages": [{"to": TEST_NUMBER, "body": body}], "maton_connection": connection},
            )
            assert sent["successful"] is True, sent
        history_b = await d.call("CLICKSEND_SMS_HISTORY_GET", {"maton_connection": CONNECTION_B})
    finally:
        await d.aclose()
    assert [m["body"] for m in history_b["data"]["data"]] == ["to B"]
    assert [r.json["messages"][0]["body"] for r in maton.accounts[CONNECTION_A].sent("POST", "/v3/sms/send")] == [
        "to A"
    ]


async def test_an_invalid_connection_argument_is_refused_before_maton(
    maton: FakeMaton, tools: dict[str, CompiledTool]
) -> None:
    d = build_dispatcher(maton_settings(maton_connection_arg=True), tools=tools, asgi_app=maton)
    try:
        result = await d.call("CLICKSEND_GET_ACCOUNT", {"maton_connection": "abc\r\nX-Evil: 1"})
    finally:
        await d.aclose()
    assert result["error_code"] == "INVALID_ARGUMENTS" and "maton_connection: expected text matching" in result["error"]
    assert maton.requests == []


async def test_a_dry_run_shows_which_connection_it_would_use(maton: FakeMaton, tools: dict[str, CompiledTool]) -> None:
    d = build_dispatcher(maton_settings(maton_connection_arg=True), tools=tools, asgi_app=maton)
    try:
        result = await d.call(
            "CLICKSEND_CREATE_SMS_SEND",
            {"messages": [{"to": TEST_NUMBER, "body": "x"}], "maton_connection": CONNECTION_B, "dry_run": True},
        )
    finally:
        await d.aclose()
    assert result["data"]["request"]["headers"] == {"Maton-Connection": CONNECTION_B}
    assert "json" in result["data"]["request"] and "maton_connection" not in result["data"]["request"]["json"]
    # The quote came from the same account: the price call carried the same connection.
    assert [r.headers.get("maton-connection") for r in maton.requests] == [CONNECTION_B]
    assert maton.routed == [(CONNECTION_B, "POST", "/v3/sms/price")]


async def test_without_the_flag_a_connection_argument_is_an_unknown_field(on_maton: Dispatcher) -> None:
    result = await on_maton.call("CLICKSEND_GET_ACCOUNT", {"maton_connection": CONNECTION_B})
    assert result["error_code"] == "INVALID_ARGUMENTS" and "maton_connection: unknown field" in result["error"]


def test_the_connection_argument_needs_the_maton_backend(tools: dict[str, CompiledTool]) -> None:
    with pytest.raises(ConfigError, match="needs the maton backend"):
        build_dispatcher(direct_settings(maton_connection_arg=True), tools=tools, asgi_app=FakeClickSend())


# --- backends serve what they can run -----------------------------------------------------------------------------


async def test_other_backends_answer_the_gateway_tools_with_not_supported(
    dispatcher: Dispatcher, fake: FakeClickSend
) -> None:
    assert not {LIST, NOTIFY} & set(dispatcher.tools)
    for name, serving in ((LIST, "maton backend"), (NOTIFY, "skillboss backend")):
        result = await dispatcher.call(name, {})
        assert result["error_code"] == "NOT_SUPPORTED_BY_BACKEND", result
        assert "direct backend" in result["error"] and serving in result["error"]
    assert fake.requests == []


async def test_the_skillboss_backend_serves_only_what_it_can_run(
    on_skillboss: Dispatcher, skillboss: FakeSkillBoss
) -> None:
    assert set(on_skillboss.tools) == {NOTIFY, VERIFY, CHECK}
    result = await on_skillboss.call("CLICKSEND_CREATE_SMS_SEND", {"messages": []})
    assert result["error_code"] == "NOT_SUPPORTED_BY_BACKEND"
    assert "direct or maton or sandbox backend" in result["error"]
    assert skillboss.requests == []


def test_a_selection_the_backend_cannot_run_is_refused_at_start(tools: dict[str, CompiledTool]) -> None:
    with pytest.raises(ConfigError, match="no tools the skillboss backend can run; its toolsets: skillboss"):
        build_dispatcher(skillboss_settings(toolsets="sms"), tools=tools, asgi_app=FakeSkillBoss())


# --- SkillBoss ------------------------------------------------------------------------------------------------------


async def test_a_templated_sms_posts_the_model_and_its_inputs(
    on_skillboss: Dispatcher, skillboss: FakeSkillBoss
) -> None:
    result = await on_skillboss.call(
        NOTIFY, {"template_id": TEMPLATE_ID, "to": "+1 (201) 555-0123", "variables": {"message": "Hello"}}
    )
    assert result["successful"] is True, result
    assert result["data"]["id"].startswith("msg_") and result["response_code"] == "success"
    [request] = skillboss.requests
    assert (request.method, request.path) == ("POST", "/v1/run")
    assert request.headers["authorization"] == f"Bearer {SKILLBOSS_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "model": "prelude/notify-send",
        "inputs": {"template_id": TEMPLATE_ID, "to": US_NUMBER, "variables": {"message": "Hello"}},
    }


async def test_a_passcode_is_sent_then_checked(on_skillboss: Dispatcher, skillboss: FakeSkillBoss) -> None:
    sent = await on_skillboss.call(VERIFY, {"to": US_NUMBER})
    assert sent["successful"] is True
    assert skillboss.requests[0].json == {"model": "prelude/verify-send", "inputs": {"to": US_NUMBER}}
    wrong = await on_skillboss.call(CHECK, {"to": US_NUMBER, "code": "000000x"})
    right = await on_skillboss.call(CHECK, {"to": US_NUMBER, "code": skillboss.codes[US_NUMBER]})
    assert wrong["data"]["status"] == "failure" and right["data"]["status"] == "success"
    assert skillboss.requests[2].json == {
        "model": "prelude/verify-check",
        "inputs": {"to": US_NUMBER, "code": skillboss.codes[US_NUMBER]},
    }


async def test_an_invalid_recipient_never_reaches_skillboss(on_skillboss: Dispatcher, skillboss: FakeSkillBoss) -> None:
    for name, arguments in ((NOTIFY, {"template_id": TEMPLATE_ID, "to": "12"}), (VERIFY, {"to": "not a number"})):
        result = await on_skillboss.call(name, arguments)
        assert result["error_code"] == "INVALID_ARGUMENTS" and "to:" in result["error"]
    assert skillboss.requests == []


async def test_skillboss_sends_obey_the_allowed_countries(
    skillboss: FakeSkillBoss, tools: dict[str, CompiledTool]
) -> None:
    d = build_dispatcher(skillboss_settings(allowed_countries="AU"), tools=tools, asgi_app=skillboss)
    try:
        result = await d.call(VERIFY, {"to": US_NUMBER})
    finally:
        await d.aclose()
    assert result["error_code"] == "REFUSED" and "--allowed-countries" in result["error"]
    assert skillboss.requests == []


async def test_test_numbers_only_refuses_every_skillboss_send(
    skillboss: FakeSkillBoss, tools: dict[str, CompiledTool]
) -> None:
    d = build_dispatcher(skillboss_settings(test_numbers_only=True), tools=tools, asgi_app=skillboss)
    try:
        # ClickSend's test number is a real phone at another provider: refused, not sent.
        result = await d.call(NOTIFY, {"template_id": TEMPLATE_ID, "to": TEST_NUMBER})
    finally:
        await d.aclose()
    assert result["error_code"] == "REFUSED" and "provider is not ClickSend" in result["error"]
    assert skillboss.requests == []


def test_the_skillboss_sends_are_guarded_sends_and_the_check_is_not(tools: dict[str, CompiledTool]) -> None:
    # Guarded sends get recipient parsing, --max-recipients, --allowed-countries, --test-numbers-only, dry_run and
    # confirmation from the same code as ClickSend's sends; checking a code sends nothing to the phone.
    for name in (NOTIFY, VERIFY):
        assert tools[name].guard is not None and "dry_run" in tools[name].input_schema["properties"]
    assert not tools[CHECK].sends and "dry_run" not in tools[CHECK].input_schema["properties"]


async def test_a_skillboss_dry_run_sends_nothing_and_shows_the_request(
    on_skillboss: Dispatcher, skillboss: FakeSkillBoss
) -> None:
    result = await on_skillboss.call(NOTIFY, {"template_id": TEMPLATE_ID, "to": US_NUMBER, "dry_run": True})
    assert result["successful"] is True and result["data"]["sent"] is False
    assert result["data"]["request"] == {
        "method": "POST",
        "path": "/run",
        "json": {"model": "prelude/notify-send", "inputs": {"template_id": TEMPLATE_ID, "to": US_NUMBER}},
    }
    assert result["data"]["recipients"] == [US_NUMBER]
    assert skillboss.requests == []


@pytest.mark.parametrize(
    ("status", "body", "code", "says"),
    [
        (401, b'{"status": "error", "error": "Invalid API key"}', "UNAUTHORIZED", "SKILLBOSS_API_KEY"),
        (200, b'{"status": "error", "error": "Template not found", "code": "BAD_REQUEST"}', "BAD_REQUEST", "Template"),
        (400, b'{"status": "error", "error": "bad", "code": "INVALID_RECIPIENT"}', "BAD_REQUEST", "bad"),
        (403, b'{"status": "error", "error": "no"}', "FORBIDDEN", "not be allowed"),
        (429, b'{"status": "error", "error": "slow down"}', "RATE_LIMITED", "Wait"),
        (500, b"<html>oops</html>", "UPSTREAM_ERROR", "not JSON"),
        (200, b"not json", "UPSTREAM_ERROR", "not JSON"),
        (200, b'{"result": {}}', "UPSTREAM_ERROR", "HTTP 200"),
    ],
)
async def test_skillboss_failures_become_stable_codes(
    on_skillboss: Dispatcher, skillboss: FakeSkillBoss, status: int, body: bytes, code: str, says: str
) -> None:
    skillboss.answers.append((status, body))
    result = await on_skillboss.call(CHECK, {"to": US_NUMBER, "code": "123456"})
    assert result["successful"] is False and result["error_code"] == code, result
    assert says in result["error"] and result["http_code"] == status


async def test_a_wrong_skillboss_key_is_unauthorized_and_never_echoed(tools: dict[str, CompiledTool]) -> None:
    skillboss = FakeSkillBoss()
    wrong = "sb-wrong-key-0123456789"
    d = build_dispatcher(
        Settings(backend="skillboss", skillboss_api_key=wrong, skillboss_base_url=SKILLBOSS),
        tools=tools,
        asgi_app=skillboss,
    )
    try:
        result = await d.call(VERIFY, {"to": US_NUMBER})
    finally:
        await d.aclose()
    assert result["error_code"] == "UNAUTHORIZED"
    assert wrong not in repr(result)


# --- choosing the backend -------------------------------------------------------------------------------------------


def test_a_skillboss_key_alone_chooses_the_skillboss_backend() -> None:
    assert Settings(skillboss_api_key="k").resolved_backend() == "skillboss"


def test_the_automatic_order_is_direct_then_maton_then_skillboss() -> None:
    every = {"clicksend_username": "u", "clicksend_api_key": "k", "maton_api_key": "m", "skillboss_api_key": "s"}
    assert Settings(**every).resolved_backend() == "direct"
    assert Settings(maton_api_key="m", skillboss_api_key="s").resolved_backend() == "maton"


def test_the_skillboss_backend_needs_its_key() -> None:
    with pytest.raises(ConfigError, match="SKILLBOSS_API_KEY"):
        Settings(backend="skillboss").resolved_backend()


# --- confirmation, through the real MCP client in both eras ---------------------------------------------------------

ERAS = ["legacy", "auto"]


def answering(action: str, seen: list[str]) -> Any:
    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        seen.append(params.message)
        return types.ElicitResult(action=action, content={"confirm": True} if action == "accept" else None)  # type: ignore[arg-type]

    return elicit


async def call_through_mcp(dispatcher: Dispatcher, mode: str, elicit: Any, name: str, arguments: dict[str, Any]) -> Any:
    try:
        with anyio.fail_after(30):
            async with Client(build_server(dispatcher), mode=mode, elicitation_callback=elicit) as client:
                result = await client.call_tool(name, arguments)
    finally:
        await dispatcher.aclose()
    assert result.structured_content is not None
    return result.structured_content


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_deleting_a_connection_asks_the_person_under_confirm_sends(
    maton: FakeMaton, tools: dict[str, CompiledTool], mode: str, action: str
) -> None:
    seen: list[str] = []
    d = build_dispatcher(maton_settings(confirm_sends=True), tools=tools, asgi_app=maton)
    result = await call_through_mcp(d, mode, answering(action, seen), DELETE, {"connection_id": CONNECTION_B})
    [message] = seen
    assert CONNECTION_B in message and "loses access" in message
    if action == "accept":
        assert result["successful"] is True and maton.find(CONNECTION_B) is None
    else:
        assert result["error_code"] == "NOT_CONFIRMED" and maton.requests == []


@pytest.mark.parametrize("mode", ERAS)
async def test_a_skillboss_send_asks_the_person_with_what_it_sends(
    skillboss: FakeSkillBoss, tools: dict[str, CompiledTool], mode: str
) -> None:
    seen: list[str] = []
    d = build_dispatcher(skillboss_settings(confirm_sends=True), tools=tools, asgi_app=skillboss)
    arguments = {"template_id": TEMPLATE_ID, "to": US_NUMBER, "variables": {"code_word": "falcon"}}
    result = await call_through_mcp(d, mode, answering("decline", seen), NOTIFY, arguments)
    assert result["error_code"] == "NOT_CONFIRMED" and skillboss.requests == []
    [message] = seen
    assert US_NUMBER in message and TEMPLATE_ID in message and "falcon" in message and "skillboss" in message


async def test_discovery_answers_a_tool_of_another_backend_with_not_supported(
    skillboss: FakeSkillBoss, tools: dict[str, CompiledTool]
) -> None:
    d = build_dispatcher(skillboss_settings(), tools=tools, asgi_app=skillboss)
    try:
        with anyio.fail_after(30):
            async with Client(build_server(d, discovery=True), mode="legacy") as client:
                described = await client.call_tool("CLICKSEND_DESCRIBE_TOOL", {"name": "CLICKSEND_GET_ACCOUNT"})
                called = await client.call_tool("CLICKSEND_CALL_TOOL", {"name": "CLICKSEND_GET_ACCOUNT"})
                found = await client.call_tool("CLICKSEND_SEARCH_TOOLS", {"query": "send"})
    finally:
        await d.aclose()
    for answer in (described, called):
        assert answer.structured_content is not None
        assert answer.structured_content["error_code"] == "NOT_SUPPORTED_BY_BACKEND"
    assert found.structured_content is not None
    assert {t["toolset"] for t in found.structured_content["data"]["tools"]} == {"skillboss"}
    assert skillboss.requests == []
