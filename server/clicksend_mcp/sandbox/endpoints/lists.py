"""Contact lists: CRUD with contact counts, cascading delete, clean-ups (duplicates, opt-outs) and export."""

from __future__ import annotations

from ..call import Call
from ..collection import Record
from ..crud import Messages, Resource, crud_routes
from ..envelope import Reply
from ..files import export_handler
from ..routing import Route, route
from ..state import list_email_id

REACH_FIELDS = ("phone_number", "email", "fax_number")


def list_view(call: Call, record: Record) -> Record:
    count = len(call.state.contacts.where(lambda c: c["list_id"] == record["list_id"]))
    return {**record, "_contacts_count": count, "_import_in_progress": 0, "_optout_in_progress": 0}


def drop_contacts(call: Call, record: Record) -> None:
    for contact in call.state.contacts.where(lambda c: c["list_id"] == record["list_id"]):
        call.state.contacts.remove(contact["contact_id"])


LISTS = Resource(
    collection="lists",
    path="/lists",
    id_param="list_id",
    fields=("list_name",),
    required=("list_name",),
    messages=Messages(
        listed="Here are your data.",
        fetched="Here are your data.",
        created="New list has been created.",
        updated="List #{id} has been updated.",
        deleted="List #{id} has been deleted.",
    ),
    defaults=lambda _call: {"list_email_id": list_email_id()},
    view=list_view,
    on_delete=drop_contacts,
    deleted_data=[],
)


@route("PUT", "/lists/{list_id}/remove-duplicates")
def remove_duplicates(call: Call) -> Reply:
    """Keeps the oldest contact of each phone number; contacts without a number are never duplicates."""
    list_id = call.id_param("list_id", "List")
    call.state.lists.require(list_id)
    seen: set[str] = set()
    deleted = 0
    for contact in call.state.contacts.where(lambda c: c["list_id"] == list_id):
        number = contact.get("phone_number")
        if not number:
            continue
        if number in seen:
            call.state.contacts.remove(contact["contact_id"])
            deleted += 1
        else:
            seen.add(number)
    return Reply({"deleted": deleted}, "Your list duplicate contacts has been deleted.")


def _list_id(call: Call, param: str = "list_id") -> int:
    list_id = call.id_param(param, "List")
    call.state.lists.require(list_id)
    return list_id


@route("PUT", "/lists/{list_id}/remove-opted-out-contacts/{opt_out_list_id}")
def remove_opted_out(call: Call) -> Reply:
    """Deletes every contact whose phone number, email or fax number is also in the opt-out list."""
    list_id = _list_id(call)
    opt_out_id = _list_id(call, "opt_out_list_id")
    opted_out = {
        (field, str(contact[field]).strip().lower())
        for contact in call.state.contacts.where(lambda c: c["list_id"] == opt_out_id)
        for field in REACH_FIELDS
        if contact.get(field)
    }
    deleted = 0
    if list_id != opt_out_id:
        for contact in call.state.contacts.where(lambda c: c["list_id"] == list_id):
            keys = {(field, str(contact[field]).strip().lower()) for field in REACH_FIELDS if contact.get(field)}
            if keys & opted_out:
                call.state.contacts.remove(contact["contact_id"])
                deleted += 1
    return Reply({"deleted": deleted}, "Optout contacts has been deleted.")


ROUTES: list[Route] = [
    *crud_routes(LISTS),
    remove_duplicates,
    remove_opted_out,
    Route("GET", "/lists/{list_id}/export", export_handler("contacts_export.csv", _list_id)),
]
