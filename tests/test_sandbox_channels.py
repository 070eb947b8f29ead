"""Sandbox channels beyond SMS: email, fax, letters, postcards, campaigns, read flags, test samples and statistics."""

from __future__ import annotations

from typing import Any

import pytest

from test_sandbox import OTHER_TEST_NUMBER, START, TEST_KEY, TEST_NUMBER, Sandbox
from test_sandbox_resources import bare

pytestmark = pytest.mark.anyio

TEST_FAX = "+61261111111"
DOCUMENT = "https://example.com/letter.pdf"
LATER = START + 3_600


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox()


def email(**extra: Any) -> dict[str, Any]:
    """A transactional email from the seeded, verified test1@test.com (allowed address #2)."""
    return {
        "to": [{"email": "test2@test.com", "name": "Alan"}],
        "from": {"email_address_id": 2, "name": "Sandbox"},
        "subject": "Hello",
        "body": "<p>Hello Alan</p>",
        **extra,
    }


def recipient(**extra: Any) -> dict[str, Any]:
    """A postal recipient at a test post code, sent from the seeded return address #4."""
    return {
        "address_name": "Ada Lovelace",
        "address_line_1": "1 Test Street",
        "address_city": "Perth",
        "address_state": "WA",
        "address_postal_code": "11111",
        "address_country": "AU",
        "return_address_id": 4,
        **extra,
    }


# --- email -------------------------------------------------------------------------------------------------------


async def test_a_sent_email_appears_in_email_history_as_delivered(sandbox: Sandbox) -> None:
    sent = await sandbox.call("POST", "email/send", json=email())
    assert (sent.code, sent.msg) == ("SUCCESS", "Transactional email queued for delivery.")
    (record,) = (await sandbox.call("GET", "email/history")).data["data"]
    assert (record["message_id"], record["status"]) == (sent.data["message_id"], "Delivered")
    assert record["to"] == [{"email": "test2@test.com", "name": "Alan"}]


async def test_a_scheduled_email_stays_scheduled_until_its_time(sandbox: Sandbox) -> None:
    await sandbox.call("POST", "email/send", json=email(schedule=LATER))
    assert (await sandbox.call("GET", "email/history")).data["data"][0]["status"] == "Scheduled"
    sandbox.clock.advance(3_600)
    assert (await sandbox.call("GET", "email/history")).data["data"][0]["status"] == "Delivered"


async def test_an_email_is_priced_per_recipient(sandbox: Sandbox) -> None:
    body = email(cc=[{"email": "test3@test.com"}], bcc=[{"email": "test1@test.com"}])
    quote = await sandbox.call("POST", "email/price", json=body)
    assert (quote.data["total_count"], quote.data["price"]) == (3, "0.0150")
    assert (await sandbox.call("GET", "email/history")).data["total"] == 0


async def test_an_email_from_an_unverified_address_answers_400(sandbox: Sandbox) -> None:
    address_id = (await sandbox.call("POST", "email/addresses", json={"email_address": "new@example.com"})).data[
        "email_address_id"
    ]
    answer = await sandbox.call("POST", "email/send", json=email(**{"from": {"email_address_id": address_id}}))
    assert answer.status == 400


async def test_an_email_to_a_malformed_address_answers_invalid_recipient(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "email/send", json=email(to=[{"email": "nobody"}]))
    assert (answer.status, answer.code) == (400, "INVALID_RECIPIENT")


async def test_a_test_email_receipt_is_shaped_like_clicksends(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "email/receipts", json={"url": "https://example.com/hook"})
    assert (answer.msg, answer.data["status"]) == ("Receipt has been added", "Delivered")
    assert answer.data["message_id"].endswith("@clicksend.com")


# --- fax -------------------------------------------------------------------------------------------------------------


