"""Sandbox resources that keep state: automations, subaccounts, addresses, templates, lists, numbers, billing."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx2
import pytest

from test_sandbox import BASE_URL, OTHER_TEST_NUMBER, START, TEST_NUMBER, Sandbox

pytestmark = pytest.mark.anyio

API_KEY_SHAPE = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
RECEIPT_RULE = {"rule_name": "Webhook", "match_type": 0, "action": "URL", "action_address": "https://example.com/hook"}
ADDRESS = {
    "address_name": "Head Office",
    "address_line_1": "1 Main Street",
    "address_city": "Perth",
    "address_state": "WA",
    "address_postal_code": "6000",
    "address_country": "AU",
}


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox()


async def bare(sandbox: Sandbox, method: str, path: str, json: Any = None) -> tuple[int, Any]:
    """For ClickSend's newer endpoints, which answer without the envelope."""
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with httpx2.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.request(method, path, json=json)
    return response.status_code, response.json()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def upload_csv(sandbox: Sandbox, text: str) -> str:
    answer = await sandbox.call("POST", "uploads", params={"convert": "csv"}, json={"content": b64(text)})
    return str(answer.data["_url"])


# --- automations ---------------------------------------------------------------------------------------------------


async def test_a_created_receipt_rule_can_be_read_back(sandbox: Sandbox) -> None:
    created = await sandbox.call("POST", "automations/sms/receipts", json={**RECEIPT_RULE, "enabled": 1})
    rule_id = created.data["receipt_rule_id"]
    fetched = await sandbox.call("GET", f"automations/sms/receipts/{rule_id}")
    assert {k: fetched.data[k] for k in RECEIPT_RULE} == RECEIPT_RULE
    assert fetched.data["enabled"] == 1


async def test_an_inbound_sms_rule_update_is_kept(sandbox: Sandbox) -> None:
    rule = {**RECEIPT_RULE, "dedicated_number": TEST_NUMBER, "message_search_type": 0, "enabled": 1}
    rule_id = (await sandbox.call("POST", "automations/sms/inbound", json=rule)).data["inbound_rule_id"]
    await sandbox.call("PUT", f"automations/sms/inbound/{rule_id}", json={**rule, "rule_name": "Renamed", "enabled": 0})
    fetched = (await sandbox.call("GET", f"automations/sms/inbound/{rule_id}")).data
    assert (fetched["rule_name"], fetched["enabled"]) == ("Renamed", 0)


async def test_a_deleted_automation_rule_answers_404(sandbox: Sandbox) -> None:
    rule = {**RECEIPT_RULE, "dedicated_number": TEST_NUMBER, "enabled": 1}
    rule_id = (await sandbox.call("POST", "automations/fax/inbound", json=rule)).data["inbound_rule_id"]
    assert (await sandbox.call("DELETE", f"automations/fax/inbound/{rule_id}")).status == 200
    assert (await sandbox.call("GET", f"automations/fax/inbound/{rule_id}")).status == 404


async def test_automation_rules_are_searchable_by_field(sandbox: Sandbox) -> None:
    for name in ("Alpha", "Beta"):
        await sandbox.call("POST", "automations/voice/receipts", json={**RECEIPT_RULE, "rule_name": name, "enabled": 1})
    page = (await sandbox.call("GET", "automations/voice/receipts", params={"q": "rule_name:bet"})).data
    assert [rule["rule_name"] for rule in page["data"]] == ["Beta"]


async def test_email_receipt_rules_live_under_the_plural_receipts_path(sandbox: Sandbox) -> None:
    await sandbox.call("POST", "automations/email/receipts", json={**RECEIPT_RULE, "enabled": 1})
    assert (await sandbox.call("GET", "automations/email/receipts")).data["total"] == 1
    assert (await sandbox.call("GET", "automations/email/receipt")).status == 404


async def test_a_rule_without_its_required_fields_answers_400(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "automations/fax/receipts", json={"rule_name": "x"})
    assert (answer.status, answer.code) == (400, "MISSING_REQUIRED_FIELDS")


# --- subaccounts ---------------------------------------------------------------------------------------------------

