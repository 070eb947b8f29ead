"""Contacts inside a list: list/search, CRUD, copy to another list and transfer between lists."""

from __future__ import annotations

from ..call import Call
from ..collection import Record
from ..envelope import Reply, bad_request, not_found
from ..listing import listing
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


ROUTES: list[Route] = [
    list_contacts,
    create_contact,
    get_contact,
    update_contact,
    delete_contact,
    copy_contact,
    transfer_contact,
]