async def test_a_fax_to_a_test_fax_number_is_in_fax_history_as_sent(sandbox: Sandbox) -> None:
    sent = await sandbox.call("POST", "fax/send", json={"file_url": DOCUMENT, "messages": [{"to": TEST_FAX}]})
    assert (sent.msg, sent.data["messages"][0]["status"]) == ("Fax queued for delivery.", "SUCCESS")
    (record,) = (await sandbox.call("GET", "fax/history")).data["data"]
    assert (record["to"], record["status"], record["_file_url"]) == (TEST_FAX, "Sent", DOCUMENT)


async def test_a_sent_fax_gets_a_delivery_receipt(sandbox: Sandbox) -> None:
    sent = await sandbox.call("POST", "fax/send", json={"file_url": DOCUMENT, "messages": [{"to": TEST_FAX}]})
    message_id = sent.data["messages"][0]["message_id"]
    receipt = await sandbox.call("GET", f"fax/receipts/{message_id}")
    assert (receipt.data["message_type"], receipt.data["status_code"]) == ("fax", "201")


async def test_a_fax_to_a_list_goes_to_each_contacts_fax_number(sandbox: Sandbox) -> None:
    list_id = await sandbox.new_list("Fax clients")
    await sandbox.new_contact(list_id, fax_number="+61262222222")
    await sandbox.new_contact(list_id, phone_number=TEST_NUMBER)
    sent = await sandbox.call("POST", "fax/send", json={"file_url": DOCUMENT, "messages": [{"list_id": list_id}]})
    assert [m["to"] for m in sent.data["messages"]] == ["+61262222222"]


async def test_a_fax_without_a_file_url_answers_400(sandbox: Sandbox) -> None:
    answer = await sandbox.call("POST", "fax/send", json={"messages": [{"to": TEST_FAX}]})
    assert (answer.status, answer.code) == (400, "MISSING_REQUIRED_FIELDS")


async def test_a_nocredit_fax_answers_insufficient_credit(sandbox: Sandbox) -> None:
    body = {"file_url": DOCUMENT, "messages": [{"to": TEST_FAX}]}
    answer = await sandbox.call("POST", "fax/send", json=body, auth=("nocredit", TEST_KEY))
    assert answer.code == "INSUFFICIENT_CREDIT"


# --- letters and postcards -------------------------------------------------------------------------------------------


async def test_a_letter_to_a_test_post_code_is_in_letter_history(sandbox: Sandbox) -> None:
    sent = await sandbox.call("POST", "post/letters/send", json={"file_url": DOCUMENT, "recipients": [recipient()]})
    assert (sent.msg, sent.data["queued_count"]) == ("Letters queued for delivery.", 1)
    (record,) = (await sandbox.call("GET", "post/letters/history")).data["data"]
    assert (record["address_postal_code"], record["status"]) == ("11111", "Sent")
    assert record["_return_address"]["return_address_id"] == 4


async def test_a_colour_priority_letter_costs_more(sandbox: Sandbox) -> None:
    plain = await sandbox.call("POST", "post/letters/price", json={"file_url": DOCUMENT, "recipients": [recipient()]})
    body = {"file_url": DOCUMENT, "recipients": [recipient()], "colour": 1, "priority_post": 1}
    fancy = await sandbox.call("POST", "post/letters/price", json=body)
    assert fancy.data["total_price"] > plain.data["total_price"] > 0


async def test_a_letter_from_an_unknown_return_address_answers_404(sandbox: Sandbox) -> None:
    body = {"file_url": DOCUMENT, "recipients": [recipient(return_address_id=999)]}
    assert (await sandbox.call("POST", "post/letters/send", json=body)).status == 404


async def test_a_letter_recipient_without_a_city_answers_missing_required_fields(sandbox: Sandbox) -> None:
    body = {"file_url": DOCUMENT, "recipients": [recipient(address_city="")]}
    answer = await sandbox.call("POST", "post/letters/send", json=body)
    assert (answer.code, answer.data["missing"]) == ("MISSING_REQUIRED_FIELDS", ["recipients[0].address_city"])