NEW_USER = {
    "api_username": "helpdesk",
    "password": "s3cret-Pass",
    "email": "helpdesk@example.com",
    "phone_number": OTHER_TEST_NUMBER,
    "first_name": "Grace",
    "last_name": "Hopper",
}


async def test_the_main_user_is_the_first_subaccount(sandbox: Sandbox) -> None:
    (main,) = (await sandbox.call("GET", "subaccounts")).data["data"]
    account = (await sandbox.call("GET", "account")).data
    assert main["subaccount_id"] == account["_subaccount"]["subaccount_id"]
    assert main["is_main"] == 1


async def test_a_created_subaccount_is_listed_with_an_api_key_but_no_password(sandbox: Sandbox) -> None:
    created = (await sandbox.call("POST", "subaccounts", json=NEW_USER)).data
    assert API_KEY_SHAPE.fullmatch(created["api_key"])
    assert "password" not in created
    listed = (await sandbox.call("GET", "subaccounts", params={"q": "api_username:helpdesk"})).data["data"]
    assert [item["subaccount_id"] for item in listed] == [created["subaccount_id"]]


async def test_a_taken_api_username_answers_already_exists(sandbox: Sandbox) -> None:
    await sandbox.call("POST", "subaccounts", json=NEW_USER)
    answer = await sandbox.call("POST", "subaccounts", json=NEW_USER)
    assert (answer.status, answer.code) == (400, "ALREADY_EXISTS")


async def test_a_subaccount_update_changes_only_the_given_fields(sandbox: Sandbox) -> None:
    subaccount_id = (await sandbox.call("POST", "subaccounts", json=NEW_USER)).data["subaccount_id"]
    await sandbox.call("PUT", f"subaccounts/{subaccount_id}", json={"last_name": "Murray", "access_billing": 0})
    fetched = (await sandbox.call("GET", f"subaccounts/{subaccount_id}")).data
    assert (fetched["first_name"], fetched["last_name"], fetched["access_billing"]) == ("Grace", "Murray", 0)


async def test_regenerating_an_api_key_replaces_it_with_a_new_key_of_the_same_shape(sandbox: Sandbox) -> None:
    created = (await sandbox.call("POST", "subaccounts", json=NEW_USER)).data
    regenerated = await sandbox.call("PUT", f"subaccounts/{created['subaccount_id']}/regen-api-key")
    new_key = regenerated.data["api_key"]
    assert API_KEY_SHAPE.fullmatch(new_key) and new_key != created["api_key"]
    assert (await sandbox.call("GET", f"subaccounts/{created['subaccount_id']}")).data["api_key"] == new_key


async def test_regenerating_the_main_users_key_changes_the_key_the_account_shows(sandbox: Sandbox) -> None:
    main_id = (await sandbox.call("GET", "account")).data["_subaccount"]["subaccount_id"]
    new_key = (await sandbox.call("PUT", f"subaccounts/{main_id}/regen-api-key")).data["api_key"]
    assert (await sandbox.call("GET", "account")).data["_subaccount"]["api_key"] == new_key


async def test_a_deleted_subaccount_answers_404(sandbox: Sandbox) -> None:
    subaccount_id = (await sandbox.call("POST", "subaccounts", json=NEW_USER)).data["subaccount_id"]
    await sandbox.call("DELETE", f"subaccounts/{subaccount_id}")
    assert (await sandbox.call("GET", f"subaccounts/{subaccount_id}")).status == 404


async def test_the_main_user_cannot_be_deleted(sandbox: Sandbox) -> None:
    main_id = (await sandbox.call("GET", "account")).data["_subaccount"]["subaccount_id"]
    assert (await sandbox.call("DELETE", f"subaccounts/{main_id}")).status == 400


# --- post return addresses -----------------------------------------------------------------------------------------


async def test_a_created_return_address_can_be_read_back(sandbox: Sandbox) -> None:
    created = (await sandbox.call("POST", "post/return-addresses", json=ADDRESS)).data
    fetched = (await sandbox.call("GET", f"post/return-addresses/{created['return_address_id']}")).data
    assert {k: fetched[k] for k in ADDRESS} == ADDRESS


