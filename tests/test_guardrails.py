"""The send policy over recipients the guardrails found: each refusal names the recipient and the rule."""

from __future__ import annotations

import pytest

from clicksend_mcp.guardrails import GuardrailError, Recipient, SendPolicy, _apply_policy

TEST_PHONE = Recipient("phone", "messages[0].to", "+61411111111", "AU", is_test=True)
REAL_PHONE = Recipient("phone", "messages[0].to", "+61412345678", "AU")
US_PHONE = Recipient("phone", "messages[1].to", "+14055555555", "US", is_test=True)
EMAIL = Recipient("email", "to[0].email", "someone@example.com")
LIST = Recipient("list", "messages[0].list_id", "contact list 7", count=2)
AREA = Recipient("area", "areas[0]", "direct-mail area 2000", count=3)


def refusal(recipients: list[Recipient], policy: SendPolicy, *, test_numbers: bool = True) -> str:
    with pytest.raises(GuardrailError) as info:
        _apply_policy(recipients, policy, test_numbers)
    assert info.value.code == "REFUSED"
    return info.value.message


@pytest.mark.parametrize("recipient", [LIST, AREA], ids=["list", "area"])
def test_test_numbers_only_refuses_a_list_or_area_it_cannot_check(recipient: Recipient) -> None:
    assert refusal([TEST_PHONE, recipient], SendPolicy(test_numbers_only=True)) == (
        f"{recipient.where}: only ClickSend test recipients are allowed (--test-numbers-only); "
        f"{recipient.value} cannot be checked, send to test numbers directly"
    )


def test_test_numbers_only_refuses_a_real_number() -> None:
    assert refusal([TEST_PHONE, REAL_PHONE], SendPolicy(test_numbers_only=True)).startswith(
        "messages[0].to: +61412345678 is not a ClickSend test recipient"
    )


def test_test_numbers_only_refuses_every_send_through_a_provider_without_test_numbers() -> None:
    message = refusal([TEST_PHONE], SendPolicy(test_numbers_only=True), test_numbers=False)
    assert message == (
        "messages[0].to: the server only allows ClickSend test recipients (--test-numbers-only), and this "
        "tool's provider is not ClickSend: its messages reach real phones, even ClickSend's test numbers"
    )


def test_test_numbers_pass_when_only_test_numbers_are_allowed() -> None:
    _apply_policy([TEST_PHONE, US_PHONE], SendPolicy(test_numbers_only=True))


@pytest.mark.parametrize(("recipient", "kind"), [(LIST, "list"), (AREA, "area")])
def test_allowed_countries_refuse_a_list_or_area_it_cannot_check(recipient: Recipient, kind: str) -> None:
    assert refusal([recipient], SendPolicy(allowed_countries=frozenset({"AU", "GB"}))) == (
        f"{recipient.where}: sends are limited to AU, GB and a {kind} cannot be checked; "
        "send to individual recipients instead"
    )


def test_allowed_countries_refuse_another_country_and_skip_email() -> None:
    policy = SendPolicy(allowed_countries=frozenset({"AU"}))
    _apply_policy([TEST_PHONE, EMAIL], policy)
    assert refusal([TEST_PHONE, US_PHONE], policy) == (
        "messages[1].to: +14055555555 is in US; sends are limited to AU (--allowed-countries)"
    )
    unknown = Recipient("phone", "messages[0].to", "+999", None)
    assert "is in an unknown country" in refusal([unknown], policy)


def test_a_list_counts_as_its_contacts_against_the_limit() -> None:
    _apply_policy([LIST], SendPolicy(max_recipients=2))
    message = refusal([LIST, TEST_PHONE], SendPolicy(max_recipients=2))
    assert "reaches 3 recipients" in message
    assert message == (
        "this send reaches 3 recipients (contact list 7 (messages[0].list_id) has 2 contacts); the operator allows "
        "at most 2 per call (--max-recipients). Split it into smaller sends or smaller lists."
    )