async def test_a_postcard_to_a_test_post_code_is_in_postcard_history(sandbox: Sandbox) -> None:
    body = {"file_urls": [DOCUMENT], "recipients": [recipient(address_postal_code="22222")]}
    sent = await sandbox.call("POST", "post/postcards/send", json=body)
    assert sent.msg == "Postcard queued for delivery."
    (record,) = (await sandbox.call("GET", "post/postcards/history")).data["data"]
    assert (record["message_id"], record["address_postal_code"]) == (sent.data["recipients"][0]["message_id"], "22222")


async def test_an_address_string_is_split_into_clicksends_fields(sandbox: Sandbox) -> None:
    answer = await sandbox.call(
        "POST", "post/letters/detect-address", json={"address": "John Doe, 123 Main St, Perth WA 6000"}
    )
    assert answer.data == {
        "address_name": "John Doe",
        "address_line_1": "123 Main St",
        "address_line_2": "",
        "address_city": "Perth",
        "address_state": "WA",
        "address_postal_code": "6000",
        "address_country": "AU",
    }


# --- campaigns -------------------------------------------------------------------------------------------------------


async def sms_campaign(sandbox: Sandbox, **extra: Any) -> dict[str, Any]:
    body = {"name": "Spring", "list_id": await sandbox.seeded_list_id(), "body": "Hi {first_name}", **extra}
    answer = await sandbox.call("POST", "sms-campaigns/send", json=body)
    assert answer.status == 200, answer.envelope
    return dict(answer.data)


async def test_a_scheduled_sms_campaign_is_listed_as_scheduled(sandbox: Sandbox) -> None:
    campaign = await sms_campaign(sandbox, schedule=LATER)
    (listed,) = (await sandbox.call("GET", "sms-campaigns")).data["data"]
    assert (listed["sms_campaign_id"], listed["status"], listed["_total_count"]) == (
        campaign["sms_campaign_id"],
        "Scheduled",
        2,
    )


async def test_a_cancelled_sms_campaign_never_sends_its_messages(sandbox: Sandbox) -> None:
    campaign = await sms_campaign(sandbox, schedule=LATER)
    cancelled = await sandbox.call("PUT", f"sms-campaigns/{campaign['sms_campaign_id']}/cancel")
    assert cancelled.data["status"] == "Cancelled"
    sandbox.clock.advance(7_200)
    history = (await sandbox.call("GET", "sms/history")).data["data"]
    assert sorted(m["status"] for m in history) == ["Cancelled", "Cancelled"]


async def test_an_immediate_sms_campaign_sends_each_contact_a_personal_sms(sandbox: Sandbox) -> None:
    campaign = await sms_campaign(sandbox)
    assert campaign["status"] == "Sent"
    history = (await sandbox.call("GET", "sms/history")).data["data"]
    assert sorted(m["body"] for m in history) == ["Hi Ada", "Hi Alan"]


async def test_a_sent_sms_campaign_cannot_be_cancelled(sandbox: Sandbox) -> None:
    campaign = await sms_campaign(sandbox)
    assert (await sandbox.call("PUT", f"sms-campaigns/{campaign['sms_campaign_id']}/cancel")).status == 400


async def test_an_sms_campaign_update_replaces_its_queued_messages(sandbox: Sandbox) -> None:
    campaign = await sms_campaign(sandbox, schedule=LATER)
    body = {"name": "Spring", "list_id": campaign["list_id"], "body": "Bye {first_name}", "schedule": LATER}
    updated = await sandbox.call("PUT", f"sms-campaigns/{campaign['sms_campaign_id']}", json=body)
    assert updated.data["body"] == "Bye {first_name}"
    history = (await sandbox.call("GET", "sms/history")).data["data"]
    assert sorted(m["body"] for m in history) == ["Bye Ada", "Bye Alan"]


async def test_an_sms_campaign_price_quotes_every_contact(sandbox: Sandbox) -> None:
    body = {"name": "Spring", "list_id": await sandbox.seeded_list_id(), "body": "Hi"}
    quote = await sandbox.call("POST", "sms-campaigns/price", json=body)
    assert (quote.data["total_count"], quote.data["total_price"]) == (2, "0.1540")
    assert (await sandbox.call("GET", "sms-campaigns")).data["total"] == 0