async def test_a_return_address_can_be_updated(sandbox: Sandbox) -> None:
    address_id = (await sandbox.call("POST", "post/return-addresses", json=ADDRESS)).data["return_address_id"]
    await sandbox.call("PUT", f"post/return-addresses/{address_id}", json={**ADDRESS, "address_city": "Fremantle"})
    assert (await sandbox.call("GET", f"post/return-addresses/{address_id}")).data["address_city"] == "Fremantle"


async def test_a_deleted_return_address_answers_404(sandbox: Sandbox) -> None:
    address_id = (await sandbox.call("POST", "post/return-addresses", json=ADDRESS)).data["return_address_id"]
    await sandbox.call("DELETE", f"post/return-addresses/{address_id}")
    assert (await sandbox.call("GET", f"post/return-addresses/{address_id}")).status == 404


# --- email templates and addresses ----------------------------------------------------------------------------------


async def test_a_new_email_template_starts_from_its_master_templates_body(sandbox: Sandbox) -> None:
    master = (await sandbox.call("GET", "email/master-templates/64")).data
    created = (
        await sandbox.call("POST", "email/templates", json={"template_name": "B", "template_id_master": 64})
    ).data
    assert created["body"] == master["body"]
    assert created["template_id_master"] == 64


async def test_an_email_template_with_an_unknown_master_answers_404(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "email/templates", json={"template_name": "B", "template_id_master": 999})
    assert answer.status == 404


async def test_an_email_templates_body_can_be_replaced(sandbox: Sandbox) -> None:
    created = (await sandbox.call("POST", "email/templates", json={"template_name": "B", "template_id_master": 1})).data
    await sandbox.call("PUT", f"email/templates/{created['template_id']}", json={"body": "<p>New</p>"})
    fetched = (await sandbox.call("GET", f"email/templates/{created['template_id']}")).data
    assert (fetched["body"], fetched["template_name"]) == ("<p>New</p>", "B")


async def test_a_deleted_email_template_answers_404(sandbox: Sandbox) -> None:
    created = (await sandbox.call("POST", "email/templates", json={"template_name": "B", "template_id_master": 1})).data
    await sandbox.call("DELETE", f"email/templates/{created['template_id']}")
    assert (await sandbox.call("GET", f"email/templates/{created['template_id']}")).status == 404


async def test_master_templates_of_a_category_are_only_that_categorys(sandbox: Sandbox) -> None:
    page = (await sandbox.call("GET", "email/master-templates-categories/4/master-templates")).data
    assert {item["category_id"] for item in page["data"]} == {4}


async def test_an_allowed_address_is_verified_after_a_verification_email(sandbox: Sandbox) -> None:
    address_id = (await sandbox.call("POST", "email/addresses", json={"email_address": "me@example.com"})).data[
        "email_address_id"
    ]
    await sandbox.call("PUT", f"email/address-verify/{address_id}/send")
    verified = await sandbox.call("PUT", f"email/address-verify/{address_id}/verify/ABC123")
    assert verified.data["verified"] == 1
    assert (await sandbox.call("GET", f"email/addresses/{address_id}")).data["verified"] == 1


async def test_verifying_before_any_verification_email_answers_400(sandbox: Sandbox) -> None:
    address_id = (await sandbox.call("POST", "email/addresses", json={"email_address": "me@example.com"})).data[
        "email_address_id"
    ]
    assert (await sandbox.call("PUT", f"email/address-verify/{address_id}/verify/ABC123")).status == 400


async def test_an_email_to_sms_address_names_its_subaccount(sandbox: Sandbox) -> None:
    created = await sandbox.call("POST", "sms/email-sms", json={"email_address": "ops@example.com", "from": "Ops"})
    fetched = (await sandbox.call("GET", f"sms/email-sms/{created.data['email_address_id']}")).data
    assert (fetched["email_address"], fetched["_subaccount_name"]) == ("ops@example.com", "sandbox")


