"""Twelve everyday tasks an agent is given, each scripted as the calls an agent makes, each checked against the
sandbox's state (what ClickSend would now hold), not only against the answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agent import Agent

from fake_clicksend import FakeClickSend

SEND = "CLICKSEND_CREATE_SMS_SEND"
TEST_NUMBER = "+61411111111"


def ok(result: dict[str, Any]) -> dict[str, Any]:
    assert result["successful"], result
    return result["data"]


def seeded_list(fake: FakeClickSend) -> int:
    return next(r["list_id"] for r in fake.state.lists.all() if r["list_name"] == "Sandbox Contacts")


def sms_records(fake: FakeClickSend) -> list[dict[str, Any]]:
    return list(fake.state.messages["sms"].values())


async def balance(agent: Agent, fake: FakeClickSend) -> None:
    data = ok(await agent.use("CLICKSEND_GET_ACCOUNT", {}, query="account balance"))
    assert data["balance"] == fake.state.account["balance"]


async def list_with_three_contacts_and_an_edit(agent: Agent, fake: FakeClickSend) -> None:
    created = ok(await agent.use("CLICKSEND_CREATE_LISTS", {"list_name": "Book club"}, query="create contact list"))
    list_id = created["list_id"]
    ids = []
    for number, first in (("+61411111111", "Ann"), ("+61422222222", "Bob"), ("+61433333333", "Cy")):
        contact = ok(
            await agent.use(
                "CLICKSEND_CREATE_LISTS_CONTACTS",
                {"list_id": list_id, "phone_number": number, "first_name": first},
                query="add contact to list",
            )
        )
        ids.append(contact["contact_id"])
    ok(
        await agent.use(
            "CLICKSEND_UPDATE_LISTS_CONTACTS",
            {"list_id": list_id, "contact_id": ids[1], "first_name": "Robert"},
            query="update contact",
        )
    )
    members = fake.state.contacts.where(lambda c: c["list_id"] == list_id)
    assert sorted(c["first_name"] for c in members) == ["Ann", "Cy", "Robert"]


async def quote_send_to_a_list_and_check_delivery(agent: Agent, fake: FakeClickSend) -> None:
    lists = ok(await agent.use("CLICKSEND_GET_LISTS", {}, query="contact lists"))
    list_id = next(item["list_id"] for item in lists["data"] if item["list_name"] == "Sandbox Contacts")
    message = {"list_id": list_id, "body": "Hi {first_name}, the club meets at 7."}
    quote = ok(await agent.use(SEND, {"messages": [message], "dry_run": True}, query="send sms"))
    assert quote["quote"]["total_count"] == 2 and quote["quote"]["total_price"] > 0
    sent = ok(await agent.use(SEND, {"messages": [message]}, query="send sms"))
    first = sent["messages"][0]["message_id"]
    receipt = ok(
        await agent.use("CLICKSEND_SMS_RECEIPTS_BY_MESSAGE_ID_GET", {"message_id": first}, query="sms delivery receipt")
    )
    assert receipt["message_id"] == first
    bodies = sorted(r["body"] for r in sms_records(fake) if r.get("list_id") == list_id)
    assert bodies == ["Hi Ada, the club meets at 7.", "Hi Alan, the club meets at 7."]


async def inbound_replies_marked_read(agent: Agent, fake: FakeClickSend) -> None:
    inbound = ok(await agent.use("CLICKSEND_GET_SMS_INBOUND", {}, query="inbound sms replies"))
    replies = inbound["data"]
    assert len(replies) == 2
    last = max(r["timestamp_send"] for r in replies)
    marked = ok(
        await agent.use(
            "CLICKSEND_SMS_INBOUND_READ_PUT", {"date_before_inclusive": last}, query="mark inbound sms read"
        )
    )
    assert marked["count"] == 2
    assert fake.state.read["sms:inbound"] >= {r["message_id"] for r in replies}


async def template_used_and_deleted(agent: Agent, fake: FakeClickSend) -> None:
    created = ok(
        await agent.use(
            "CLICKSEND_CREATE_SMS_TEMPLATES",
            {"template_name": "Reminder", "body": "Your appointment is tomorrow."},
            query="create sms template",
        )
    )
    ok(await agent.use(SEND, {"messages": [{"to": TEST_NUMBER, "body": created["body"]}]}, query="send sms"))
    ok(
        await agent.use(
            "CLICKSEND_DELETE_SMS_TEMPLATES", {"template_id": created["template_id"]}, query="delete sms template"
        )
    )
    assert created["template_id"] not in fake.state.sms_templates
    assert any(r["body"] == "Your appointment is tomorrow." for r in sms_records(fake))


async def schedule_then_cancel(agent: Agent, fake: FakeClickSend) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    when = f"{tomorrow} 09:00 Australia/Sydney"
    sent = await agent.use(
        SEND, {"messages": [{"to": TEST_NUMBER, "body": "Doors open at 9", "schedule": when}]}, query="send sms"
    )
    message_id = ok(sent)["messages"][0]["message_id"]
    assert "Z" in sent["times_used"]["messages[0].schedule"]
    ok(await agent.use("CLICKSEND_DELETE_SMS_CANCEL", {"message_id": message_id}, query="cancel scheduled sms"))
    assert fake.state.messages["sms"][message_id]["status"] == "Cancelled"


async def voice_message_in_british_english(agent: Agent, fake: FakeClickSend) -> None:
    langs = ok(await agent.use("CLICKSEND_GET_VOICE_LANG", {}, query="voice languages"))
    british = next(item for item in langs if item["code"] == "en-gb")
    voice = british["gender"][0] if isinstance(british["gender"], list) else british["gender"]
    call = {"to": TEST_NUMBER, "body": "Your parcel has arrived.", "lang": "en-gb", "voice": voice}
    ok(await agent.use("CLICKSEND_VOICE_SEND_POST", {"messages": [call]}, query="voice call text to speech"))
    placed = list(fake.state.messages["voice"].values())
    assert [(r["to"], r["lang"]) for r in placed] == [(TEST_NUMBER, "en-gb")]


async def transactional_email(agent: Agent, fake: FakeClickSend) -> None:
    senders = ok(await agent.use("CLICKSEND_CREATE_EMAIL_ADDRESSES6", {}, query="allowed email sender addresses"))
    sender = next(a for a in senders["data"] if a["verified"] in (1, "1", True))
    email = {
        "to": [{"email": "test2@test.com", "name": "Alan"}],
        "from": {"email_address_id": sender["email_address_id"], "name": "Shop"},
        "subject": "Your receipt",
        "body": "<p>Thanks for your order.</p>",
    }
    ok(await agent.use("CLICKSEND_EMAIL_SEND_POST", email, query="send email"))
    assert [r["subject"] for r in fake.state.messages["email"].values()] == ["Your receipt"]


async def australian_number_price(agent: Agent, fake: FakeClickSend) -> None:
    found = ok(
        await agent.use(
            "CLICKSEND_GET_NUMBERS_SEARCH", {"country": "AU", "limit": 1}, query="dedicated number price search"
        )
    )
    number = found["data"][0]
    assert number["country"] == "AU" and float(number["price_total"]) > 0
    assert number["dedicated_number"].startswith("+61")


async def unsafe_send_is_refused(agent: Agent, fake: FakeClickSend) -> None:
    big = next(r["list_id"] for r in fake.state.lists.all() if r["list_name"] == "Everyone")
    before = len(sms_records(fake))
    refused = await agent.use(SEND, {"messages": [{"list_id": big, "body": "Sale!"}]}, query="send sms")
    assert refused["error_code"] == "REFUSED"
    assert "150 contacts" in refused["error"] and "at most 100" in refused["error"]
    assert len(sms_records(fake)) == before


async def picture_message_to_a_found_contact(agent: Agent, fake: FakeClickSend) -> None:
    hits = ok(
        await agent.use("CLICKSEND_SEARCH_CONTACTS_LISTS_GET", {"q": "Lovelace"}, query="search contacts by name")
    )
    number = next(h["contact"] for h in hits["data"] if h["type"] == "contact")
    mms = {
        "media_file": "https://example.com/cat.jpg",
        "messages": [{"to": number, "subject": "Hello", "body": "A picture for you"}],
    }
    ok(await agent.use("CLICKSEND_CREATE_MMS_SEND", mms, query="send mms picture"))
    assert [r["to"] for r in fake.state.messages["mms"].values()] == [number]


async def todays_history_in_few_fields(agent: Agent, fake: FakeClickSend) -> None:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    history = ok(
        await agent.use(
            "CLICKSEND_GET_SMS_HISTORY",
            {"date_from": f"{today}T00:00:00+00:00", "fields": ["to", "status"], "order_by": "date:desc"},
            query="sms history",
        )
    )
    assert history["data"] and all(set(item) <= {"to", "status"} for item in history["data"])
    assert {item["to"] for item in history["data"]} == {r["to"] for r in sms_records(fake)}


# --- preconditions (set up in the sandbox directly: they are not the agent's calls) ------------------------------


def two_unread_replies(fake: FakeClickSend) -> None:
    now = int(datetime.now(UTC).timestamp())
    for number in ("+61411111111", "+61422222222"):
        fake.state.inbound["sms"].append(
            {
                "timestamp_send": now,
                "timestamp": now,
                "from": number,
                "body": "See you there",
                "original_body": "Club tonight?",
                "original_message_id": fake.state.new_message_id(),
                "to": "+61481000000",
                "custom_string": "",
                "message_id": fake.state.new_message_id(),
                "_keyword": "sandbox",
            }
        )


def a_list_of_150(fake: FakeClickSend) -> None:
    everyone = fake.state.add_list("Everyone")
    for i in range(150):
        fake.state.add_contact(everyone["list_id"], {"phone_number": f"+614111{i:05d}"}, fake.state.created)


def a_message_sent_today(fake: FakeClickSend) -> None:
    now = int(datetime.now(UTC).timestamp())
    message_id = fake.state.new_message_id()
    fake.state.messages["sms"][message_id] = {
        "direction": "out",
        "date": now,
        "to": TEST_NUMBER,
        "body": "Earlier today",
        "from": "+61481000000",
        "schedule": now,
        "message_id": message_id,
        "message_parts": 1,
        "message_price": "0.0770",
        "status": "Delivered",
        "custom_string": "",
        "list_id": None,
    }


@dataclass(frozen=True)
class Task:
    name: str
    run: Callable[[Agent, FakeClickSend], Awaitable[None]]
    calls: int  # in the default selection
    discovery_calls: int  # in discovery mode (searching and describing each tool once per session)
    setup: Callable[[FakeClickSend], None] | None = None


TASKS = (
    Task("balance", balance, 1, 3),
    Task("list with three contacts and an edit", list_with_three_contacts_and_an_edit, 5, 10),
    Task("quote, send to a list, delivery status", quote_send_to_a_list_and_check_delivery, 4, 10),
    Task("inbound replies marked read", inbound_replies_marked_read, 2, 5, two_unread_replies),
    Task("a template used and deleted", template_used_and_deleted, 3, 9),
    Task("schedule then cancel", schedule_then_cancel, 2, 5),
    Task("a voice message in British English", voice_message_in_british_english, 2, 6),
    Task("a transactional email", transactional_email, 2, 6),
    Task("an Australian number's price", australian_number_price, 1, 3),
    Task("an unsafe send", unsafe_send_is_refused, 1, 3, a_list_of_150),
    Task("a picture message to a contact found by name", picture_message_to_a_found_contact, 2, 6),
    Task("today's SMS history, two fields", todays_history_in_few_fields, 1, 3, a_message_sent_today),
)