async def test_an_sms_campaign_to_an_unknown_list_answers_404(sandbox: Sandbox) -> None:
    body = {"name": "Spring", "list_id": 42, "body": "Hi"}
    assert (await sandbox.call("POST", "sms-campaigns/send", json=body)).status == 404


async def test_a_campaign_with_a_tracked_link_counts_every_recipient_unopened(sandbox: Sandbox) -> None:
    campaign = await sms_campaign(sandbox, url_to_shorten="https://example.com/offer")
    stats = (await sandbox.call("GET", f"sms-campaigns/{campaign['sms_campaign_id']}/link-statistics")).data
    assert stats["links"] == {"opened": 0, "unopened": 2}


async def test_an_mms_campaign_is_listed_with_its_media_file(sandbox: Sandbox) -> None:
    body = {
        "name": "Koala",
        "list_id": await sandbox.seeded_list_id(),
        "body": "Look",
        "subject": "Koalas",
        "media_file": "https://example.com/koala.jpg",
    }
    created = (await sandbox.call("POST", "mms-campaigns/send", json=body)).data
    (listed,) = (await sandbox.call("GET", "mms-campaigns")).data["data"]
    assert (listed["mms_campaign_id"], listed["_media_file_url"]) == (created["mms_campaign_id"], body["media_file"])
    assert (await sandbox.call("GET", "mms/history")).data["total"] == 2


async def email_campaign(sandbox: Sandbox, **extra: Any) -> dict[str, Any]:
    body = {
        "name": "News",
        "subject": "News",
        "body": "<p>News</p>",
        "from_email_address_id": 2,
        "from_name": "Sandbox",
        "list_id": await sandbox.seeded_list_id(),
        **extra,
    }
    answer = await sandbox.call("POST", "email-campaigns/send", json=body)
    assert answer.status == 200, answer.envelope
    return dict(answer.data["data"])


async def test_an_email_campaigns_history_has_a_row_per_contact_email(sandbox: Sandbox) -> None:
    campaign = await email_campaign(sandbox)
    rows = (await sandbox.call("GET", f"email-campaigns/{campaign['email_campaign_id']}/history")).data["data"]
    assert sorted((r["to_address"], r["status"]) for r in rows) == [
        ("test1@test.com", "Delivered"),
        ("test2@test.com", "Delivered"),
    ]


async def test_a_cancelled_email_campaign_shows_as_cancelled(sandbox: Sandbox) -> None:
    campaign = await email_campaign(sandbox, schedule=LATER)
    await sandbox.call("PUT", f"email-campaigns/{campaign['email_campaign_id']}/cancel")
    (listed,) = (await sandbox.call("GET", "email-campaigns")).data["data"]
    assert (listed["status"], listed["send_count"]) == ("Cancelled", 0)


async def test_a_direct_mail_campaign_is_listed(sandbox: Sandbox) -> None:
    location = (await sandbox.call("GET", "post/direct-mail/locations/search/AU", params={"q": "6000"})).data["data"]
    areas = [{"location_id": location[0]["location_id"], "quantity": 100}]
    body = {"name": "Flyers", "size": "DL", "file_urls": [DOCUMENT], "areas": areas}
    sent = await sandbox.call("POST", "post/direct-mail/campaigns/send", json=body)
    assert (sent.data["total_quantity"], sent.data["total_price"]) == (100, "44.0000")
    assert (await sandbox.call("GET", "post/direct-mail/campaigns")).data["total"] == 1


# --- read flags and test samples -------------------------------------------------------------------------------------


async def test_receipts_marked_read_leave_the_receipts_list_and_are_counted(sandbox: Sandbox) -> None:
    await sandbox.send_sms({"to": TEST_NUMBER, "body": "one"}, {"to": OTHER_TEST_NUMBER, "body": "two"})
    marked = await sandbox.call("PUT", "sms/receipts-read", json={})
    assert marked.data == {"count": 2}
    assert (await sandbox.call("GET", "sms/receipts")).data["total"] == 0