async def new_stripped_string(sandbox: Sandbox) -> int:
    answer = await sandbox.call("POST", "sms/email-sms-stripped-strings", json={"strip_string": "--"})
    return int(answer.data["rule_id"])


async def test_a_stripped_string_can_be_updated(sandbox: Sandbox) -> None:
    rule_id = await new_stripped_string(sandbox)
    await sandbox.call("PUT", f"sms/email-sms-stripped-strings/{rule_id}", json={"strip_string": "Sent from"})
    assert (await sandbox.call("GET", f"sms/email-sms-stripped-strings/{rule_id}")).data["strip_string"] == "Sent from"


async def test_a_deleted_stripped_string_answers_404(sandbox: Sandbox) -> None:
    rule_id = await new_stripped_string(sandbox)
    await sandbox.call("DELETE", f"sms/email-sms-stripped-strings/{rule_id}")
    assert (await sandbox.call("GET", f"sms/email-sms-stripped-strings/{rule_id}")).status == 404


# --- lists: exports, opt-outs, imports, search ------------------------------------------------------------------------


async def test_a_list_export_answers_a_short_lived_download_url(sandbox: Sandbox) -> None:
    list_id = await sandbox.seeded_list_id()
    answer = await sandbox.call("GET", f"lists/{list_id}/export", params={"filename": "contacts.csv"})
    assert answer.msg == "Download your file here."
    assert answer.data["url"].startswith("https://") and "filename=contacts.csv" in answer.data["url"]
    assert f"expires={START + 1200}" in answer.data["url"]


@pytest.mark.parametrize(
    "path", ["sms/history/export", "fax/history/export", "email/history/export", "post/letters/history/export"]
)
async def test_every_history_export_answers_a_download_url(sandbox: Sandbox, path: str) -> None:
    answer = await sandbox.call("GET", path, params={"filename": "export.csv"})
    assert "filename=export.csv" in answer.data["url"]


async def test_exporting_an_unknown_list_answers_404(sandbox: Sandbox) -> None:
    assert (await sandbox.call("GET", "lists/999/export", params={"filename": "x.csv"})).status == 404


async def test_remove_opted_out_contacts_deletes_the_contacts_in_the_opt_out_list(sandbox: Sandbox) -> None:
    list_id = await sandbox.seeded_list_id()
    opt_out = int((await sandbox.call("GET", "lists", params={"q": "list_name:Opt-Out"})).data["data"][0]["list_id"])
    await sandbox.new_contact(opt_out, phone_number=TEST_NUMBER)
    answer = await sandbox.call("PUT", f"lists/{list_id}/remove-opted-out-contacts/{opt_out}")
    assert answer.data == {"deleted": 1}
    left = (await sandbox.call("GET", f"lists/{list_id}/contacts")).data["data"]
    assert [contact["phone_number"] for contact in left] == [OTHER_TEST_NUMBER]


async def test_an_uploaded_csv_is_imported_into_the_list(sandbox: Sandbox) -> None:
    list_id = await sandbox.new_list("Imported")
    url = await upload_csv(sandbox, "phone,first_name\n+61433333333,Edsger\n+61444444444,Barbara\n")
    answer = await sandbox.call(
        "POST", f"lists/{list_id}/import", json={"file_url": url, "field_order": ["phone", "first_name"]}
    )
    assert answer.msg == "Your file is now queued."
    contacts = (await sandbox.call("GET", f"lists/{list_id}/contacts")).data["data"]
    assert sorted(c["first_name"] for c in contacts) == ["Barbara", "Edsger"]


async def test_an_import_from_an_outside_url_is_accepted_and_queued(sandbox: Sandbox) -> None:
    list_id = await sandbox.new_list("Imported")
    body = {"file_url": "https://example.com/contacts.csv", "field_order": ["phone"]}
    answer = await sandbox.call("POST", f"lists/{list_id}/import", json=body)
    assert (answer.status, answer.data["msg"]) == (200, "Messages put on queue.")


