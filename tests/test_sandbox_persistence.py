"""The sandbox's state in a file: everything survives a round trip, and processes sharing the file see each other."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clicksend_mcp.assembly import build_dispatcher
from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.sandbox import SandboxState
from clicksend_mcp.sandbox.persistence import StateFile, StateFileError, dump_state, load_state, persistent_sandbox_app
from clicksend_mcp.settings import Settings
from fake_clicksend import TEST_NUMBER

pytestmark = pytest.mark.anyio


async def call(settings: Settings, tools: dict[str, CompiledTool], name: str, args: dict[str, Any]) -> dict[str, Any]:
    dispatcher = build_dispatcher(settings, tools=tools)
    try:
        return await dispatcher.call(name, args)
    finally:
        await dispatcher.aclose()


def test_a_used_state_round_trips_exactly_with_shared_records_still_shared() -> None:
    state = SandboxState()
    state.read["sms:inbound"].add("A1")
    state.collection("uploads").add({"__content": b"\x00\xffpdf", "__convert": "fax"})
    state.user_countries[99] = 0
    text = json.dumps(dump_state(state))
    restored = load_state(json.loads(text))
    assert json.dumps(dump_state(restored)) == text
    main = restored.account["_subaccount"]
    assert main is restored.subaccounts.get(main["subaccount_id"])
    assert restored.collection("uploads").all()[0]["__content"] == b"\x00\xffpdf"
    assert restored.read["sms:inbound"] == {"A1"} and restored.read["other"] == set()
    assert restored.user_countries[99] == 0


async def test_every_kind_of_change_survives_a_restart(tmp_path: Path, tools: dict[str, CompiledTool]) -> None:
    path = tmp_path / "state.json"
    settings = Settings(backend="sandbox", toolsets="all", sandbox_state=str(path))
    created = await call(settings, tools, "CLICKSEND_CREATE_LISTS", {"list_name": "Kept"})
    list_id = created["data"]["list_id"]
    await call(settings, tools, "CLICKSEND_CREATE_LISTS_CONTACTS", {"list_id": list_id, "phone_number": TEST_NUMBER})
    await call(settings, tools, "CLICKSEND_CREATE_SMS_SEND", {"messages": [{"to": TEST_NUMBER, "body": "one"}]})
    again = await call(settings, tools, "CLICKSEND_CREATE_LISTS", {"list_name": "Next"})
    assert again["data"]["list_id"] == list_id + 1  # the id counter survives too
    contacts = await call(settings, tools, "CLICKSEND_GET_LISTS_CONTACTS", {"list_id": list_id})
    assert [c["phone_number"] for c in contacts["data"]["data"]] == [TEST_NUMBER]
    history = await call(settings, tools, "CLICKSEND_SMS_HISTORY_GET", {})
    assert [m["body"] for m in history["data"]["data"]] == ["one"]
    assert not list(tmp_path.glob("*.tmp")), "a temporary file was left behind"


async def test_two_sandboxes_on_one_file_see_each_others_changes(
    tmp_path: Path, tools: dict[str, CompiledTool]
) -> None:
    path = tmp_path / "state.json"
    first = build_dispatcher(
        Settings(backend="sandbox", toolsets="all"), tools=tools, sandbox_app=persistent_sandbox_app(path)
    )
    second = build_dispatcher(
        Settings(backend="sandbox", toolsets="all"), tools=tools, sandbox_app=persistent_sandbox_app(path)
    )
    try:
        await first.call("CLICKSEND_CREATE_LISTS", {"list_name": "From the first"})
        await second.call("CLICKSEND_CREATE_LISTS", {"list_name": "From the second"})
        seen = await first.call("CLICKSEND_GET_LISTS", {})
    finally:
        await first.aclose()
        await second.aclose()
    names = [item["list_name"] for item in seen["data"]["data"]]
    assert names[-2:] == ["From the first", "From the second"]


def test_a_file_of_another_kind_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"something": "else"}))
    with pytest.raises(StateFileError, match=r"state.json: not a clicksend-mcp sandbox state file"):
        StateFile(path).read()
    path.write_text(json.dumps({"format": "clicksend-mcp-sandbox-state", "version": 99, "state": {}}))
    with pytest.raises(StateFileError, match="version 99"):
        StateFile(path).read()


def test_a_missing_folder_is_refused_before_any_call(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="does not exist"):
        persistent_sandbox_app(tmp_path / "nowhere" / "state.json")
