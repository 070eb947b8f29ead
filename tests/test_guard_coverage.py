"""Every tool that reaches a person or spends money is guarded (or exempt with a reviewed reason), end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.loader import read_guard_exemptions
from clicksend_mcp.selection import Selection
from conftest import direct_settings
from fake_clicksend import FakeClickSend, LoopbackServer
from test_e2e import console_script, direct_env

# Words a description uses when a call costs money (or says it does not, which then needs a reviewed exemption).
MONEY = re.compile(r"\b(costs?|charg\w*|bill\w*|purchas\w*|buys?|recharg\w*|spend\w*|paid|price\w*|credit)\b", re.I)


def needs_guard(tool: CompiledTool) -> bool:
    spec = tool.spec
    return not spec.annotations.read_only and (spec.annotations.open_world or bool(MONEY.search(spec.description)))


def test_every_tool_that_reaches_out_or_spends_is_guarded_or_exempt(tools: dict[str, CompiledTool]) -> None:
    exemptions = read_guard_exemptions()
    missing = sorted(n for n, t in tools.items() if needs_guard(t) and t.guard is None and n not in exemptions)
    assert not missing, f"add a guard block, or an exemption with its reason in guard_exemptions.yaml: {missing}"


def test_every_exemption_is_still_needed_and_names_an_unguarded_tool(tools: dict[str, CompiledTool]) -> None:
    for name, reason in read_guard_exemptions().items():
        assert name in tools, f"guard_exemptions.yaml names an unknown tool {name}"
        assert tools[name].guard is None, f"{name} has a guard: drop its exemption"
        assert needs_guard(tools[name]), f"{name} no longer needs an exemption: drop it"
        assert len(reason) >= 30


def test_the_issues_tools_are_guarded(tools: dict[str, CompiledTool]) -> None:
    sends = [
        "CLICKSEND_REQUEST_OWN_NUMBER_VERIFICATION_OTP",
        "CLICKSEND_UPDATE_SMS_CAMPAIGNS",
        "CLICKSEND_MMS_CAMPAIGNS_BY_MMS_CAMPAIGN_ID_PUT",
        "CLICKSEND_EMAIL_CAMPAIGN_PUT",
    ]
    spends = [
        "CLICKSEND_POST_NUMBERS_BUY",
        "CLICKSEND_RECHARGE_PURCHASE_BY_PACKAGE_ID_PUT",
        "CLICKSEND_RESELLER_TRANSFER_CREDIT_PUT",
        "CLICKSEND_REQUEST_ALPHA_TAG",
    ]
    for name in sends:
        guard = tools[name].guard
        assert guard is not None and guard.kind == "send" and guard.recipients, name
    for name in spends:
        guard = tools[name].guard
        assert guard is not None and guard.kind == "spend" and guard.cost, name


def test_every_guarded_tool_takes_dry_run_and_is_hidden_when_read_only(tools: dict[str, CompiledTool]) -> None:
    visible = Selection(None, read_only=True).apply(tools)
    for name, tool in tools.items():
        if tool.guard is not None:
            assert "dry_run" in tool.input_schema["properties"], name
            assert name not in visible, name


@pytest.mark.anyio
async def test_a_spend_dry_runs_without_charging_and_says_what_it_would_cost(tools: dict[str, CompiledTool]) -> None:
    fake = FakeClickSend()
    dispatcher = build_dispatcher(direct_settings(), tools=tools, asgi_app=fake)
    try:
        result = await dispatcher.call(
            "CLICKSEND_RECHARGE_PURCHASE_BY_PACKAGE_ID_PUT", {"package_id": 3, "dry_run": True}
        )
        prepared = await dispatcher.prepare("CLICKSEND_RECHARGE_PURCHASE_BY_PACKAGE_ID_PUT", {"package_id": 3})
    finally:
        await dispatcher.aclose()
    assert result["successful"] is True and result["data"]["sent"] is False
    assert result["data"]["request"] == {"method": "PUT", "path": "/recharge/purchase/3"}
    assert "credit card" in result["data"]["cost"]
    assert prepared.needs_confirmation
    assert fake.requests == []


# --- the issue's examples, through the real server process ----------------------------------------------------------

GUARDED_FLAGS = ["--test-numbers-only", "--allowed-countries", "AU", "--max-recipients", "1", "--confirm-sends"]


async def _stdio_calls(
    base_url: str, flags: list[str], calls: list[tuple[str, dict[str, Any]]], asked: list[str]
) -> list[dict[str, Any]]:
    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="decline")

    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **direct_env(base_url)}
    params = StdioServerParameters(command=console_script(), args=["--toolsets", "all", *flags], env=env)
    found: list[dict[str, Any]] = []
    with anyio.fail_after(60):
        with open(os.devnull, "w") as errlog:
            async with Client(stdio_client(params, errlog=errlog), mode="legacy", elicitation_callback=elicit) as c:
                for name, arguments in calls:
                    result = await c.call_tool(name, arguments)
                    assert result.structured_content is not None
                    found.append(result.structured_content)
    return found


CAMPAIGN_UPDATE = {"sms_campaign_id": 1, "name": "spring", "body": "Sale now on", "list_id": 5, "schedule": 0}


@pytest.mark.anyio
@pytest.mark.e2e
async def test_the_issues_sends_are_refused_under_the_guardrails() -> None:
    fake = FakeClickSend()
    asked: list[str] = []
    with LoopbackServer(fake) as server:
        otp, campaign, mms = await _stdio_calls(
            server.base_url,
            GUARDED_FLAGS,
            [
                ("CLICKSEND_REQUEST_OWN_NUMBER_VERIFICATION_OTP", {"phone_number": "+12025550123"}),
                ("CLICKSEND_UPDATE_SMS_CAMPAIGNS", CAMPAIGN_UPDATE),
                (
                    "CLICKSEND_MMS_CAMPAIGNS_BY_MMS_CAMPAIGN_ID_PUT",
                    {
                        "mms_campaign_id": 1,
                        "name": "n",
                        "body": "b",
                        "from": "+61411111111",
                        "subject": "s",
                        "list_id": 5,
                        "media_file": "https://example.com/a.jpg",
                        "schedule": 0,
                    },
                ),
            ],
            asked,
        )
    assert otp["error_code"] == "REFUSED" and "+12025550123" in otp["error"] and "--test-numbers-only" in otp["error"]
    assert campaign["error_code"] == "REFUSED" and campaign["error"].startswith("list_id:")
    assert mms["error_code"] == "REFUSED"
    assert asked == []  # refused before anyone is asked
    assert fake.requests == []  # nothing reached ClickSend


@pytest.mark.anyio
@pytest.mark.e2e
async def test_a_campaign_update_that_sends_now_asks_the_person_with_the_recipient_count(
    tools: dict[str, CompiledTool],
) -> None:
    fake = FakeClickSend()
    setup = build_dispatcher(direct_settings(), tools=tools, asgi_app=fake)
    try:
        created = await setup.call("CLICKSEND_CREATE_LISTS", {"list_name": "spring"})
        list_id = created["data"]["list_id"]
        for number in ("+61411111111", "+61422222222"):
            await setup.call("CLICKSEND_CREATE_LISTS_CONTACTS", {"list_id": list_id, "phone_number": number})
    finally:
        await setup.aclose()
    fake.requests.clear()
    asked: list[str] = []
    with LoopbackServer(fake) as server:
        update, later, buy = await _stdio_calls(
            server.base_url,
            ["--confirm-sends"],
            [
                ("CLICKSEND_UPDATE_SMS_CAMPAIGNS", {**CAMPAIGN_UPDATE, "list_id": list_id}),
                ("CLICKSEND_UPDATE_SMS_CAMPAIGNS", {**CAMPAIGN_UPDATE, "list_id": list_id, "schedule": 1}),
                ("CLICKSEND_POST_NUMBERS_BUY", {"dedicated_number": "+61280662298", "type": "sms"}),
            ],
            asked,
        )
    assert update["error_code"] == "NOT_CONFIRMED" and later["error_code"] == "NOT_CONFIRMED"
    assert buy["error_code"] == "NOT_CONFIRMED"
    assert "Update SMS Campaign (sms)" in asked[0] and "contact list" in asked[0] and "(2 recipients)" in asked[0]
    assert "This costs money" in asked[2] and "/numbers/buy/" in asked[2]
    # Only the list-size look-ups (and the price quotes) reached ClickSend: no update, no purchase.
    assert {(r.method, r.path.split("/")[2]) for r in fake.requests} <= {("GET", "lists"), ("POST", "sms-campaigns")}
    assert not fake.sent("PUT") and not fake.sent("POST", "/v3/numbers/buy/+61280662298")


def test_the_guard_exemptions_file_is_shipped_beside_the_specs() -> None:
    listing = subprocess.run(
        [console_script(), "--toolsets", "all", "tools", "--json"], capture_output=True, text=True, check=True
    )
    names = {t["name"] for t in json.loads(listing.stdout)}
    assert set(read_guard_exemptions()) <= names