async def test_an_import_with_an_unknown_field_answers_400(sandbox: Sandbox) -> None:
    list_id = await sandbox.new_list("Imported")
    body = {"file_url": "https://example.com/contacts.csv", "field_order": ["shoe_size"]}
    assert (await sandbox.call("POST", f"lists/{list_id}/import", json=body)).status == 400


async def test_the_csv_preview_shows_the_first_row_of_an_uploaded_file(sandbox: Sandbox) -> None:
    list_id = await sandbox.new_list("Imported")
    url = await upload_csv(sandbox, "+61433333333,Edsger\n+61444444444,Barbara\n")
    answer = await sandbox.call("POST", f"lists/{list_id}/import-csv-preview", json={"file_url": url})
    assert answer.data == {"row": ["+61433333333", "Edsger"]}


async def test_the_import_fields_start_with_phone(sandbox: Sandbox) -> None:
    fields = (await sandbox.call("GET", f"lists/{await sandbox.seeded_list_id()}/import-fields")).data
    assert fields[0] == {"field": "phone", "label": "Phone"}


async def test_the_keyword_search_finds_lists_and_contacts(sandbox: Sandbox) -> None:
    page = (await sandbox.call("GET", "search/contacts-lists", params={"q": "sandbox"})).data
    assert [(item["type"], item["name"]) for item in page["data"]] == [("list", "Sandbox Contacts")]
    page = (await sandbox.call("GET", "search/contacts-lists", params={"q": "lovelace"})).data
    assert [(item["type"], item["contact"]) for item in page["data"]] == [("contact", TEST_NUMBER)]


async def test_contact_suggestions_are_a_plain_array_of_contacts(sandbox: Sandbox) -> None:
    suggestions = (await sandbox.call("GET", "contact-suggestions")).data
    assert {item["phone_number"] for item in suggestions} == {TEST_NUMBER, OTHER_TEST_NUMBER}


# --- uploads ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("convert", "extension"), [("fax", ".pdf"), ("mms", ".jpg"), ("csv", ".csv")])
async def test_an_upload_answers_the_url_of_the_converted_file(sandbox: Sandbox, convert: str, extension: str) -> None:
    answer = await sandbox.call("POST", "uploads", params={"convert": convert}, json={"content": b64("hello")})
    assert answer.data["_url"].startswith("https://") and answer.data["_url"].endswith(extension)
    assert answer.data["date_delete"] > answer.data["date_added"] == START


async def test_an_upload_that_is_not_base64_answers_400(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "uploads", params={"convert": "fax"}, json={"content": "not base64!"})
    assert answer.status == 400


async def test_an_upload_with_an_unknown_conversion_answers_400(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "uploads", params={"convert": "zip"}, json={"content": b64("x")})
    assert answer.status == 400


# --- dedicated numbers, alpha tags, default senders, own numbers ---------------------------------------------------


async def first_number_for_sale(sandbox: Sandbox, country: str = "AU") -> str:
    return str((await sandbox.call("GET", f"numbers/search/{country}")).data["data"][0]["dedicated_number"])


async def test_a_bought_number_is_listed_among_your_numbers(sandbox: Sandbox) -> None:
    number = await first_number_for_sale(sandbox)
    bought = await sandbox.call("POST", f"numbers/buy/{number}", json={"type": "sms"})
    assert (bought.msg, bought.data["dedicated_number"]) == ("Here is your new number.", number)
    listed = (await sandbox.call("GET", "numbers")).data["data"]
    assert [(item["dedicated_number"], item["type"]) for item in listed] == [(number, "sms")]


async def test_a_bought_number_is_no_longer_for_sale(sandbox: Sandbox) -> None:
    number = await first_number_for_sale(sandbox)
    await sandbox.call("POST", f"numbers/buy/{number}", json={"type": "sms"})
    assert await first_number_for_sale(sandbox) != number


async def test_buying_a_number_takes_its_price_from_the_balance(sandbox: Sandbox) -> None:
    number = await first_number_for_sale(sandbox)
    price = float((await sandbox.call("POST", f"numbers/buy/{number}", json={"type": "mms"})).data["price_total"])
    assert float((await sandbox.call("GET", "account")).data["balance"]) == pytest.approx(100 - price)