async def test_date_before_marks_only_older_receipts_read(sandbox: Sandbox) -> None:
    await sandbox.send_sms({"to": TEST_NUMBER, "body": "old"})
    sandbox.clock.advance(60)
    await sandbox.send_sms({"to": TEST_NUMBER, "body": "new"})
    marked = await sandbox.call("PUT", "sms/receipts-read", json={"date_before": START + 30})
    assert marked.data == {"count": 1}
    assert (await sandbox.call("GET", "sms/receipts")).data["total"] == 1


async def test_a_read_inbound_message_stays_readable_by_the_message_it_answers(sandbox: Sandbox) -> None:
    sent = await sandbox.send_sms({"to": TEST_NUMBER, "body": "ping"})
    (reply,) = (await sandbox.call("GET", "sms/inbound")).data["data"]
    assert (await sandbox.call("PUT", f"sms/inbound-read/{reply['message_id']}")).data == {"count": 1}
    assert (await sandbox.call("GET", "sms/inbound")).data["total"] == 0
    original = sent.data["messages"][0]["message_id"]
    assert (await sandbox.call("GET", f"sms/inbound/{original}")).data["message_id"] == reply["message_id"]


async def test_a_sample_receipt_for_poll_is_stored_with_the_receipts(sandbox: Sandbox) -> None:
    sample = await sandbox.call("POST", "sms/receipts", json={"url": "poll"})
    listed = (await sandbox.call("GET", "sms/receipts")).data["data"]
    assert [r["message_id"] for r in listed] == [sample.data["message_id"]]


async def test_a_sample_receipt_for_a_webhook_is_not_stored(sandbox: Sandbox) -> None:
    await sandbox.call("POST", "voice/receipts", json={"url": "https://example.com/hook"})
    assert (await sandbox.call("GET", "voice/receipts")).data["total"] == 0


# --- statistics and short links --------------------------------------------------------------------------------------


async def test_sms_statistics_count_todays_sent_messages(sandbox: Sandbox) -> None:
    await sandbox.send_sms({"to": TEST_NUMBER, "body": "one"}, {"to": OTHER_TEST_NUMBER, "body": "two"})
    stats = (await sandbox.call("GET", "statistics/sms")).data
    assert stats["total"]["outbound"] == {"count": 2, "price": 0.154}
    assert stats["total"]["inbound"]["count"] == 2


async def test_monthly_usage_groups_sent_messages_by_subaccount(sandbox: Sandbox) -> None:
    await sandbox.send_sms({"to": TEST_NUMBER, "body": "one"})
    usage = (await sandbox.call("GET", "account/usage/2027/1/subaccount")).data
    assert [(row["username"], row["total_count"]) for row in usage["sms"]] == [("sandbox", 1)]
    assert usage["fax_total"] == {"count": 0, "price": 0.0}


async def test_short_url_statistics_list_each_link_in_an_sms(sandbox: Sandbox) -> None:
    sent = await sandbox.send_sms({"to": TEST_NUMBER, "body": "See https://example.com/a and https://example.com/b"})
    message_id = sent.data["messages"][0]["message_id"]
    stats = (await sandbox.call("GET", f"short-url/statistics/quick_sms/{message_id}")).data
    assert [item["links"]["unopened"] for item in stats] == [1, 1]


async def test_short_link_tracking_shows_the_recipient_without_an_envelope(sandbox: Sandbox) -> None:
    sent = await sandbox.send_sms({"to": TEST_NUMBER, "body": "See https://example.com/a"})
    message_id = sent.data["messages"][0]["message_id"]
    (link,) = (await sandbox.call("GET", f"short-url/statistics/quick_sms/{message_id}")).data
    status, tracking = await bare(sandbox, "GET", f"short-url/tracking/{link['long_url_id']}")
    assert status == 200 and "response_code" not in tracking
    assert [(row["contact"]["phone_number"], row["open_count"]) for row in tracking["data"]] == [(TEST_NUMBER, 0)]
