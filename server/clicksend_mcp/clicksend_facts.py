"""Facts from ClickSend's REST v3 documentation that the server relies on: its published test recipients.

Messages to these are never delivered and never charged (ClickSend answers success). The guardrails allow only these
with --test-numbers-only; the sandbox gives them delivery receipts and replies.
"""

from __future__ import annotations

TEST_PHONE_NUMBERS = frozenset(
    {
        "+61411111111",
        "+61422222222",
        "+61433333333",
        "+61444444444",
        "+14055555555",
        "+14055555666",
        "+447777777777",
        "+8615555555555",
    }
)
TEST_FAX_NUMBERS = frozenset({"+61261111111", "+61262222222", "+61263333333"})
TEST_EMAILS = frozenset({"test1@test.com", "test2@test.com", "test3@test.com"})
TEST_POSTCODES = frozenset({"11111", "22222", "33333"})