async def test_buying_a_number_that_is_not_for_sale_answers_404(sandbox: Sandbox) -> None:
    assert (await sandbox.call("POST", "numbers/buy/+61400000001", json={"type": "sms"})).status == 404


async def test_the_number_search_matches_digits(sandbox: Sandbox) -> None:
    page = (await sandbox.call("GET", "numbers/search/AU", params={"search": "62205", "search_type": 2})).data
    assert [item["dedicated_number"] for item in page["data"]] == ["+61480662205"]


async def test_an_alpha_tag_request_is_pending_and_answered_without_an_envelope(sandbox: Sandbox) -> None:
    status, created = await bare(sandbox, "POST", "alpha-tags", {"alpha_tag": "MyShop"})
    assert (status, created["alpha_tag"], created["status"]) == (200, "MyShop", "PENDING")
    assert "response_code" not in created


async def test_a_requested_alpha_tag_is_listed(sandbox: Sandbox) -> None:
    _, created = await bare(sandbox, "POST", "alpha-tags", {"alpha_tag": "MyShop"})
    _, listed = await bare(sandbox, "GET", "alpha-tags")
    assert [tag["id"] for tag in listed["alpha_tags"]] == [created["id"]]


async def test_a_requested_alpha_tag_can_be_fetched_by_id(sandbox: Sandbox) -> None:
    _, created = await bare(sandbox, "POST", "alpha-tags", {"alpha_tag": "MyShop"})
    _, fetched = await bare(sandbox, "GET", f"alpha-tags/{created['id']}")
    assert fetched == created


async def test_a_deleted_alpha_tag_answers_404(sandbox: Sandbox) -> None:
    _, created = await bare(sandbox, "POST", "alpha-tags", {"alpha_tag": "MyShop"})
    await bare(sandbox, "DELETE", f"alpha-tags/{created['id']}")
    status, _ = await bare(sandbox, "GET", f"alpha-tags/{created['id']}")
    assert status == 404


async def test_requesting_the_same_alpha_tag_twice_answers_already_exists(sandbox: Sandbox) -> None:
    await bare(sandbox, "POST", "alpha-tags", {"alpha_tag": "MyShop"})
    answer = await sandbox.call("POST", "alpha-tags", json={"alpha_tag": "myshop"})
    assert (answer.status, answer.code) == (400, "ALREADY_EXISTS")


async def test_a_default_sender_uses_an_alpha_tag_you_requested(sandbox: Sandbox) -> None:
    await bare(sandbox, "POST", "alpha-tags", {"alpha_tag": "MyShop"})
    strategy = [{"sender_type": "alpha_tag", "sender_id": "MyShop"}]
    body = {"country_code": "AU", "product_type": "SMS", "default_sender_strategies": strategy}
    created = (await sandbox.call("POST", "senders/default-senders", json=body)).data
    listed = (await sandbox.call("GET", "senders/default-senders")).data["data"]
    assert [item["id"] for item in listed] == [created["id"]]
    assert created["default_sender_strategies"][0]["sender_id"] == "MyShop"


async def test_a_default_sender_you_do_not_own_answers_400(sandbox: Sandbox) -> None:
    strategy = [{"sender_type": "alpha_tag", "sender_id": "NotMine"}]
    body = {"country_code": "AU", "product_type": "SMS", "default_sender_strategies": strategy}
    assert (await sandbox.call("POST", "senders/default-senders", json=body)).status == 400


async def shared_default_sender(sandbox: Sandbox) -> str:
    shared = [{"sender_type": "shared_longcode", "sender_id": ""}]
    body = {"country_code": "GB", "product_type": "SMS", "default_sender_strategies": shared}
    return str((await sandbox.call("POST", "senders/default-senders", json=body)).data["id"])


async def test_a_default_senders_strategy_can_be_replaced(sandbox: Sandbox) -> None:
    sender_id = await shared_default_sender(sandbox)
    await bare(sandbox, "POST", "alpha-tags", {"alpha_tag": "MyShop"})
    tag = [{"sender_type": "alpha_tag", "sender_id": "MyShop"}]
    await sandbox.call("PATCH", f"senders/default-senders/{sender_id}", json={"default_sender_strategies": tag})
    fetched = (await sandbox.call("GET", f"senders/default-senders/{sender_id}")).data
    assert fetched["default_sender_strategies"][0]["sender_type"] == "alpha_tag"


