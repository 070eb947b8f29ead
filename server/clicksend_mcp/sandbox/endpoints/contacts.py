"""Contacts: CRUD inside a list, copy and transfer between lists, suggestions, and keyword search with lists."""

from __future__ import annotations

from collections import Counter

from ..call import Call
from ..collection import Record
from ..envelope import Reply, bad_request, not_found
from ..listing import listing, page_of
from ..routing import Route, route

CONTACT_FIELDS = (
    "phone_number",
    "first_name",
    "last_name",
    "email",
    "fax_number",
    "organization_name",
    "custom_1",
    "custom_2",
    "custom_3",
    "custom_4",
    "address_line_1",
    "address_line_2",
    "address_city",
    "address_state",
    "address_postal_code",
    "address_country",
)
REACH_FIELDS = ("phone_number", "email", "fax_number")  # a contact needs at least one


def contact_view(call: Call, record: Record) -> Record:
    owner = call.state.lists.get(record["list_id"])
    return {**record, "_list_name": owner["list_name"] if owner else None}


def _list_id(call: Call, param: str = "list_id") -> int:
    list_id = call.id_param(param, "List")
    call.state.lists.require(list_id)
    return list_id


def _contact(call: Call, list_id: int) -> Record:
    contact_id = call.id_param("contact_id", "Contact")
    contact = call.state.contacts.get(contact_id)
    if contact is None or contact["list_id"] != list_id:
        raise not_found(f"Contact #{contact_id} not found in list #{list_id}.")
    return contact


def _fields(call: Call) -> Record:
    body = call.json_object(required=True)
    fields = {name: body[name] for name in CONTACT_FIELDS if name in body}
    for name, value in fields.items():
        if value is not None and not isinstance(value, str):
            raise bad_request(f"{name} must be a string.")
    return fields


@route("GET", "/lists/{list_id}/contacts")
def list_contacts(call: Call) -> Reply:
    list_id = _list_id(call)
    updated_after = call.int_query("updated_after")
    records = [
        contact_view(call, contact)
        for contact in call.state.contacts.where(lambda c: c["list_id"] == list_id)
        if updated_after is None or int(contact["date_updated"]) > updated_after
    ]
    return Reply(listing(call, records), "Here's your list of contacts.")


@route("POST", "/lists/{list_id}/contacts")
def create_contact(call: Call) -> Reply:
    list_id = _list_id(call)
    fields = _fields(call)
    call.require_any(fields, *REACH_FIELDS)
    contact = call.state.add_contact(list_id, fields, call.now)
    return Reply(contact_view(call, contact), "New contact has been created.")


@route("GET", "/lists/{list_id}/contacts/{contact_id}")
def get_contact(call: Call) -> Reply:
    return Reply(contact_view(call, _contact(call, _list_id(call))), "Here are your data.")


@route("PUT", "/lists/{list_id}/contacts/{contact_id}")
def update_contact(call: Call) -> Reply:
    contact = _contact(call, _list_id(call))
    fields = _fields(call)
    call.require_any({**contact, **fields}, *REACH_FIELDS)
    contact.update(fields, date_updated=call.now)
    return Reply(contact_view(call, contact), f"Contact #{contact['contact_id']} has been updated successfully.")


@route("DELETE", "/lists/{list_id}/contacts/{contact_id}")
def delete_contact(call: Call) -> Reply:
    contact = _contact(call, _list_id(call))
    call.state.contacts.remove(contact["contact_id"])
    return Reply([], f"Contact #{contact['contact_id']} has been deleted.")


@route("PUT", "/lists/{from_list_id}/contacts/{contact_id}/copy/{to_list_id}")
def copy_contact(call: Call) -> Reply:
    contact = _contact(call, _list_id(call, "from_list_id"))
    to_list = _list_id(call, "to_list_id")
    fields = {name: contact[name] for name in CONTACT_FIELDS}
    copied = call.state.add_contact(to_list, fields, call.now)
    msg = f"Contact #{contact['contact_id']} has been copied to List #{to_list}"
    return Reply(contact_view(call, copied), msg)


@route("PUT", "/lists/{from_list_id}/contacts/{contact_id}/transfer/{to_list_id}")
def transfer_contact(call: Call) -> Reply:
    contact = _contact(call, _list_id(call, "from_list_id"))
    to_list = _list_id(call, "to_list_id")
    contact.update(list_id=to_list, date_updated=call.now)
    msg = f"Contact #{contact['contact_id']} has been transferred to List #{to_list}"
    return Reply(contact_view(call, contact), msg)


@route("GET", "/contact-suggestions")
def contact_suggestions(call: Call) -> Reply:
    """Contacts from every list, most recently changed first; `page`/`limit` slice the plain array."""
    page = call.int_query("page") or 1
    limit = min(max(call.int_query("limit") or 10, 1), 100)
    recent = sorted(call.state.contacts.all(), key=lambda c: -int(c["date_updated"]))
    chunk = recent[(max(page, 1) - 1) * limit :][:limit]
    return Reply([contact_view(call, contact) for contact in chunk], "Here are your contact suggestions.")


def _name(contact: Record) -> str:
    return " ".join(part for part in (contact.get("first_name"), contact.get("last_name")) if part)


@route("GET", "/search/contacts-lists")
def search_contacts_lists(call: Call) -> Reply:
    """`q` is a plain keyword matched against list names and contacts' names, numbers and emails."""
    keyword = (call.query.get("q") or "").strip().lower()
    if not keyword:
        raise bad_request("q (the keyword to search for) is required.", "MISSING_REQUIRED_FIELDS")
    counts = Counter(contact["list_id"] for contact in call.state.contacts)
    results: list[Record] = []
    for item in call.state.lists:
        if keyword in str(item["list_name"]).lower():
            contact = item["list_email_id"]
            results.append({"type": "list", "id": item["list_id"], "name": item["list_name"], "contact": contact})
            results[-1]["contacts_count"] = counts[item["list_id"]]
    for contact in call.state.contacts:
        haystack = " ".join(str(contact.get(f) or "") for f in ("first_name", "last_name", *REACH_FIELDS)).lower()
        if keyword in haystack:
            reach = contact.get("phone_number") or contact.get("email") or contact.get("fax_number")
            name = _name(contact) or reach
            results.append({"type": "contact", "id": contact["contact_id"], "name": name, "contact": reach})
            results[-1]["contacts_count"] = None
    return Reply(page_of(call, results), "Here are some search result.")


ROUTES: list[Route] = [
    contact_suggestions,
    search_contacts_lists,
    list_contacts,
    create_contact,
    get_contact,
    update_contact,
    delete_contact,
    copy_contact,
    transfer_contact,
]
