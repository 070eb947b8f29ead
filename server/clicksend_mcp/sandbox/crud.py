"""Generic list/get/create/update/delete routes for a simple resource kept in one Collection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .call import Call
from .collection import Collection, Record, public
from .envelope import Reply, missing_fields
from .listing import listing
from .routing import Route

View = Callable[[Call, Record], Record]
Hook = Callable[[Call, Record], None]


def plain_view(_call: Call, record: Record) -> Record:
    return public(record)


def no_hook(_call: Call, _record: Record) -> None:
    return None


@dataclass(frozen=True)
class Messages:
    """response_msg per operation; `{id}` is replaced by the record id."""

    listed: str = "Here are your data."
    fetched: str = "Here are your data."
    created: str = "Created."
    updated: str = "Updated."
    deleted: str = "Deleted."


@dataclass(frozen=True)
class Resource:
    """A simple resource: `path` is the collection URL, `path/{id_param}` the item URL."""

    collection: str  # name in SandboxState.COLLECTIONS
    path: str
    id_param: str
    fields: tuple[str, ...]  # writable body fields
    required: tuple[str, ...] = ()  # required on create
    messages: Messages = field(default_factory=Messages)
    operations: tuple[str, ...] = ("list", "get", "create", "update", "delete")
    defaults: Callable[[Call], Record] = field(default=lambda _call: {})  # extra fields on create
    view: View = plain_view  # how a stored record is shown
    validate: Hook = no_hook  # raise SandboxError for a bad create/update (record is the merged result)
    on_delete: Hook = no_hook  # cascade
    deleted_data: Any = None  # data of the delete answer


def _items(call: Call, resource: Resource) -> Collection:
    return call.state.collection(resource.collection)


def _target(call: Call, resource: Resource) -> Record:
    return _items(call, resource).lookup(call.params[resource.id_param])


def _writable(body: Record, resource: Resource) -> Record:
    return {name: body[name] for name in resource.fields if name in body}


def _say(template: str, record_id: int) -> str:
    return template.replace("{id}", str(record_id))


def crud_routes(resource: Resource) -> list[Route]:
    """The routes for the resource's `operations`."""
    item_path = f"{resource.path}/{{{resource.id_param}}}"
    msgs = resource.messages

    def list_all(call: Call) -> Reply:
        records = [resource.view(call, record) for record in _items(call, resource)]
        return Reply(listing(call, records), msgs.listed)

    def get_one(call: Call) -> Reply:
        return Reply(resource.view(call, _target(call, resource)), msgs.fetched)

    def create(call: Call) -> Reply:
        body = call.json_object(required=True)
        call.require(body, *resource.required)
        draft = {**resource.defaults(call), **_writable(body, resource)}
        resource.validate(call, draft)
        record = _items(call, resource).add(draft)
        return Reply(resource.view(call, record), _say(msgs.created, record[_items(call, resource).id_field]))

    def update(call: Call) -> Reply:
        record = _target(call, resource)
        changes = _writable(call.json_object(required=True), resource)
        if not changes:
            raise missing_fields(" or ".join(resource.fields))
        merged = {**record, **changes}
        resource.validate(call, merged)  # may normalise values (e.g. flags to 0/1)
        record.update(merged)
        if "date_updated" in record:
            record["date_updated"] = call.now
        return Reply(resource.view(call, record), _say(msgs.updated, record[_items(call, resource).id_field]))

    def delete(call: Call) -> Reply:
        record = _target(call, resource)
        items = _items(call, resource)
        resource.on_delete(call, record)
        items.remove(record[items.id_field])
        return Reply(resource.deleted_data, _say(msgs.deleted, record[items.id_field]))

    table = {
        "list": Route("GET", resource.path, list_all),
        "get": Route("GET", item_path, get_one),
        "create": Route("POST", resource.path, create),
        "update": Route("PUT", item_path, update),
        "delete": Route("DELETE", item_path, delete),
    }
    unknown = set(resource.operations) - set(table)
    if unknown:
        raise ValueError(f"unknown CRUD operations {sorted(unknown)} for {resource.path}")
    return [table[name] for name in resource.operations]