async def test_a_deleted_default_sender_answers_404(sandbox: Sandbox) -> None:
    sender_id = await shared_default_sender(sandbox)
    await sandbox.call("DELETE", f"senders/default-senders/{sender_id}")
    assert (await sandbox.call("GET", f"senders/default-senders/{sender_id}")).status == 404


async def test_a_verified_own_number_is_listed(sandbox: Sandbox) -> None:
    _, started = await bare(sandbox, "POST", "own-numbers/verifications", {"phone_number": TEST_NUMBER, "label": "Me"})
    body = {"code": "A1B2C3", "phone_number": TEST_NUMBER}
    _, verified = await bare(sandbox, "POST", f"own-numbers/verifications/{started['id']}/verify", body)
    assert verified["status"] == "APPROVED"
    _, listed = await bare(sandbox, "GET", "own-numbers")
    assert [(item["id"], item["phone_number"]) for item in listed["own_numbers"]] == [
        (verified["own_number_id"], TEST_NUMBER)
    ]


async def test_a_wrong_own_number_code_uses_up_an_attempt(sandbox: Sandbox) -> None:
    _, started = await bare(sandbox, "POST", "own-numbers/verifications", {"phone_number": TEST_NUMBER})
    body = {"code": "12", "phone_number": TEST_NUMBER}
    _, answer = await bare(sandbox, "POST", f"own-numbers/verifications/{started['id']}/verify", body)
    assert (answer["status"], answer["remaining_attempts"]) == ("PENDING", 2)


# --- billing and reseller --------------------------------------------------------------------------------------------


async def test_a_package_purchase_adds_credit_and_a_transaction(sandbox: Sandbox) -> None:
    await sandbox.call("PUT", "recharge/purchase/2")
    assert (await sandbox.call("GET", "account")).data["balance"] == "150.00"
    (transaction,) = (await sandbox.call("GET", "recharge/transactions")).data["data"]
    assert (transaction["amount"], transaction["currency"], transaction["date"]) == (50, "AUD", START)
    fetched = (await sandbox.call("GET", f"recharge/transactions/{transaction['transaction_id']}")).data
    assert fetched == transaction


async def test_an_unknown_package_answers_404(sandbox: Sandbox) -> None:
    assert (await sandbox.call("PUT", "recharge/purchase/99")).status == 404


async def test_a_new_credit_card_is_stored_masked(sandbox: Sandbox) -> None:
    card = {"number": "4111 1111 1111 1111", "expiry_month": 4, "expiry_year": 2031, "cvc": "123"}
    answer = await sandbox.call("PUT", "recharge/credit-card", json={**card, "name": "A Lovelace", "bank_name": "B"})
    assert answer.data["token"].startswith("cus_")
    stored = (await sandbox.call("GET", "recharge/credit-card")).data
    assert stored == {
        "display_number": "XXXX-XXXX-XXXX-1111",
        "expiry_month": 4,
        "expiry_year": 2031,
        "name": "A Lovelace",
    }


async def test_transferring_credit_to_a_reseller_client_moves_the_balance(sandbox: Sandbox) -> None:
    client = {
        "username": "client1",
        "password": "pw-123456",
        "user_email": "client1@example.com",
        "user_phone": OTHER_TEST_NUMBER,
        "user_first_name": "Cli",
        "user_last_name": "Ent",
        "account_name": "Client Co",
        "country": "AU",
    }
    user_id = (await sandbox.call("POST", "reseller/accounts", json=client)).data["user_id"]
    body = {"client_user_id": user_id, "balance": 30, "currency": "AUD"}
    moved = await sandbox.call("PUT", "reseller/transfer-credit", json=body)
    assert moved.data["balance"] == "30.00"
    assert (await sandbox.call("GET", "account")).data["balance"] == "70.00"
