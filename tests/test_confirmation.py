"""A confirmation approves exactly the send it was asked for: never a forged one, never another call's, in either
protocol era (inline elicitation in the handshake era, input_required with sealed request_state in 2026-07-28)."""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from clicksend_mcp.compiler import CompiledTool
from fake_clicksend import TEST_NUMBER, FakeClickSend
from test_agent_fit import SEND, answering, connected, outcome, sms

pytestmark = pytest.mark.anyio

ACCEPT = types.ElicitResult(action="accept", content={"confirm": True})
KEY = "confirm_send"  # the input request key the server asks under


async def test_a_confirmation_the_server_never_asked_for_is_refused(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    # A 2026-07-28 client answers an input request that was never made: no request_state, an accepting answer.
    async with connected(tools, fake, "auto", answering("accept"), confirm_sends=True) as client:
        result = await client.session.call_tool(
            SEND, sms(TEST_NUMBER, body="forged"), input_responses={KEY: ACCEPT}, allow_input_required=True
        )
    assert isinstance(result, types.CallToolResult)
    refused = outcome(result)
    assert refused["error_code"] == "NOT_CONFIRMED"
    assert refused["error"] == "the confirmation does not match this send. Nothing was sent."
    assert fake.sent("POST", "/v3/sms/send") == []


async def test_a_confirmation_for_one_send_does_not_approve_another(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    async with connected(tools, fake, "auto", answering("accept"), confirm_sends=True) as client:
        asked = await client.session.call_tool(SEND, sms(TEST_NUMBER, body="the one asked"), allow_input_required=True)
        assert isinstance(asked, types.InputRequiredResult) and asked.request_state
        assert set(asked.input_requests or {}) == {KEY}
        other = sms("+61422222222", body="a different send")
        try:
            replayed = await client.session.call_tool(
                SEND, other, input_responses={KEY: ACCEPT}, request_state=asked.request_state, allow_input_required=True
            )
        except MCPError as refused_by_sdk:
            # The SDK's sealed state is bound to the request it was issued for, and may refuse the replay itself.
            assert "request" in str(refused_by_sdk).lower()
        else:
            assert isinstance(replayed, types.CallToolResult)
            assert outcome(replayed)["error_code"] == "NOT_CONFIRMED"
        # The confirmation still approves the send it was given for, exactly once.
        confirmed = await client.session.call_tool(
            SEND,
            sms(TEST_NUMBER, body="the one asked"),
            input_responses={KEY: ACCEPT},
            request_state=asked.request_state,
            allow_input_required=True,
        )
    assert isinstance(confirmed, types.CallToolResult) and outcome(confirmed)["successful"] is True
    [sent] = fake.sent("POST", "/v3/sms/send")
    assert sent.json["messages"][0]["body"] == "the one asked"


async def test_a_forged_request_state_is_refused(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async with connected(tools, fake, "auto", answering("accept"), confirm_sends=True) as client:
        with pytest.raises(MCPError):
            await client.session.call_tool(
                SEND,
                sms(TEST_NUMBER),
                input_responses={KEY: ACCEPT},
                request_state="0" * 64,
                allow_input_required=True,
            )
    assert fake.sent("POST", "/v3/sms/send") == []


async def test_in_the_handshake_era_an_unasked_answer_is_ignored_and_the_person_is_asked(
    tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    seen: list[str] = []
    async with connected(tools, fake, "legacy", answering("decline", seen=seen), confirm_sends=True) as client:
        result = outcome(
            await client.session.call_tool(SEND, sms(TEST_NUMBER, body="ask me"), input_responses={KEY: ACCEPT})
        )
    assert result["error_code"] == "NOT_CONFIRMED" and "declined" in result["error"]
    assert len(seen) == 1 and "ask me" in seen[0]
    assert fake.sent("POST", "/v3/sms/send") == []


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_each_answer_approves_only_the_send_it_was_asked_about(
    tools: dict[str, CompiledTool], fake: FakeClickSend, mode: str
) -> None:
    # Two sends in flight at once; the person accepts the one about "yes" and declines the one about "no".
    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        accept = "Message: yes" in params.message
        return types.ElicitResult(action="accept", content={"confirm": accept})

    results: dict[str, dict[str, Any]] = {}
    async with connected(tools, fake, mode, elicit, confirm_sends=True) as client:

        async def send(body: str) -> None:
            results[body] = outcome(await client.call_tool(SEND, sms(TEST_NUMBER, body=body)))

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(send, "yes")
                tg.start_soon(send, "no")
    assert results["yes"]["successful"] is True
    assert results["no"]["error_code"] == "NOT_CONFIRMED"
    [sent] = fake.sent("POST", "/v3/sms/send")
    assert sent.json["messages"][0]["body"] == "yes"


@pytest.mark.parametrize(
    ("action", "why"),
    [("decline", "the person declined this send"), ("cancel", "the person cancelled the confirmation")],
)
async def test_the_refusal_says_whether_the_person_declined_or_cancelled(
    tools: dict[str, CompiledTool], fake: FakeClickSend, action: str, why: str
) -> None:
    async with connected(tools, fake, "legacy", answering(action), confirm_sends=True) as client:
        result = outcome(await client.call_tool(SEND, sms(TEST_NUMBER)))
    assert result["error_code"] == "NOT_CONFIRMED" and why in result["error"]


@pytest.mark.parametrize(("count", "shown"), [(10, None), (12, "and 2 more")])
async def test_the_question_lists_ten_recipients_and_counts_the_rest(
    tools: dict[str, CompiledTool], fake: FakeClickSend, count: int, shown: str | None
) -> None:
    numbers = [f"+614111111{i:02d}" for i in range(count)]
    seen: list[str] = []
    async with connected(tools, fake, "legacy", answering("decline", seen=seen), confirm_sends=True) as client:
        await client.call_tool(SEND, sms(*numbers))
    [message] = seen
    [to_line] = [line for line in message.splitlines() if line.startswith("To: ")]
    assert to_line == "To: " + ", ".join(numbers[:10]) + (f" {shown}" if shown else "") + f" ({count} recipients)"


def test_the_fingerprint_binds_the_tool_and_every_argument_but_not_their_order() -> None:
    import datetime

    from clicksend_mcp.confirmation import fingerprint_call

    base = fingerprint_call(SEND, {"a": 1, "b": [2]})
    assert fingerprint_call(SEND, {"b": [2], "a": 1}) == base
    assert fingerprint_call("CLICKSEND_CREATE_MMS_SEND", {"a": 1, "b": [2]}) != base
    assert fingerprint_call(SEND, {"a": 1, "b": [3]}) != base
    assert fingerprint_call(SEND, None) == fingerprint_call(SEND, {}) != fingerprint_call("OTHER", {})
    assert len(fingerprint_call(SEND, {"when": datetime.date(2026, 1, 2)})) == 64  # any value can be bound


async def test_a_client_that_fails_to_ask_gets_a_refusal(tools: dict[str, CompiledTool], fake: FakeClickSend) -> None:
    async def broken(context: Any, params: types.ElicitRequestParams) -> types.ErrorData:
        return types.ErrorData(code=-32603, message="the form could not be shown")

    async with connected(tools, fake, "legacy", broken, confirm_sends=True) as client:
        result = outcome(await client.call_tool(SEND, sms(TEST_NUMBER)))
    assert result["error_code"] == "NOT_CONFIRMED"
    assert result["error"] == "the person could not be asked to confirm this send. Nothing was sent."
    assert fake.sent("POST", "/v3/sms/send") == []
