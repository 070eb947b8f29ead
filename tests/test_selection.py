"""Why a tool is not served: the answer names the reason the person can act on."""

from __future__ import annotations

import pytest

from clicksend_mcp.compiler import CompiledTool
from clicksend_mcp.selection import Selection

READ = "CLICKSEND_GET_FAX_RECEIPTS"  # fax toolset, read-only
WRITE = "CLICKSEND_CREATE_SMS_SEND"  # sms toolset, a send


@pytest.mark.parametrize(
    ("selection", "name", "expected"),
    [
        (
            Selection.from_names("sms", read_only=True),
            WRITE,
            f"{WRITE} changes things in ClickSend and this server is read-only (--read-only)",
        ),
        (
            Selection.from_names("account", read_only=True),
            WRITE,
            f"{WRITE} is not enabled on this server; the operator can add it with --tools {WRITE} (or --toolsets sms)",
        ),
        (
            Selection.from_names("account"),
            READ,
            f"{READ} is not enabled on this server; the operator can add it with --tools {READ} (or --toolsets fax)",
        ),
        (
            Selection.from_names("fax", read_only=True),
            READ,
            f"{READ} is not enabled on this server; the operator can add it with --tools {READ} (or --toolsets fax)",
        ),
        (Selection.from_names("all"), "CLICKSEND_NO_SUCH_TOOL", "Unknown tool: CLICKSEND_NO_SUCH_TOOL; did you mean "),
    ],
    ids=[
        "read-only hides a chosen write",
        "read-only and not chosen",
        "not chosen",
        "a chosen read is not blamed on read-only",
        "unknown",
    ],
)
def test_why_a_tool_is_hidden_names_the_reason(
    tools: dict[str, CompiledTool], selection: Selection, name: str, expected: str
) -> None:
    answer = selection.why_hidden(name, tools)
    assert answer.startswith(expected) if expected.endswith("did you mean ") else answer == expected
