"""Answers that teach and a catalogue an agent can trust: the default set, one tool per endpoint, references only to
served tools, the operator's limits where the agent reads, errors that say how to fix the call, times in any form,
smaller list results, and discovery's read-only call."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from clicksend_mcp.app import build_server, listing_bytes
from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.catalogue import MAX_DEFAULT_TOOLS, catalogue_problems, endpoint_of
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.dispatcher import Dispatcher
from clicksend_mcp.presentation import NOT_ENABLED, TOOL_REF, served
from clicksend_mcp.selection import Selection
from clicksend_mcp.times import to_unix
from conftest import direct_settings
from fake_clicksend import TEST_NUMBER, FakeClickSend

pytestmark = pytest.mark.anyio

SEND = "CLICKSEND_CREATE_SMS_SEND"


@asynccontextmanager
async def dispatching(
    tools: dict[str, CompiledTool], fake: FakeClickSend, **settings: Any
) -> AsyncIterator[Dispatcher]:
    dispatcher = build_dispatcher(direct_settings(**settings), tools=tools, asgi_app=fake)
    try:
        yield dispatcher
    finally:
        await dispatcher.aclose()


@asynccontextmanager
async def connected(tools: dict[str, CompiledTool], fake: FakeClickSend, **settings: Any) -> AsyncIterator[Client]:
    discovery = bool(settings.pop("discovery", False))
    async with dispatching(tools, fake, **settings) as dispatcher:
        with anyio.fail_after(30):
            async with Client(build_server(dispatcher, discovery=discovery)) as client:
                yield client


# --- the default selection ----------------------------------------------------------------------------------------


def test_the_default_selection_fits_clients_that_cap_tools_at_40(tools: dict[str, CompiledTool]) -> None:
    listed, _ = served(Selection.from_names(None), tools, max_recipients=100)
    assert 0 < len(listed) <= MAX_DEFAULT_TOOLS
    assert listing_bytes(listed.values(), discovery=False) <= 40_000


def test_the_default_selection_covers_everyday_tasks_and_leaves_administration_out(
    tools: dict[str, CompiledTool],
) -> None:
    listed, _ = served(Selection.from_names(None), tools)
    for needed in (
        "CLICKSEND_GET_ACCOUNT",
        SEND,
        "CLICKSEND_CREATE_SMS_TEMPLATES",
        "CLICKSEND_CREATE_MMS_SEND",
        "CLICKSEND_VOICE_SEND_POST",
        "CLICKSEND_GET_VOICE_LANG",
        "CLICKSEND_EMAIL_SEND_POST",
        "CLICKSEND_GET_NUMBERS_SEARCH",
        "CLICKSEND_GET_COUNTRIES",
    ):
        assert needed in listed
    for admin in ("CLICKSEND_ACCOUNT_POST", "CLICKSEND_PUT_FORGOT_PASSWORD", "CLICKSEND_PUT_FORGOT_USERNAME"):
        assert admin not in listed


def test_more_than_40_default_tools_do_not_load(tools: dict[str, CompiledTool]) -> None:
    specs = [t.spec.model_copy(update={"default": True}) if t.spec.alias_of is None else t.spec for t in tools.values()]
    assert any("at most 40 may be" in p for p in catalogue_problems(specs))


# --- one tool per endpoint ----------------------------------------------------------------------------------------


def test_no_two_canonical_tools_share_an_endpoint(tools: dict[str, CompiledTool]) -> None:
    seen: dict[tuple[str, ...], str] = {}
    for tool in tools.values():
        if tool.spec.alias_of is None:
            endpoint = endpoint_of(tool.spec)
            assert endpoint not in seen, f"{tool.name} and {seen[endpoint]} both reach {endpoint}"
            seen[endpoint] = tool.name


def test_every_alias_names_a_canonical_tool_with_the_same_endpoint_and_inputs(tools: dict[str, CompiledTool]) -> None:
    aliases = [t for t in tools.values() if t.spec.alias_of]
    assert len(aliases) >= 13
    for alias in aliases:
        canonical = tools[alias.spec.alias_of]  # type: ignore[index]
        assert canonical.spec.alias_of is None
        assert (canonical.spec.http.method, canonical.spec.http.path) == (alias.spec.http.method, alias.spec.http.path)
        assert {p.name for p in alias.spec.params} <= {p.name for p in canonical.spec.params}
        assert alias.spec.description.startswith(f"Same as {canonical.name}")


def test_a_second_canonical_tool_on_one_endpoint_does_not_load(tools: dict[str, CompiledTool]) -> None:
    specs = [t.spec for t in tools.values()]
    twin = tools["CLICKSEND_SMS_HISTORY_GET"].spec.model_copy(update={"alias_of": None})
    problems = catalogue_problems([s for s in specs if s.name != twin.name] + [twin])
    assert any("all reach GET /sms/history" in p for p in problems)


def test_an_alias_of_another_endpoint_does_not_load(tools: dict[str, CompiledTool]) -> None:
    specs = [t.spec for t in tools.values() if t.name != "CLICKSEND_SMS_HISTORY_GET"]
    wrong = tools["CLICKSEND_SMS_HISTORY_GET"].spec.model_copy(update={"alias_of": "CLICKSEND_GET_ACCOUNT"})
    assert any("reaches GET /account" in p for p in catalogue_problems([*specs, wrong]))


def test_aliases_are_listed_only_when_asked_for_and_callable_by_name(tools: dict[str, CompiledTool]) -> None:
    default_listed, default_callable = served(Selection.from_names(None), tools)
    assert "CLICKSEND_SMS_HISTORY_GET" not in default_listed
    assert "CLICKSEND_SMS_HISTORY_GET" in default_callable
    sms_listed, _ = served(Selection.from_names("sms"), tools)
    assert "CLICKSEND_SMS_HISTORY_GET" not in sms_listed and "CLICKSEND_GET_SMS_HISTORY" in sms_listed
    for toolsets in ("all", "sms,aliases"):
        listed, _ = served(Selection.from_names(toolsets), tools)
        assert "CLICKSEND_SMS_HISTORY_GET" in listed


async def test_an_alias_answers_by_its_old_name(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake, toolsets=None) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("CLICKSEND_SMS_HISTORY_GET", {})
    assert "CLICKSEND_SMS_HISTORY_GET" not in names
    assert result.structured_content is not None and result.structured_content["successful"] is True


# --- descriptions name only served tools ----------------------------------------------------------------------------


def _texts(tool: CompiledTool) -> list[str]:
    found = [tool.spec.description]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "description" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tool.input_schema)
    return found


@pytest.mark.parametrize("toolsets", [None, "sms", "contacts,templates", "mms,voice", "email", "all"])
def test_no_description_sends_the_agent_to_a_tool_it_cannot_call(
    tools: dict[str, CompiledTool], toolsets: str | None
) -> None:
    listed, callable_tools = served(Selection.from_names(toolsets), tools)
    for tool in listed.values():
        for text in _texts(tool):
            for match in TOOL_REF.finditer(text):
                name = match.group(0)
                if name in listed:
                    continue
                assert name not in callable_tools, f"{tool.name} names the alias {name}, not its canonical tool"
                assert text[match.end() :].startswith(f" {NOT_ENABLED}"), f"{tool.name} names unserved {name}"


def test_a_reference_to_an_unserved_tool_says_how_to_enable_it(tools: dict[str, CompiledTool]) -> None:
    sms = {n: t for n, t in tools.items() if t.spec.toolset == "sms" and not t.spec.alias_of}
    raw = {n for t in sms.values() for text in _texts(t) for n in TOOL_REF.findall(text)}
    unserved = raw - set(sms)
    assert unserved, "the sms specs name tools of other toolsets"
    listed, _ = served(Selection.from_names("sms"), tools)
    for tool in listed.values():
        for text in _texts(tool):
            for name in unserved:
                assert f"{name} {NOT_ENABLED}" in text or name not in text


# --- limits where the agent reads -----------------------------------------------------------------------------------


def test_the_operator_recipient_limit_is_in_send_schemas_and_descriptions(tools: dict[str, CompiledTool]) -> None:
    listed, _ = served(Selection.from_names(None), tools, max_recipients=7)
    send = listed[SEND]
    assert send.input_schema["properties"]["messages"]["maxItems"] == 7
    assert "at most 7 recipients per call" in send.spec.description
    assert not any(re.search(r"\b1,?000\b", text) for text in _texts(send))
    voice = listed["CLICKSEND_VOICE_SEND_POST"]
    assert voice.input_schema["properties"]["messages"]["maxItems"] == 7


async def test_a_send_over_the_limit_is_refused_by_the_guardrails_naming_the_limit(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with dispatching(tools, fake, max_recipients=2) as dispatcher:
        numbers = ["+61411111111", "+61422222222", "+61433333333"]
        result = await dispatcher.call(SEND, {"messages": [{"to": n, "body": "hi"} for n in numbers]})
    assert result["error_code"] == "REFUSED"
    assert "reaches 3 recipients" in result["error"] and "at most 2" in result["error"]
    assert fake.requests == []


async def test_a_list_send_over_the_limit_names_the_list_size(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with dispatching(tools, fake, max_recipients=1) as dispatcher:
        lists = await dispatcher.call("CLICKSEND_GET_LISTS", {})
        list_id = next(x["list_id"] for x in lists["data"]["data"] if x["list_name"] == "Sandbox Contacts")
        result = await dispatcher.call(SEND, {"messages": [{"list_id": list_id, "body": "hi"}]})
    assert result["error_code"] == "REFUSED"
    assert f"contact list {list_id} (messages[0].list_id) has 2 contacts" in result["error"]
    assert "at most 1 per call (--max-recipients)" in result["error"]


# --- errors that teach ----------------------------------------------------------------------------------------------


async def test_an_unknown_tool_suggests_the_closest_names(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake, toolsets=None) as client:
        with pytest.raises(MCPError, match="did you mean CLICKSEND_GET_ACCOUNT"):
            await client.call_tool("CLICKSEND_GET_ACOUNT", {})


async def test_discovery_answers_unknown_tool_with_suggestions(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with connected(tools, fake, toolsets=None, discovery=True) as client:
        result = await client.call_tool("CLICKSEND_CALL_TOOL", {"name": "get_account"})
    assert result.structured_content is not None
    assert result.structured_content["error_code"] == "UNKNOWN_TOOL"
    assert "CLICKSEND_GET_ACCOUNT" in result.structured_content["error"]


async def test_a_value_that_should_be_an_object_shows_its_fields(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with dispatching(tools, fake) as dispatcher:
        email = {"to": [{"email": "test1@test.com"}], "from": "shop@example.com", "body": "hi"}
        nested = await dispatcher.call("CLICKSEND_EMAIL_SEND_POST", email)
        whole = await dispatcher.call("CLICKSEND_GET_ACCOUNT", ["not", "an", "object"])  # type: ignore[arg-type]
    assert "from: expected an object with fields email_address_id, name (required: email_address_id)" in nested["error"]
    assert whole["error_code"] == "INVALID_ARGUMENTS" and "arguments: expected an object" in whole["error"]
    assert fake.requests == []


async def test_an_invalid_lang_points_at_the_language_list(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with dispatching(tools, fake) as dispatcher:
        call = {"to": TEST_NUMBER, "body": "hello", "lang": "xx-yy", "voice": "female"}
        result = await dispatcher.call("CLICKSEND_VOICE_SEND_POST", {"messages": [call]})
    assert result["successful"] is False
    assert "INVALID_LANG" in result["error"] and "CLICKSEND_GET_VOICE_LANG" in result["error"]
    # ClickSend's envelope said SUCCESS; a failed result never carries its success message.
    assert result["response_msg"] is None


# --- times ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2026-12-01T09:00:00+11:00", 1796076000),
        ("2026-12-01T09:00:00Z", 1796115600),
        ("2026-12-01 09:00 Australia/Sydney", 1796076000),
        ("2026-07-01 09:00 Australia/Sydney", 1782860400),
        ("1764540000", 1764540000),
        (1764540000, 1764540000),
    ],
)
def test_times_are_read_in_every_documented_form(text: str | int, seconds: int) -> None:
    assert to_unix(text, "schedule") == seconds


@pytest.mark.parametrize("text", ["2026-12-01T09:00:00", "tomorrow", "2026-12-01 09:00 Mars/Olympus", "", "²"])
def test_a_time_without_a_zone_or_in_no_known_form_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="schedule: expected Unix seconds, ISO 8601 with an offset"):
        to_unix(text, "schedule")


async def test_a_scheduled_send_says_the_utc_time_it_used(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with dispatching(tools, fake) as dispatcher:
        message = {"to": TEST_NUMBER, "body": "hi", "schedule": "2099-12-01 09:00 Australia/Sydney"}
        result = await dispatcher.call(SEND, {"messages": [message]})
    assert result["successful"] is True
    assert result["times_used"] == {"messages[0].schedule": "2099-11-30T22:00:00Z (4099759200)"}
    assert fake.sent("POST", "/v3/sms/send")[0].json["messages"][0]["schedule"] == 4099759200


async def test_date_before_inclusive_marks_the_message_at_that_time(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with dispatching(tools, fake) as dispatcher:
        result = await dispatcher.call("CLICKSEND_SMS_INBOUND_READ_PUT", {"date_before_inclusive": 1764540000})
        both = await dispatcher.call(
            "CLICKSEND_SMS_INBOUND_READ_PUT", {"date_before": 1, "date_before_inclusive": 1764540000}
        )
    assert result["successful"] is True
    assert fake.sent("PUT", "/v3/sms/inbound-read")[0].json == {"date_before": 1764540001}
    assert both["error_code"] == "INVALID_ARGUMENTS" and "not both" in both["error"]


def test_mark_read_tools_say_date_before_is_exclusive(tools: dict[str, CompiledTool]) -> None:
    for name in ("CLICKSEND_SMS_INBOUND_READ_PUT", "CLICKSEND_MARK_SMS_RECEIPTS", "CLICKSEND_MARK_VOICE_RECEIPTS_READ"):
        properties = tools[name].input_schema["properties"]
        assert "Exclusive" in properties["date_before"]["description"]
        assert "date_before_inclusive" in properties


# --- smaller results ------------------------------------------------------------------------------------------------


async def test_list_results_drop_empty_fields_unless_asked_and_keep_only_named_fields(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with dispatching(tools, fake) as dispatcher:
        lists = await dispatcher.call("CLICKSEND_GET_LISTS", {})
        list_id = next(x["list_id"] for x in lists["data"]["data"] if x["list_name"] == "Sandbox Contacts")
        lean = await dispatcher.call("CLICKSEND_GET_LISTS_CONTACTS", {"list_id": list_id})
        full = await dispatcher.call("CLICKSEND_GET_LISTS_CONTACTS", {"list_id": list_id, "keep_empty": True})
        picked = await dispatcher.call(
            "CLICKSEND_GET_LISTS_CONTACTS", {"list_id": list_id, "fields": ["first_name", "nickname"]}
        )
        one = await dispatcher.call("CLICKSEND_GET_ACCOUNT", {"fields": ["balance"]})
    assert "fax_number" in full["data"]["data"][0] and full["data"]["data"][0]["fax_number"] is None
    assert all(v not in (None, "", [], {}) for item in lean["data"]["data"] for v in item.values())
    assert [item for item in picked["data"]["data"]] == [{"first_name": "Ada"}, {"first_name": "Alan"}]
    assert any("nickname not in this answer" in w for w in picked["warnings"])
    assert set(one["data"]) == {"balance"}


# --- merge fields ---------------------------------------------------------------------------------------------------


async def test_the_campaign_quote_and_the_list_send_agree_on_merged_text(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    body = "Hello {first_name} " + "x" * 150  # Ada and Alan make it two parts each once merged
    async with dispatching(tools, fake) as dispatcher:
        lists = await dispatcher.call("CLICKSEND_GET_LISTS", {})
        list_id = next(x["list_id"] for x in lists["data"]["data"] if x["list_name"] == "Sandbox Contacts")
        campaign = await dispatcher.call(
            "CLICKSEND_CALCULATE_SMS_CAMPAIGNS_PRICE", {"list_id": list_id, "name": "c", "body": body}
        )
        sent = await dispatcher.call(SEND, {"messages": [{"list_id": list_id, "body": body}]})
    assert sent["successful"] is True
    assert [m["body"].split(" x")[0] for m in sent["data"]["messages"]] == ["Hello Ada", "Hello Alan"]
    assert float(campaign["data"]["total_price"]) == pytest.approx(sent["data"]["total_price"])


def test_every_send_to_a_list_documents_its_placeholders(tools: dict[str, CompiledTool]) -> None:
    for name in (SEND, "CLICKSEND_CREATE_MMS_SEND", "CLICKSEND_VOICE_SEND_POST"):
        body = tools[name].input_schema["properties"]["messages"]["items"]["properties"]["body"]["description"]
        assert "{first_name}" in body and "{custom_1}" in body


# --- discovery ------------------------------------------------------------------------------------------------------


async def test_the_read_only_call_tool_is_read_only_and_refuses_writes(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with connected(tools, fake, discovery=True) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        read = await client.call_tool("CLICKSEND_CALL_READ_ONLY_TOOL", {"name": "CLICKSEND_GET_ACCOUNT"})
        write = await client.call_tool(
            "CLICKSEND_CALL_READ_ONLY_TOOL",
            {"name": SEND, "arguments": {"messages": [{"to": TEST_NUMBER, "body": "hi"}]}},
        )
    annotations = listed["CLICKSEND_CALL_READ_ONLY_TOOL"].annotations
    assert annotations is not None and annotations.read_only_hint is True and annotations.destructive_hint is False
    assert read.structured_content is not None and read.structured_content["successful"] is True
    assert write.structured_content is not None and write.structured_content["error_code"] == "REFUSED"
    assert fake.sent("POST", "/v3/sms/send") == []


async def test_search_scores_results_and_folds_aliases_into_their_canonical_tool(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with connected(tools, fake, discovery=True) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        found = await client.call_tool("CLICKSEND_SEARCH_TOOLS", {"query": "sms history", "limit": 50})
    assert "description" in listed["CLICKSEND_SEARCH_TOOLS"].input_schema["properties"]["limit"]
    assert found.structured_content is not None
    results = found.structured_content["data"]["tools"]
    names = [r["name"] for r in results]
    assert "CLICKSEND_SMS_HISTORY_GET" not in names
    history = next(r for r in results if r["name"] == "CLICKSEND_GET_SMS_HISTORY")
    assert history["aliases"] == ["CLICKSEND_SMS_HISTORY_GET"]
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 1


def test_a_unix_time_marker_on_a_string_does_not_load(tools: dict[str, CompiledTool]) -> None:
    from pydantic import ValidationError

    spec = tools["CLICKSEND_GET_SMS_HISTORY"].spec.model_dump(by_alias=True)
    spec["params"][1]["schema"] = {"type": "string", "format": "unix-time"}
    with pytest.raises(ValidationError, match="format: unix-time marks integer Unix seconds"):
        type(tools["CLICKSEND_GET_SMS_HISTORY"].spec).model_validate(spec)


def test_the_default_selection_fits_40_kb_with_the_maton_backends_own_tools(tools: dict[str, CompiledTool]) -> None:
    from clicksend_mcp.assembly import selection_of
    from clicksend_mcp.settings import Settings

    settings = Settings(backend="maton", maton_api_key="maton-test-key-7c1d9e0f44aa")
    listed, _ = served(
        selection_of(settings, "maton"), tools, max_recipients=100, runs=lambda t: t.spec.api != "skillboss"
    )
    assert any(t.spec.toolset == "maton" for t in listed.values())
    assert len(listed) <= MAX_DEFAULT_TOOLS
    assert listing_bytes(listed.values(), discovery=False) <= 40_000


def test_a_canonical_tool_does_not_describe_its_alias(tools: dict[str, CompiledTool]) -> None:
    for alias in (t for t in tools.values() if t.spec.alias_of):
        canonical = tools[alias.spec.alias_of]  # type: ignore[index]
        assert alias.name not in canonical.spec.description, f"{canonical.name} still names {alias.name}"
