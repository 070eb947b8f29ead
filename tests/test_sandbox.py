"""The sandbox answers like ClickSend's REST API v3: envelopes, pagination, auth, messaging state and resources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from clicksend_mcp.sandbox import SandboxAuth, SandboxState, create_sandbox_app

pytestmark = pytest.mark.anyio

BASE_URL = "http://sandbox.clicksend.invalid/v3"
TEST_KEY = "D83DED51-9E35-4D42-9BB9-0E34B7CA85AE"
START = 1_800_000_000
TEST_NUMBER = "+61411111111"
OTHER_TEST_NUMBER = "+61422222222"
REAL_LOOKING_NUMBER = "+61400000001"  # valid E.164, not a published test number
IMAGE = "https://example.com/images/cat.jpg"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Answer:
    status: int
    envelope: dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.envelope["response_code"])

    @property
    def msg(self) -> str:
        return str(self.envelope["response_msg"])

    @property
    def data(self) -> Any:
        return self.envelope["data"]


class Sandbox:
    """A sandbox app plus a real HTTP client over an ASGI transport, as the server uses it."""

    def __init__(self, auth: SandboxAuth | None = None) -> None:
        self.clock = FakeClock()
        self.app = create_sandbox_app(auth=auth, clock=self.clock)
        self.state: SandboxState = self.app.state.sandbox

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        auth: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> Answer:
        transport = httpx2.ASGITransport(app=self.app)
        async with httpx2.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            response = await client.request(
                method, path, json=json, params=params, auth=auth, headers=headers, content=content
            )
        envelope = response.json()
        assert set(envelope) == {"http_code", "response_code", "response_msg", "data"}
        assert envelope["http_code"] == response.status_code
        return Answer(response.status_code, envelope)

    async def send_sms(self, *messages: dict[str, Any], auth: tuple[str, str] | None = None) -> Answer:
        return await self.call("POST", "sms/send", json={"messages": list(messages)}, auth=auth)

    async def seeded_list_id(self) -> int:
        found = await self.call("GET", "lists", params={"q": "list_name:Sandbox Contacts"})
        return int(found.data["data"][0]["list_id"])

    async def new_list(self, name: str) -> int:
        return int((await self.call("POST", "lists", json={"list_name": name})).data["list_id"])

    async def new_contact(self, list_id: int, **fields: Any) -> dict[str, Any]:
        answer = await self.call("POST", f"lists/{list_id}/contacts", json=fields)
        assert answer.status == 200, answer.envelope
        return dict(answer.data)


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox()


# --- envelopes and HTTP-level errors -------------------------------------------------------------------------------


async def test_a_successful_answer_is_an_envelope_with_http_code_200_and_success(sandbox: Sandbox) -> None:
    answer = await sandbox.call("GET", "account")
    assert (answer.status, answer.code, answer.msg) == (200, "SUCCESS", "Here's your account.")


async def test_an_unknown_path_answers_404_not_found(sandbox: Sandbox) -> None:
    answer = await sandbox.call("GET", "no/such/endpoint")
    assert (answer.status, answer.code) == (404, "NOT_FOUND")


async def test_a_path_outside_v3_answers_404_not_found(sandbox: Sandbox) -> None:
    answer = await sandbox.call("GET", "http://sandbox.clicksend.invalid/v2/account")
    assert (answer.status, answer.code) == (404, "NOT_FOUND")


async def test_a_wrong_method_on_a_known_path_answers_405_with_response_code_not_found(sandbox: Sandbox) -> None:
    answer = await sandbox.call("DELETE", "account")
    assert (answer.status, answer.code) == (405, "NOT_FOUND")


async def test_an_invalid_json_body_answers_400_bad_request(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "lists", content=b"{not json", headers={"Content-Type": "application/json"})
    assert (answer.status, answer.code) == (400, "BAD_REQUEST")


async def test_a_missing_required_field_answers_400_naming_it(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "lists", json={})
    assert (answer.status, answer.code) == (400, "MISSING_REQUIRED_FIELDS")
    assert "list_name" in answer.msg


async def test_an_unknown_id_answers_404_not_found(sandbox: Sandbox) -> None:
    answer = await sandbox.call("GET", "lists/999")
    assert (answer.status, answer.code) == (404, "NOT_FOUND")


async def test_a_non_numeric_id_answers_404_not_found(sandbox: Sandbox) -> None:
    answer = await sandbox.call("GET", "lists/abc")
    assert (answer.status, answer.code) == (404, "NOT_FOUND")


async def test_a_trailing_slash_reaches_the_same_endpoint(sandbox: Sandbox) -> None:
    answer = await sandbox.call("GET", "lists/")
    assert answer.status == 200


# --- pagination, search and order ----------------------------------------------------------------------------------


async def _twenty_more_lists(sandbox: Sandbox) -> None:
    for number in range(20):
        await sandbox.new_list(f"Bulk {number:02d}")


async def test_a_list_endpoint_answers_page_one_of_fifteen_by_default(sandbox: Sandbox) -> None:
    await _twenty_more_lists(sandbox)
    page = (await sandbox.call("GET", "lists")).data
    assert {k: page[k] for k in ("total", "per_page", "current_page", "last_page", "from", "to")} == {
        "total": 22,
        "per_page": 15,
        "current_page": 1,
        "last_page": 2,
        "from": 1,
        "to": 15,
    }
    assert page["next_page_url"] == "https://rest.clicksend.com/v3/lists?page=2"
    assert page["prev_page_url"] is None
    assert len(page["data"]) == 15


async def test_the_last_page_holds_the_remainder_and_has_no_next_page(sandbox: Sandbox) -> None:
    await _twenty_more_lists(sandbox)
    page = (await sandbox.call("GET", "lists", params={"page": 2})).data
    assert (page["from"], page["to"], len(page["data"])) == (16, 22, 7)
    assert page["next_page_url"] is None
    assert page["prev_page_url"] == "https://rest.clicksend.com/v3/lists?page=1"


async def test_a_page_past_the_end_is_empty_with_null_from_and_to(sandbox: Sandbox) -> None:
    page = (await sandbox.call("GET", "lists", params={"page": 9})).data
    assert (page["data"], page["from"], page["to"], page["last_page"]) == ([], None, None, 1)


async def test_limit_sets_the_page_size(sandbox: Sandbox) -> None:
    await _twenty_more_lists(sandbox)
    page = (await sandbox.call("GET", "lists", params={"limit": 5, "page": 3})).data
    assert (page["per_page"], page["last_page"], page["from"], page["to"]) == (5, 5, 11, 15)


async def test_limit_is_capped_at_one_hundred(sandbox: Sandbox) -> None:
    page = (await sandbox.call("GET", "lists", params={"limit": 500})).data
    assert page["per_page"] == 100


async def test_a_non_numeric_page_answers_400_bad_request(sandbox: Sandbox) -> None:
    answer = await sandbox.call("GET", "lists", params={"page": "two"})
    assert (answer.status, answer.code) == (400, "BAD_REQUEST")


async def test_q_matches_a_case_insensitive_substring(sandbox: Sandbox) -> None:
    page = (await sandbox.call("GET", "lists", params={"q": "list_name:OPT-out"})).data
    assert [item["list_name"] for item in page["data"]] == ["Opt-Out List"]


async def test_q_terms_must_all_match_by_default(sandbox: Sandbox) -> None:
    page = (await sandbox.call("GET", "lists", params={"q": "list_name:opt,list_name:sandbox"})).data
    assert page["total"] == 0


async def test_operator_or_matches_any_q_term(sandbox: Sandbox) -> None:
    params = {"q": "list_name:opt,list_name:sandbox", "operator": "OR"}
    page = (await sandbox.call("GET", "lists", params=params)).data
    assert page["total"] == 2


async def test_order_by_desc_reverses_the_order(sandbox: Sandbox) -> None:
    page = (await sandbox.call("GET", "lists", params={"order_by": "list_name:desc"})).data
    assert [item["list_name"] for item in page["data"]] == ["Sandbox Contacts", "Opt-Out List"]


async def test_a_q_term_without_a_colon_answers_400_bad_request(sandbox: Sandbox) -> None:
    answer = await sandbox.call("GET", "lists", params={"q": "opt"})
    assert (answer.status, answer.code) == (400, "BAD_REQUEST")


# --- test credentials and strict auth ------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("GET", "account"), ("GET", "lists"), ("POST", "sms/send")])
async def test_notactive_is_refused_everywhere_with_account_not_activated(
    sandbox: Sandbox, method: str, path: str
) -> None:
    answer = await sandbox.call(method, path, json={"messages": []}, auth=("notactive", TEST_KEY))
    assert (answer.status, answer.code) == (403, "ACCOUNT_NOT_ACTIVATED")


@pytest.mark.parametrize(("method", "path"), [("GET", "account"), ("GET", "sms/history"), ("POST", "lists")])
async def test_banned_is_refused_everywhere_with_forbidden(sandbox: Sandbox, method: str, path: str) -> None:
    answer = await sandbox.call(method, path, json={"list_name": "x"}, auth=("banned", TEST_KEY))
    assert (answer.status, answer.code, answer.msg) == (403, "FORBIDDEN", "This account is banned")


async def test_a_test_username_with_a_wrong_key_answers_401_invalid_credentials(sandbox: Sandbox) -> None:
    answer = await sandbox.call("GET", "account", auth=("nocredit", "WRONG-KEY"))
    assert (answer.status, answer.code) == (401, "INVALID_CREDENTIALS")


async def test_nocredit_can_read_its_account(sandbox: Sandbox) -> None:
    answer = await sandbox.call("GET", "account", auth=("nocredit", TEST_KEY))
    assert answer.status == 200
    assert answer.data["username"] == "nocredit"


async def test_a_nocredit_send_answers_200_insufficient_credit_for_every_message(sandbox: Sandbox) -> None:
    answer = await sandbox.send_sms({"to": TEST_NUMBER, "body": "hi"}, auth=("nocredit", TEST_KEY))
    assert (answer.status, answer.code) == (200, "INSUFFICIENT_CREDIT")
    assert [m["status"] for m in answer.data["messages"]] == ["INSUFFICIENT_CREDIT"]


async def test_a_nocredit_send_stores_nothing(sandbox: Sandbox) -> None:
    await sandbox.send_sms({"to": TEST_NUMBER, "body": "hi"}, auth=("nocredit", TEST_KEY))
    assert len(sandbox.state.messages["sms"]) == 0
    assert sandbox.state.inbound["sms"] == []


async def test_nocredit_still_gets_a_price_quote(sandbox: Sandbox) -> None:
    body = {"messages": [{"to": TEST_NUMBER, "body": "hi"}]}
    answer = await sandbox.call("POST", "sms/price", json=body, auth=("nocredit", TEST_KEY))
    assert (answer.code, answer.data["total_price"]) == ("SUCCESS", 0.077)


async def test_without_strict_auth_a_request_without_credentials_is_accepted(sandbox: Sandbox) -> None:
    assert (await sandbox.call("GET", "account")).status == 200


async def test_without_strict_auth_any_other_credentials_are_accepted(sandbox: Sandbox) -> None:
    assert (await sandbox.call("GET", "account", auth=("someone", "anything"))).status == 200


async def test_strict_auth_accepts_the_matching_basic_credentials() -> None:
    strict = Sandbox(SandboxAuth(basic=("user", "KEY-1")))
    assert (await strict.call("GET", "account", auth=("user", "KEY-1"))).status == 200


async def test_strict_auth_accepts_the_matching_bearer_token() -> None:
    strict = Sandbox(SandboxAuth(bearer="maton-token"))
    answer = await strict.call("GET", "account", headers={"Authorization": "Bearer maton-token"})
    assert answer.status == 200


async def test_strict_auth_answers_missing_credentials_without_an_authorization_header() -> None:
    strict = Sandbox(SandboxAuth(basic=("user", "KEY-1")))
    answer = await strict.call("GET", "account")
    assert (answer.status, answer.code) == (401, "MISSING_CREDENTIALS")


async def test_strict_auth_answers_invalid_credentials_for_a_wrong_key() -> None:
    strict = Sandbox(SandboxAuth(basic=("user", "KEY-1")))
    answer = await strict.call("GET", "account", auth=("user", "KEY-2"))
    assert (answer.status, answer.code) == (401, "INVALID_CREDENTIALS")


async def test_strict_auth_answers_invalid_credentials_for_a_wrong_bearer_token() -> None:
    strict = Sandbox(SandboxAuth(bearer="maton-token"))
    answer = await strict.call("GET", "account", headers={"Authorization": "Bearer other"})
    assert (answer.status, answer.code) == (401, "INVALID_CREDENTIALS")


async def test_strict_auth_still_honours_the_test_credentials() -> None:
    strict = Sandbox(SandboxAuth(basic=("user", "KEY-1")))
    answer = await strict.call("GET", "account", auth=("banned", TEST_KEY))
    assert (answer.status, answer.code) == (403, "FORBIDDEN")


# --- account, countries ----------------------------------------------------------------------------------------------


async def test_the_account_carries_a_subaccount_api_key_for_the_server_to_redact(sandbox: Sandbox) -> None:
    account = (await sandbox.call("GET", "account")).data
    assert account["username"] == "sandbox"
    assert account["balance"] == "100.00"
    assert account["_currency"]["currency_name_short"] == "AUD"
    assert len(account["_subaccount"]["api_key"]) == 36


async def test_countries_are_a_flat_list_of_code_and_value(sandbox: Sandbox) -> None:
    countries = (await sandbox.call("GET", "countries")).data
    assert {"code": "AU", "value": "Australia"} in countries
    assert all(set(item) == {"code", "value"} for item in countries)


# --- SMS: send, history, receipts, replies ------------------------------------------------------------------------


async def test_an_sms_send_answers_clicksends_fields(sandbox: Sandbox) -> None:
    answer = await sandbox.send_sms({"to": TEST_NUMBER, "body": "hello", "custom_string": "ref-1"})
    assert (answer.code, answer.msg) == ("SUCCESS", "Messages queued for delivery.")
    data = answer.data
    assert (data["total_count"], data["queued_count"], data["total_price"]) == (1, 1, 0.077)
    assert set(data["_currency"]) >= {"currency_name_short", "currency_prefix_d", "currency_prefix_c"}
    message = data["messages"][0]
    expected = {"direction", "date", "to", "body", "from", "schedule", "message_id", "message_parts"}
    expected |= {"message_price", "from_email", "list_id", "custom_string", "contact_id", "user_id"}
    expected |= {"subaccount_id", "country", "carrier", "status"}
    assert expected <= set(message)
    assert (message["status"], message["country"], message["message_price"]) == ("SUCCESS", "AU", "0.0770")
    assert message["message_id"] == message["message_id"].upper() and len(message["message_id"]) == 36
    assert message["date"] == START


async def test_an_immediate_sms_appears_in_history_as_sent(sandbox: Sandbox) -> None:
    sent = await sandbox.send_sms({"to": TEST_NUMBER, "body": "hello"})
    history = (await sandbox.call("GET", "sms/history")).data
    (record,) = history["data"]
    assert record["message_id"] == sent.data["messages"][0]["message_id"]
    assert record["status"] == "Sent"


async def test_an_immediate_sms_gets_a_delivery_receipt(sandbox: Sandbox) -> None:
    sent = await sandbox.send_sms({"to": REAL_LOOKING_NUMBER, "body": "hello"})
    receipts = (await sandbox.call("GET", "sms/receipts")).data["data"]
    assert [(r["message_id"], r["status_code"]) for r in receipts] == [(sent.data["messages"][0]["message_id"], "201")]


async def test_an_sms_to_a_test_number_gets_an_inbound_reply(sandbox: Sandbox) -> None:
    sent = await sandbox.send_sms({"to": OTHER_TEST_NUMBER, "body": "are you there?"})
    (reply,) = (await sandbox.call("GET", "sms/inbound")).data["data"]
    assert reply["from"] == OTHER_TEST_NUMBER
    assert reply["original_message_id"] == sent.data["messages"][0]["message_id"]
    assert reply["original_body"] == "are you there?"
    assert "auto-reply" in reply["body"]


async def test_an_sms_to_a_number_that_is_not_a_test_number_gets_no_reply(sandbox: Sandbox) -> None:
    await sandbox.send_sms({"to": REAL_LOOKING_NUMBER, "body": "hello"})
    assert (await sandbox.call("GET", "sms/inbound")).data["total"] == 0


async def test_an_sms_to_a_list_id_goes_to_each_contact_with_their_name_filled_in(sandbox: Sandbox) -> None:
    list_id = await sandbox.seeded_list_id()
    answer = await sandbox.send_sms({"list_id": list_id, "body": "Hi {first_name}"})
    bodies = sorted((m["to"], m["body"], m["list_id"]) for m in answer.data["messages"])
    assert bodies == [(TEST_NUMBER, "Hi Ada", list_id), (OTHER_TEST_NUMBER, "Hi Alan", list_id)]


async def test_an_sms_to_an_unknown_list_gets_not_enough_permission_to_list_id(sandbox: Sandbox) -> None:
    answer = await sandbox.send_sms({"list_id": 42, "body": "hi"})
    assert [m["status"] for m in answer.data["messages"]] == ["NOT_ENOUGH_PERMISSION_TO_LIST_ID"]


async def test_an_invalid_recipient_gets_status_invalid_recipient_and_is_not_stored(sandbox: Sandbox) -> None:
    answer = await sandbox.send_sms({"to": "0411 111 111", "body": "hi"}, {"to": TEST_NUMBER, "body": "hi"})
    assert [m["status"] for m in answer.data["messages"]] == ["INVALID_RECIPIENT", "SUCCESS"]
    assert (answer.data["total_count"], answer.data["queued_count"]) == (2, 1)
    assert len(sandbox.state.messages["sms"]) == 1


async def test_an_empty_body_gets_status_empty_message(sandbox: Sandbox) -> None:
    answer = await sandbox.send_sms({"to": TEST_NUMBER, "body": "  "})
    assert answer.data["messages"][0]["status"] == "EMPTY_MESSAGE"


async def test_a_malformed_sender_id_gets_status_invalid_sender_id(sandbox: Sandbox) -> None:
    answer = await sandbox.send_sms({"to": TEST_NUMBER, "body": "hi", "from": "My Company Name"})
    assert answer.data["messages"][0]["status"] == "INVALID_SENDER_ID"


async def test_a_schedule_more_than_a_day_in_the_past_gets_invalid_schedule(sandbox: Sandbox) -> None:
    answer = await sandbox.send_sms({"to": TEST_NUMBER, "body": "hi", "schedule": START - 2 * 86_400})
    assert answer.data["messages"][0]["status"] == "INVALID_SCHEDULE"


async def test_a_schedule_that_is_not_an_integer_gets_invalid_schedule(sandbox: Sandbox) -> None:
    answer = await sandbox.send_sms({"to": TEST_NUMBER, "body": "hi", "schedule": "tomorrow"})
    assert answer.data["messages"][0]["status"] == "INVALID_SCHEDULE"


async def test_a_message_without_to_or_list_id_answers_400_missing_required_fields(sandbox: Sandbox) -> None:
    answer = await sandbox.send_sms({"body": "hi"})
    assert (answer.status, answer.code) == (400, "MISSING_REQUIRED_FIELDS")
    assert "to" in answer.msg and "list_id" in answer.msg


async def test_a_send_without_messages_answers_400_missing_required_fields(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "sms/send", json={"shorten_urls": True})
    assert (answer.status, answer.code) == (400, "MISSING_REQUIRED_FIELDS")


async def test_more_than_1000_recipients_answers_400_too_many_recipients(sandbox: Sandbox) -> None:
    messages = [{"to": TEST_NUMBER, "body": "hi"}] * 1001
    answer = await sandbox.send_sms(*messages)
    assert (answer.status, answer.code) == (400, "TOO_MANY_RECIPIENTS")


async def test_shorten_urls_and_senders_are_accepted_and_ignored(sandbox: Sandbox) -> None:
    body = {"shorten_urls": True, "senders": [], "messages": [{"to": TEST_NUMBER, "body": "hi"}]}
    answer = await sandbox.call("POST", "sms/send", json=body)
    assert answer.data["queued_count"] == 1


@pytest.mark.parametrize(
    ("body", "parts"),
    [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3), ("é" * 160, 1), ("€" * 80, 1), ("€" * 81, 2)],
)
async def test_gsm7_text_is_160_characters_single_and_153_per_part(sandbox: Sandbox, body: str, parts: int) -> None:
    answer = await sandbox.call("POST", "sms/price", json={"messages": [{"to": TEST_NUMBER, "body": body}]})
    assert answer.data["messages"][0]["message_parts"] == parts


@pytest.mark.parametrize(("body", "parts"), [("ж" * 70, 1), ("ж" * 71, 2), ("ж" * 134, 2), ("ж" * 135, 3)])
async def test_unicode_text_is_70_characters_single_and_67_per_part(sandbox: Sandbox, body: str, parts: int) -> None:
    answer = await sandbox.call("POST", "sms/price", json={"messages": [{"to": TEST_NUMBER, "body": body}]})
    assert answer.data["messages"][0]["message_parts"] == parts


async def test_the_price_is_per_part_and_per_country_and_summed(sandbox: Sandbox) -> None:
    messages = [{"to": "+14055555555", "body": "a" * 200}, {"to": "+447777777777", "body": "hi"}]
    answer = await sandbox.call("POST", "sms/price", json={"messages": messages})
    assert [m["message_price"] for m in answer.data["messages"]] == ["0.0560", "0.0550"]
    assert answer.data["total_price"] == 0.111


async def test_a_price_request_stores_nothing(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "sms/price", json={"messages": [{"to": TEST_NUMBER, "body": "hi"}]})
    assert answer.msg == "Here is some pricing."
    assert len(sandbox.state.messages["sms"]) == 0


async def test_history_filters_by_date_from_and_date_to(sandbox: Sandbox) -> None:
    await sandbox.send_sms({"to": TEST_NUMBER, "body": "early"})
    sandbox.clock.advance(1000)
    await sandbox.send_sms({"to": TEST_NUMBER, "body": "late"})
    params = {"date_from": START + 500, "date_to": START + 2000}
    history = (await sandbox.call("GET", "sms/history", params=params)).data
    assert [r["body"] for r in history["data"]] == ["late"]


async def test_history_is_newest_first_and_searchable(sandbox: Sandbox) -> None:
    await sandbox.send_sms({"to": TEST_NUMBER, "body": "first", "custom_string": "a"})
    sandbox.clock.advance(10)
    await sandbox.send_sms({"to": TEST_NUMBER, "body": "second", "custom_string": "b"})
    assert [r["body"] for r in (await sandbox.call("GET", "sms/history")).data["data"]] == ["second", "first"]
    found = (await sandbox.call("GET", "sms/history", params={"q": "custom_string:A"})).data["data"]
    assert [r["body"] for r in found] == ["first"]


# --- SMS: scheduling and cancelling --------------------------------------------------------------------------------


async def test_a_scheduled_sms_shows_as_scheduled_in_history(sandbox: Sandbox) -> None:
    await sandbox.send_sms({"to": TEST_NUMBER, "body": "later", "schedule": START + 3600})
    (record,) = (await sandbox.call("GET", "sms/history")).data["data"]
    assert (record["status"], record["schedule"]) == ("Scheduled", START + 3600)


async def test_a_cancelled_scheduled_sms_shows_as_cancelled_in_history(sandbox: Sandbox) -> None:
    sent = await sandbox.send_sms({"to": TEST_NUMBER, "body": "later", "schedule": START + 3600})
    message_id = sent.data["messages"][0]["message_id"]
    cancel = await sandbox.call("PUT", f"sms/{message_id}/cancel")
    assert (cancel.status, cancel.code) == (200, "SUCCESS")
    (record,) = (await sandbox.call("GET", "sms/history")).data["data"]
    assert record["status"] == "Cancelled"


async def test_a_cancelled_sms_is_never_delivered(sandbox: Sandbox) -> None:
    sent = await sandbox.send_sms({"to": TEST_NUMBER, "body": "later", "schedule": START + 60})
    await sandbox.call("PUT", f"sms/{sent.data['messages'][0]['message_id']}/cancel")
    sandbox.clock.advance(120)
    assert (await sandbox.call("GET", "sms/receipts")).data["total"] == 0


async def test_a_scheduled_sms_is_delivered_once_its_time_has_passed(sandbox: Sandbox) -> None:
    await sandbox.send_sms({"to": TEST_NUMBER, "body": "later", "schedule": START + 60})
    assert (await sandbox.call("GET", "sms/receipts")).data["total"] == 0
    sandbox.clock.advance(61)
    (record,) = (await sandbox.call("GET", "sms/history")).data["data"]
    assert record["status"] == "Sent"
    assert (await sandbox.call("GET", "sms/inbound")).data["total"] == 1


async def test_cancelling_a_message_that_was_already_sent_answers_400(sandbox: Sandbox) -> None:
    sent = await sandbox.send_sms({"to": TEST_NUMBER, "body": "now"})
    answer = await sandbox.call("PUT", f"sms/{sent.data['messages'][0]['message_id']}/cancel")
    assert (answer.status, answer.code) == (400, "BAD_REQUEST")
    assert "scheduled" in answer.msg.lower()


async def test_cancelling_an_unknown_message_answers_404(sandbox: Sandbox) -> None:
    answer = await sandbox.call("PUT", "sms/BF7AD270-0DE2-418B-B606-71D527D9C1AE/cancel")
    assert (answer.status, answer.code) == (404, "NOT_FOUND")


async def test_cancel_all_cancels_every_scheduled_sms_and_counts_them(sandbox: Sandbox) -> None:
    await sandbox.send_sms(
        {"to": TEST_NUMBER, "body": "a", "schedule": START + 600},
        {"to": OTHER_TEST_NUMBER, "body": "b", "schedule": START + 900},
        {"to": TEST_NUMBER, "body": "now"},
    )
    answer = await sandbox.call("PUT", "sms/cancel-all")
    assert answer.data == {"count": 2}
    statuses = sorted(r["status"] for r in (await sandbox.call("GET", "sms/history")).data["data"])
    assert statuses == ["Cancelled", "Cancelled", "Sent"]


# --- MMS -------------------------------------------------------------------------------------------------------------


async def test_an_mms_without_a_subject_gets_subject_required(sandbox: Sandbox) -> None:
    body = {"media_file": IMAGE, "messages": [{"to": TEST_NUMBER, "body": "look"}]}
    answer = await sandbox.call("POST", "mms/send", json=body)
    assert answer.data["messages"][0]["status"] == "SUBJECT_REQUIRED"


async def test_an_mms_whose_media_file_is_not_an_image_url_gets_invalid_media_file(sandbox: Sandbox) -> None:
    body = {"media_file": "https://example.com/doc.pdf", "messages": [{"to": TEST_NUMBER, "subject": "s"}]}
    answer = await sandbox.call("POST", "mms/send", json=body)
    assert answer.data["messages"][0]["status"] == "INVALID_MEDIA_FILE"


async def test_an_mms_without_media_file_answers_400_missing_required_fields(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "mms/send", json={"messages": [{"to": TEST_NUMBER, "subject": "s"}]})
    assert (answer.status, answer.code) == (400, "MISSING_REQUIRED_FIELDS")
    assert "media_file" in answer.msg


async def test_a_sent_mms_is_in_mms_history_with_its_subject_and_media_url(sandbox: Sandbox) -> None:
    body = {"media_file": IMAGE, "messages": [{"to": TEST_NUMBER, "subject": "Cat", "body": "look"}]}
    sent = await sandbox.call("POST", "mms/send", json=body)
    assert sent.data["messages"][0]["status"] == "SUCCESS"
    (record,) = (await sandbox.call("GET", "mms/history")).data["data"]
    assert (record["subject"], record["_media_file_url"]) == ("Cat", IMAGE)
    assert (await sandbox.call("GET", "mms/receipts")).data["total"] == 1


# --- voice -----------------------------------------------------------------------------------------------------------


async def test_a_voice_message_with_an_unknown_lang_gets_invalid_lang(sandbox: Sandbox) -> None:
    body = {"messages": [{"to": TEST_NUMBER, "body": "hello", "lang": "xx-yy"}]}
    answer = await sandbox.call("POST", "voice/send", json=body)
    assert answer.data["messages"][0]["status"] == "INVALID_LANG"


async def test_a_voice_message_with_an_unknown_voice_gets_invalid_voice(sandbox: Sandbox) -> None:
    body = {"messages": [{"to": TEST_NUMBER, "body": "hello", "voice": "robot"}]}
    answer = await sandbox.call("POST", "voice/send", json=body)
    assert answer.data["messages"][0]["status"] == "INVALID_VOICE"


async def test_a_voice_message_defaults_to_a_female_voice_in_us_english(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "voice/send", json={"messages": [{"to": TEST_NUMBER, "body": "hello"}]})
    message = answer.data["messages"][0]
    assert (message["status"], message["voice"], message["lang"]) == ("SUCCESS", "female", "en-us")


async def test_voice_languages_list_codes_with_both_genders(sandbox: Sandbox) -> None:
    languages = (await sandbox.call("GET", "voice/lang")).data
    assert {"code": "en-au", "country": "English, Australia", "gender": ["female", "male"]} in languages
    assert len(languages) >= 15


async def test_a_scheduled_voice_call_can_be_cancelled(sandbox: Sandbox) -> None:
    body = {"messages": [{"to": TEST_NUMBER, "body": "hello", "schedule": START + 600}]}
    sent = await sandbox.call("POST", "voice/send", json=body)
    cancel = await sandbox.call("PUT", f"voice/{sent.data['messages'][0]['message_id']}/cancel")
    assert cancel.code == "SUCCESS"
    (record,) = (await sandbox.call("GET", "voice/history")).data["data"]
    assert record["status"] == "Cancelled"


# --- contact lists -------------------------------------------------------------------------------------------------


async def test_a_fresh_sandbox_has_an_opt_out_list_and_a_list_of_two_test_contacts(sandbox: Sandbox) -> None:
    lists = (await sandbox.call("GET", "lists")).data["data"]
    assert [(item["list_name"], item["_contacts_count"]) for item in lists] == [
        ("Opt-Out List", 0),
        ("Sandbox Contacts", 2),
    ]
    assert all(len(item["list_email_id"]) == 16 for item in lists)


async def test_a_created_list_can_be_read_back(sandbox: Sandbox) -> None:
    list_id = await sandbox.new_list("Customers")
    found = (await sandbox.call("GET", f"lists/{list_id}")).data
    assert (found["list_name"], found["_contacts_count"]) == ("Customers", 0)


async def test_a_list_can_be_renamed(sandbox: Sandbox) -> None:
    list_id = await sandbox.new_list("Customers")
    answer = await sandbox.call("PUT", f"lists/{list_id}", json={"list_name": "Clients"})
    assert answer.data["list_name"] == "Clients"
    assert (await sandbox.call("GET", f"lists/{list_id}")).data["list_name"] == "Clients"


async def test_a_deleted_list_is_gone_with_its_contacts(sandbox: Sandbox) -> None:
    list_id = await sandbox.new_list("Temp")
    contact = await sandbox.new_contact(list_id, phone_number=TEST_NUMBER)
    assert (await sandbox.call("DELETE", f"lists/{list_id}")).code == "SUCCESS"
    assert (await sandbox.call("GET", f"lists/{list_id}")).status == 404
    assert contact["contact_id"] not in sandbox.state.contacts


async def test_remove_duplicates_deletes_repeated_phone_numbers_keeping_the_first(sandbox: Sandbox) -> None:
    list_id = await sandbox.new_list("Dupes")
    first = await sandbox.new_contact(list_id, phone_number=TEST_NUMBER, first_name="One")
    await sandbox.new_contact(list_id, phone_number=TEST_NUMBER, first_name="Two")
    await sandbox.new_contact(list_id, phone_number=OTHER_TEST_NUMBER)
    answer = await sandbox.call("PUT", f"lists/{list_id}/remove-duplicates")
    assert answer.data == {"deleted": 1}
    remaining = (await sandbox.call("GET", f"lists/{list_id}/contacts")).data["data"]
    assert [c["contact_id"] for c in remaining if c["phone_number"] == TEST_NUMBER] == [first["contact_id"]]


# --- contacts --------------------------------------------------------------------------------------------------------


async def test_a_contact_needs_a_phone_number_an_email_or_a_fax_number(sandbox: Sandbox) -> None:
    list_id = await sandbox.seeded_list_id()
    answer = await sandbox.call("POST", f"lists/{list_id}/contacts", json={"first_name": "Nobody"})
    assert (answer.status, answer.code) == (400, "MISSING_REQUIRED_FIELDS")


async def test_a_created_contact_has_every_clicksend_field(sandbox: Sandbox) -> None:
    list_id = await sandbox.seeded_list_id()
    contact = await sandbox.new_contact(list_id, email="grace@example.com", first_name="Grace")
    expected = {"contact_id", "list_id", "phone_number", "first_name", "last_name", "email", "fax_number"}
    expected |= {"organization_name", "custom_1", "custom_2", "custom_3", "custom_4", "address_line_1"}
    expected |= {"address_line_2", "address_city", "address_state", "address_postal_code", "address_country"}
    expected |= {"date_added"}
    assert expected <= set(contact)
    assert (contact["list_id"], contact["email"], contact["date_added"]) == (list_id, "grace@example.com", START)


async def test_a_contact_can_be_updated(sandbox: Sandbox) -> None:
    list_id = await sandbox.seeded_list_id()
    contact = await sandbox.new_contact(list_id, phone_number=REAL_LOOKING_NUMBER)
    path = f"lists/{list_id}/contacts/{contact['contact_id']}"
    await sandbox.call("PUT", path, json={"last_name": "Hopper"})
    assert (await sandbox.call("GET", path)).data["last_name"] == "Hopper"


async def test_a_deleted_contact_is_gone(sandbox: Sandbox) -> None:
    list_id = await sandbox.seeded_list_id()
    contact = await sandbox.new_contact(list_id, phone_number=REAL_LOOKING_NUMBER)
    path = f"lists/{list_id}/contacts/{contact['contact_id']}"
    assert (await sandbox.call("DELETE", path)).code == "SUCCESS"
    assert (await sandbox.call("GET", path)).status == 404


async def test_a_contact_is_not_found_through_another_list(sandbox: Sandbox) -> None:
    list_id = await sandbox.seeded_list_id()
    contact = await sandbox.new_contact(list_id, phone_number=REAL_LOOKING_NUMBER)
    other = await sandbox.new_list("Other")
    answer = await sandbox.call("GET", f"lists/{other}/contacts/{contact['contact_id']}")
    assert (answer.status, answer.code) == (404, "NOT_FOUND")


async def test_contacts_are_searchable_within_their_list(sandbox: Sandbox) -> None:
    list_id = await sandbox.seeded_list_id()
    found = (await sandbox.call("GET", f"lists/{list_id}/contacts", params={"q": "first_name:ada"})).data
    assert [c["phone_number"] for c in found["data"]] == [TEST_NUMBER]


async def test_updated_after_keeps_only_contacts_changed_since(sandbox: Sandbox) -> None:
    list_id = await sandbox.seeded_list_id()
    sandbox.clock.advance(100)
    fresh = await sandbox.new_contact(list_id, phone_number=REAL_LOOKING_NUMBER)
    params = {"updated_after": START + 50}
    found = (await sandbox.call("GET", f"lists/{list_id}/contacts", params=params)).data["data"]
    assert [c["contact_id"] for c in found] == [fresh["contact_id"]]


async def test_copying_a_contact_creates_a_new_contact_in_the_target_list(sandbox: Sandbox) -> None:
    source = await sandbox.seeded_list_id()
    contact = (await sandbox.call("GET", f"lists/{source}/contacts")).data["data"][0]
    target = await sandbox.new_list("Target")
    answer = await sandbox.call("PUT", f"lists/{source}/contacts/{contact['contact_id']}/copy/{target}")
    copied = answer.data
    assert copied["contact_id"] != contact["contact_id"]
    assert (copied["list_id"], copied["phone_number"]) == (target, contact["phone_number"])
    assert (await sandbox.call("GET", f"lists/{source}")).data["_contacts_count"] == 2


async def test_transferring_a_contact_moves_it_to_the_target_list(sandbox: Sandbox) -> None:
    source = await sandbox.seeded_list_id()
    contact = (await sandbox.call("GET", f"lists/{source}/contacts")).data["data"][0]
    target = await sandbox.new_list("Target")
    answer = await sandbox.call("PUT", f"lists/{source}/contacts/{contact['contact_id']}/transfer/{target}")
    assert (answer.data["contact_id"], answer.data["list_id"]) == (contact["contact_id"], target)
    assert (await sandbox.call("GET", f"lists/{source}")).data["_contacts_count"] == 1
    assert (await sandbox.call("GET", f"lists/{target}")).data["_contacts_count"] == 1


async def test_copying_a_contact_to_an_unknown_list_answers_404(sandbox: Sandbox) -> None:
    source = await sandbox.seeded_list_id()
    contact = (await sandbox.call("GET", f"lists/{source}/contacts")).data["data"][0]
    answer = await sandbox.call("PUT", f"lists/{source}/contacts/{contact['contact_id']}/copy/999")
    assert (answer.status, answer.code) == (404, "NOT_FOUND")


# --- SMS templates -------------------------------------------------------------------------------------------------


async def test_a_fresh_sandbox_has_one_sms_template(sandbox: Sandbox) -> None:
    templates = (await sandbox.call("GET", "sms/templates")).data
    assert templates["total"] == 1
    assert set(templates["data"][0]) == {"template_id", "template_name", "body"}


async def test_a_created_template_is_listed(sandbox: Sandbox) -> None:
    created = await sandbox.call("POST", "sms/templates", json={"template_name": "Promo", "body": "50% off"})
    assert created.msg == "New template has been saved."
    names = [t["template_name"] for t in (await sandbox.call("GET", "sms/templates")).data["data"]]
    assert "Promo" in names


async def test_a_template_without_a_body_answers_400_missing_required_fields(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "sms/templates", json={"template_name": "Promo"})
    assert (answer.status, answer.code) == (400, "MISSING_REQUIRED_FIELDS")
    assert "body" in answer.msg


async def test_a_template_can_be_updated(sandbox: Sandbox) -> None:
    created = await sandbox.call("POST", "sms/templates", json={"template_name": "Promo", "body": "50% off"})
    template_id = created.data["template_id"]
    updated = await sandbox.call("PUT", f"sms/templates/{template_id}", json={"body": "60% off"})
    assert (updated.data["template_name"], updated.data["body"]) == ("Promo", "60% off")


async def test_a_deleted_template_is_gone(sandbox: Sandbox) -> None:
    created = await sandbox.call("POST", "sms/templates", json={"template_name": "Promo", "body": "50% off"})
    template_id = created.data["template_id"]
    assert (await sandbox.call("DELETE", f"sms/templates/{template_id}")).code == "SUCCESS"
    assert (await sandbox.call("DELETE", f"sms/templates/{template_id}")).status == 404


# --- allowed email addresses ---------------------------------------------------------------------------------------


async def test_a_fresh_sandbox_allows_test1_at_test_com_verified(sandbox: Sandbox) -> None:
    (address,) = (await sandbox.call("GET", "email/addresses")).data["data"]
    assert (address["email_address"], address["verified"]) == ("test1@test.com", 1)
    assert set(address) == {"email_address_id", "email_address", "verified", "date_added"}


async def test_a_new_email_address_starts_unverified(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "email/addresses", json={"email_address": "me@example.com"})
    assert (answer.data["email_address"], answer.data["verified"], answer.data["date_added"]) == (
        "me@example.com",
        0,
        START,
    )


async def test_adding_an_email_address_twice_answers_400_already_exists(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "email/addresses", json={"email_address": "TEST1@test.com"})
    assert (answer.status, answer.code) == (400, "ALREADY_EXISTS")


async def test_a_deleted_email_address_is_gone(sandbox: Sandbox) -> None:
    created = await sandbox.call("POST", "email/addresses", json={"email_address": "me@example.com"})
    address_id = created.data["email_address_id"]
    assert (await sandbox.call("DELETE", f"email/addresses/{address_id}")).code == "SUCCESS"
    assert (await sandbox.call("GET", f"email/addresses/{address_id}")).status == 404


# --- state -----------------------------------------------------------------------------------------------------------


async def test_each_sandbox_state_is_independent() -> None:
    first, second = Sandbox(), Sandbox()
    await first.send_sms({"to": TEST_NUMBER, "body": "hi"})
    assert (len(first.state.messages["sms"]), len(second.state.messages["sms"])) == (1, 0)


async def test_an_app_can_be_given_an_existing_state() -> None:
    state = SandboxState(now=START, seed=False)
    app = create_sandbox_app(state=state)
    assert app.state.sandbox is state
    assert len(state.lists) == 0
