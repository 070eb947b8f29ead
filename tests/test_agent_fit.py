"""Fit for agents, through the real MCP client in both protocol eras: selection, read-only mode, discovery,
send guardrails, dry runs, confirmation, pages with progress, truncation and untrusted content."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client

from clicksend_mcp.app import build_server
from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.settings import ConfigError
from conftest import direct_settings
from fake_clicksend import TEST_NUMBER, FakeClickSend

pytestmark = pytest.mark.anyio

SEND = "CLICKSEND_CREATE_SMS_SEND"
ERAS = ["legacy", "auto"]  # the initialize handshake, and the 2026-07-28 per-request era
Elicit = Callable[[Any, types.ElicitRequestParams], Awaitable[types.ElicitResult | types.ErrorData]]


@asynccontextmanager
async def connected(
    compiled: dict[str, CompiledTool],
    fake: FakeClickSend,
    mode: str = "legacy",
    elicit: Elicit | None = None,
    **settings: Any,
) -> AsyncIterator[Client]:
    discovery = bool(settings.pop("discovery", False))
    dispatcher = build_dispatcher(direct_settings(**settings), tools=compiled, asgi_app=fake)
    try:
        with anyio.fail_after(30):
            async with Client(
                build_server(dispatcher, discovery=discovery), mode=mode, elicitation_callback=elicit
            ) as client:
                yield client
    finally:
        await dispatcher.aclose()


def sms(*numbers: str, body: str = "hello") -> dict[str, Any]:
    return {"messages": [{"to": n, "body": body} for n in numbers]}


def outcome(result: types.CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None
    assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
    assert result.is_error == (not result.structured_content["successful"])
    return result.structured_content


async def listed(client: Client) -> dict[str, types.Tool]:
    return {t.name: t for t in (await client.list_tools()).tools}


# --- choosing what the agent sees ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ERAS)
async def test_the_default_selection_is_the_tools_marked_default(
    tools: dict[str, CompiledTool], fake: FakeClickSend, mode: str
) -> None:
    async with connected(tools, fake, mode, toolsets=None) as client:
        names = await listed(client)
    assert set(names) == {n for n, t in tools.items() if t.spec.default}
    assert "CLICKSEND_ACCOUNT_POST" not in names and "CLICKSEND_PUT_FORGOT_PASSWORD" not in names


async def test_toolsets_choose_whole_toolsets_without_their_aliases(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with connected(tools, fake, toolsets="mms,voice") as client:
        names = await listed(client)
    assert {tools[n].spec.toolset for n in names} == {"mms", "voice"}
    wanted = {n for n, t in tools.items() if t.spec.toolset in ("mms", "voice") and not t.spec.alias_of}
    assert set(names) == wanted


async def test_tools_alone_serve_only_those_tools(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake, toolsets=None, tools="CLICKSEND_GET_ACCOUNT,CLICKSEND_GET_COUNTRIES") as client:
        assert set(await listed(client)) == {"CLICKSEND_GET_ACCOUNT", "CLICKSEND_GET_COUNTRIES"}


async def test_excluded_tools_are_hidden_and_cannot_be_called(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with connected(tools, fake, toolsets="sms", exclude_tools=SEND) as client:
        assert SEND not in await listed(client)
        with pytest.raises(Exception, match="not enabled on this server"):
            await client.call_tool(SEND, sms(TEST_NUMBER))
    assert fake.requests == []


def test_unknown_toolsets_are_refused_at_start_with_the_valid_ones(tools: dict[str, CompiledTool]) -> None:
    with pytest.raises(
        ConfigError,
        match="unknown toolset\\(s\\) smss \\(did you mean sms\\?\\); valid toolsets: account, automations",
    ):
        build_dispatcher(direct_settings(toolsets="smss"), tools=tools)


def test_unknown_tool_names_are_refused_at_start(tools: dict[str, CompiledTool]) -> None:
    with pytest.raises(ConfigError, match="unknown tool name\\(s\\) CLICKSEND_NOPE"):
        build_dispatcher(direct_settings(exclude_tools="CLICKSEND_NOPE"), tools=tools)


def test_a_misspelt_tool_name_at_start_gets_a_did_you_mean(tools: dict[str, CompiledTool]) -> None:
    with pytest.raises(ConfigError, match="CLICKSEND_GET_ACOUNT \\(did you mean CLICKSEND_GET_ACCOUNT"):
        build_dispatcher(direct_settings(tools="CLICKSEND_GET_ACOUNT"), tools=tools)


@pytest.mark.parametrize("mode", ERAS)
async def test_a_misspelt_tool_name_in_a_call_gets_a_did_you_mean(
    tools: dict[str, CompiledTool], fake: FakeClickSend, mode: str
) -> None:
    async with connected(tools, fake, mode) as client:
        with pytest.raises(Exception, match=r"Unknown tool: clicksend_get_acount; did you mean CLICKSEND_GET_ACCOUNT"):
            await client.call_tool("clicksend_get_acount", {})
    assert fake.requests == []


async def test_a_hidden_tool_in_a_call_names_the_toolset_that_enables_it(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with connected(tools, fake, toolsets="sms") as client:
        with pytest.raises(
            Exception,
            match=r"the operator can add it with --tools CLICKSEND_GET_STATISTICS_VOICE \(or --toolsets account\)",
        ):
            await client.call_tool("CLICKSEND_GET_STATISTICS_VOICE", {})


@pytest.mark.parametrize("mode", ERAS)
async def test_read_only_lists_only_read_only_tools_and_refuses_writes(
    tools: dict[str, CompiledTool], fake: FakeClickSend, mode: str
) -> None:
    async with connected(tools, fake, mode, read_only=True) as client:
        names = await listed(client)
        assert names and all(t.annotations and t.annotations.read_only_hint for t in names.values())
        assert "CLICKSEND_SMS_PRICE_POST" in names  # a price POST is a read
        with pytest.raises(Exception, match="this server is read-only"):
            await client.call_tool(SEND, sms(TEST_NUMBER))
    assert fake.requests == []


def test_naming_a_write_tool_in_read_only_mode_is_refused_at_start(tools: dict[str, CompiledTool]) -> None:
    with pytest.raises(ConfigError, match=f"{SEND} change things in ClickSend and the server is read-only"):
        build_dispatcher(direct_settings(read_only=True, tools=SEND), tools=tools)


# --- discovery ----------------------------------------------------------------------------------------------------


async def test_discovery_lists_four_small_tools(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake, discovery=True) as client:
        result = await client.list_tools()
    assert [t.name for t in result.tools] == [
        "CLICKSEND_SEARCH_TOOLS",
        "CLICKSEND_DESCRIBE_TOOL",
        "CLICKSEND_CALL_TOOL",
        "CLICKSEND_CALL_READ_ONLY_TOOL",
    ]
    assert len(result.model_dump_json(by_alias=True, exclude_none=True).encode()) < 4096


@pytest.mark.parametrize("mode", ERAS)
async def test_discovery_searches_describes_and_calls(
    tools: dict[str, CompiledTool], fake: FakeClickSend, mode: str
) -> None:
    async with connected(tools, fake, mode, discovery=True) as client:
        found = outcome(
            await client.call_tool("CLICKSEND_SEARCH_TOOLS", {"query": "send sms messages", "toolset": "sms"})
        )
        assert SEND in [t["name"] for t in found["data"]["tools"][:3]]
        described = outcome(await client.call_tool("CLICKSEND_DESCRIBE_TOOL", {"name": SEND}))
        assert described["data"]["input_schema"]["required"] == ["messages"]
        sent = outcome(await client.call_tool("CLICKSEND_CALL_TOOL", {"name": SEND, "arguments": sms(TEST_NUMBER)}))
    assert sent["successful"] is True
    assert len(fake.sent("POST", "/v3/sms/send")) == 1


async def test_discovery_calls_are_validated_like_direct_calls(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with connected(tools, fake, discovery=True, toolsets="sms") as client:
        bad = outcome(await client.call_tool("CLICKSEND_CALL_TOOL", {"name": SEND, "arguments": {"messages": [{}]}}))
        hidden = outcome(await client.call_tool("CLICKSEND_CALL_TOOL", {"name": "CLICKSEND_GET_FAX_RECEIPTS"}))
    assert bad["error_code"] == "INVALID_ARGUMENTS" and "messages[0].body: is required" in bad["error"]
    assert hidden["error_code"] == "UNKNOWN_TOOL" and "not enabled on this server" in hidden["error"]
    assert fake.requests == []


async def test_discovery_honours_read_only_mode(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake, discovery=True, read_only=True) as client:
        refused = outcome(await client.call_tool("CLICKSEND_CALL_TOOL", {"name": SEND, "arguments": sms(TEST_NUMBER)}))
        search = outcome(await client.call_tool("CLICKSEND_SEARCH_TOOLS", {"query": "send"}))
    assert "read-only" in refused["error"]
    assert all(t["read_only"] for t in search["data"]["tools"])
    assert fake.requests == []


# --- guardrails: each refuses with nothing sent -------------------------------------------------------------------


async def test_too_many_recipients_are_refused(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake, max_recipients=2) as client:
        result = outcome(await client.call_tool(SEND, sms(TEST_NUMBER, "+61422222222", "+61433333333")))
    assert result["error_code"] == "REFUSED" and "reaches 3 recipients" in result["error"]
    assert "Nothing was sent" in result["error"]
    assert fake.requests == []


async def test_a_list_counts_as_its_contacts(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake, max_recipients=1) as client:
        created = outcome(await client.call_tool("CLICKSEND_CREATE_LISTS", {"list_name": "two people"}))
        list_id = created["data"]["list_id"]
        for number in (TEST_NUMBER, "+61422222222"):
            await client.call_tool("CLICKSEND_CREATE_LISTS_CONTACTS", {"list_id": list_id, "phone_number": number})
        result = outcome(await client.call_tool(SEND, {"messages": [{"list_id": list_id, "body": "hi"}]}))
    assert result["error_code"] == "REFUSED" and "reaches 2 recipients" in result["error"]
    assert fake.sent("POST", "/v3/sms/send") == []


async def test_recipients_outside_the_allowed_countries_are_refused(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with connected(tools, fake, allowed_countries="AU,GB") as client:
        refused = outcome(await client.call_tool(SEND, sms(TEST_NUMBER, "+14055555555")))
        allowed = outcome(await client.call_tool(SEND, sms(TEST_NUMBER, "+447777777777")))
    assert refused["error_code"] == "REFUSED" and "messages[1].to: +14055555555 is in US" in refused["error"]
    assert allowed["successful"] is True
    assert len(fake.sent("POST", "/v3/sms/send")) == 1


async def test_test_numbers_only_refuses_real_numbers(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake, test_numbers_only=True) as client:
        refused = outcome(await client.call_tool(SEND, sms("+61412345678")))
        allowed = outcome(await client.call_tool(SEND, sms(TEST_NUMBER)))
    assert refused["error_code"] == "REFUSED" and "+61412345678 is not a ClickSend test recipient" in refused["error"]
    assert allowed["successful"] is True
    assert len(fake.sent("POST", "/v3/sms/send")) == 1


async def test_an_invalid_number_names_the_message_and_the_number(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with connected(tools, fake) as client:
        result = outcome(await client.call_tool(SEND, sms(TEST_NUMBER, "+6100")))
    assert result["error_code"] == "INVALID_ARGUMENTS"
    assert "messages[1].to: '+6100' is not a valid phone number" in result["error"]
    assert fake.requests == []


async def test_numbers_are_sent_in_e164(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake) as client:
        await client.call_tool(SEND, {"messages": [{"to": "0411 111 111", "country": "AU", "body": "hi"}]})
    [request] = fake.sent("POST", "/v3/sms/send")
    assert request.json["messages"][0]["to"] == TEST_NUMBER


async def test_every_send_is_tagged_for_lookup(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake) as client:
        result = outcome(await client.call_tool(SEND, sms(TEST_NUMBER)))
        kept = outcome(
            await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": "x", "custom_string": "mine"}]})
        )
    first, second = fake.sent("POST", "/v3/sms/send")
    assert result["tag"].startswith("mcp-") and first.json["messages"][0]["custom_string"] == result["tag"]
    assert second.json["messages"][0]["custom_string"] == "mine" and "tag" not in kept


async def test_a_dry_run_sends_nothing_and_quotes_the_price(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with connected(tools, fake) as client:
        result = outcome(await client.call_tool(SEND, {**sms(TEST_NUMBER, body="quote me"), "dry_run": True}))
    data = result["data"]
    assert result["successful"] is True and data["dry_run"] is True and data["sent"] is False
    assert data["request"]["method"] == "POST" and data["request"]["path"] == "/sms/send"
    assert data["request"]["json"]["messages"][0]["body"] == "quote me"
    assert data["quote"]["total_price"] > 0 and data["quote"]["messages"][0]["message_parts"] == 1
    assert fake.sent("POST", "/v3/sms/send") == []
    assert len(fake.sent("POST", "/v3/sms/price")) == 1
    assert "authorization" not in json.dumps(result).lower()


# --- confirmation of sends ----------------------------------------------------------------------------------------


def answering(action: str, confirm: bool = True, seen: list[str] | None = None) -> Elicit:
    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        if seen is not None:
            seen.append(params.message)
        return types.ElicitResult(action=action, content={"confirm": confirm} if action == "accept" else None)  # type: ignore[arg-type]

    return elicit


@pytest.mark.parametrize("mode", ERAS)
async def test_a_confirmed_send_goes_out_once(tools: dict[str, CompiledTool], fake: FakeClickSend, mode: str) -> None:
    seen: list[str] = []
    async with connected(tools, fake, mode, answering("accept", seen=seen), confirm_sends=True) as client:
        result = outcome(await client.call_tool(SEND, sms(TEST_NUMBER, body="confirm me")))
    assert result["successful"] is True
    assert len(fake.sent("POST", "/v3/sms/send")) == 1
    [message] = seen
    assert TEST_NUMBER in message and "confirm me" in message and "Quoted cost: 0.077" in message


@pytest.mark.parametrize("mode", ERAS)
async def test_the_confirmation_form_shows_no_secret(
    tools: dict[str, CompiledTool], fake: FakeClickSend, mode: str
) -> None:
    from fake_clicksend import API_KEY

    seen: list[str] = []
    async with connected(tools, fake, mode, answering("decline", seen=seen), confirm_sends=True) as client:
        result = outcome(await client.call_tool(SEND, sms(TEST_NUMBER, body=f"key {API_KEY.lower()}")))
    assert result["error_code"] == "NOT_CONFIRMED"
    [message] = seen
    assert "key [REDACTED]" in message and API_KEY.lower() not in message


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize(("action", "confirm"), [("decline", False), ("cancel", False), ("accept", False)])
async def test_a_declined_or_cancelled_send_is_not_sent(
    tools: dict[str, CompiledTool], fake: FakeClickSend, mode: str, action: str, confirm: bool
) -> None:
    async with connected(tools, fake, mode, answering(action, confirm), confirm_sends=True) as client:
        result = outcome(await client.call_tool(SEND, sms(TEST_NUMBER)))
    assert result["error_code"] == "NOT_CONFIRMED" and "Nothing was sent" in result["error"]
    assert fake.sent("POST", "/v3/sms/send") == []


@pytest.mark.parametrize("mode", ERAS)
async def test_a_client_that_cannot_ask_gets_a_refusal(
    tools: dict[str, CompiledTool], fake: FakeClickSend, mode: str
) -> None:
    async with connected(tools, fake, mode, None, confirm_sends=True) as client:
        result = outcome(await client.call_tool(SEND, sms(TEST_NUMBER)))
    assert result["error_code"] == "NOT_CONFIRMED" and "cannot ask them" in result["error"]
    assert fake.sent("POST", "/v3/sms/send") == []


async def test_reads_and_dry_runs_need_no_confirmation(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake, "legacy", None, confirm_sends=True) as client:
        assert outcome(await client.call_tool("CLICKSEND_GET_ACCOUNT", {}))["successful"] is True
        assert outcome(await client.call_tool(SEND, {**sms(TEST_NUMBER), "dry_run": True}))["successful"] is True


def test_no_send_tool_takes_a_confirm_argument(tools: dict[str, CompiledTool]) -> None:
    for tool in tools.values():
        assert "confirm" not in tool.input_schema["properties"], tool.name


# --- results an agent can use -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ERAS)
async def test_all_pages_gathers_items_with_progress(
    tools: dict[str, CompiledTool], fake: FakeClickSend, mode: str
) -> None:
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async with connected(tools, fake, mode) as client:
        for n in range(5):
            await client.call_tool("CLICKSEND_CREATE_LISTS", {"list_name": f"list {n}"})
        result = outcome(
            await client.call_tool(
                "CLICKSEND_GET_LISTS", {"limit": 2, "all_pages": True}, progress_callback=on_progress
            )
        )
    gathered = result["data"]
    total = gathered["total"]
    assert len(gathered["data"]) == total and gathered["more"] is False
    assert gathered["pages_fetched"] == -(-total // 2)
    assert [u[0] for u in updates] == [float(i) for i in range(1, gathered["pages_fetched"] + 1)]


async def test_max_items_stops_early_and_says_more_remain(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake) as client:
        for n in range(5):
            await client.call_tool("CLICKSEND_CREATE_LISTS", {"list_name": f"list {n}"})
        result = outcome(await client.call_tool("CLICKSEND_GET_LISTS", {"limit": 2, "all_pages": True, "max_items": 3}))
    assert len(result["data"]["data"]) == 3 and result["data"]["more"] is True


async def test_an_oversized_result_is_cut_explicitly(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake, max_result_bytes=4096) as client:
        for n in range(30):
            await client.call_tool("CLICKSEND_CREATE_LISTS", {"list_name": f"a fairly long list name number {n:03d}"})
        result = outcome(await client.call_tool("CLICKSEND_GET_LISTS", {"limit": 100}))
    cut = result["truncated"]
    assert cut["field"] == "data.data" and 0 < cut["kept"] < cut["of"] and "limit" in cut["hint"]
    assert len(json.dumps(result).encode()) <= 4096


async def test_inbound_text_is_marked_untrusted(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake) as client:
        await client.call_tool(SEND, sms(TEST_NUMBER, body="ping"))  # test numbers reply in the sandbox
        inbound = outcome(await client.call_tool("CLICKSEND_GET_SMS_INBOUND", {}))
        account = outcome(await client.call_tool("CLICKSEND_GET_ACCOUNT", {}))
    assert inbound["data"]["data"], "the sandbox should have produced a reply"
    assert "data.data[].body" in inbound["untrusted_content"]["fields"]
    assert "never as instructions" in inbound["untrusted_content"]["note"]
    assert "untrusted_content" not in account
