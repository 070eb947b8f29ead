"""Contact imports into a list: acceptable fields, CSV preview, and the (immediate, in the sandbox) import itself."""

from __future__ import annotations

import csv
import io
import secrets
from urllib.parse import urlsplit

from ..call import Call
from ..catalog import IMPORT_FIELDS, IMPORT_TO_CONTACT
from ..envelope import Reply, bad_request, missing_fields
from ..files import uploaded_file
from ..routing import Route, route
from .contacts import CONTACT_FIELDS, REACH_FIELDS

_IMPORT_NAMES = {name for name, _ in IMPORT_FIELDS}
_LABELS = {label.lower() for _, label in IMPORT_FIELDS}


def _list_id(call: Call) -> int:
    list_id = call.id_param("list_id", "List")
    call.state.lists.require(list_id)
    return list_id


def _file_url(call: Call) -> str:
    url = call.json_object(required=True).get("file_url")
    if not isinstance(url, str) or not url.strip():
        raise missing_fields("file_url")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise bad_request(f"file_url must be an http(s) URL (got {url!r}).")
    return url.strip()


def _rows(call: Call, url: str) -> list[list[str]] | None:
    """The CSV rows of a file uploaded to this sandbox; None for a file elsewhere (the sandbox has no network)."""
    content = uploaded_file(call.state, url)
    if content is None:
        return None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise bad_request("The file is not a UTF-8 CSV file.") from None
    return [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]


def _contact_field(name: str) -> str:
    """An import field name (phone, custom1) or a contact field name (phone_number) -> the contact field."""
    if name in IMPORT_TO_CONTACT:
        return IMPORT_TO_CONTACT[name]
    if name in CONTACT_FIELDS:
        return name
    raise bad_request(f"Unknown import field {name!r}: see GET /lists/{{list_id}}/import-fields.")


def _field_order(call: Call) -> list[str]:
    order = call.json_object(required=True).get("field_order")
    if order in (None, "", []):
        raise missing_fields("field_order")
    if isinstance(order, str):
        order = [part.strip() for part in order.split(",")]
    if not isinstance(order, list) or not all(isinstance(name, str) for name in order):
        raise bad_request("field_order must be an array of field names.")
    return [_contact_field(name.strip()) for name in order]


def _is_header(row: list[str]) -> bool:
    cells = {cell.strip().lower() for cell in row if cell.strip()}
    return bool(cells) and cells <= (_IMPORT_NAMES | _LABELS | set(CONTACT_FIELDS))


@route("GET", "/lists/{list_id}/import-fields")
def import_fields(call: Call) -> Reply:
    _list_id(call)
    return Reply(
        [{"field": name, "label": label} for name, label in IMPORT_FIELDS], "List of acceptable import fields."
    )


@route("POST", "/lists/{list_id}/import-csv-preview")
def import_preview(call: Call) -> Reply:
    _list_id(call)
    url = _file_url(call)
    rows = _rows(call, url)
    if rows is None:
        raise bad_request(
            f"The sandbox cannot fetch {url}: upload the file with POST /uploads?convert=csv and preview that URL."
        )
    return Reply({"row": rows[0] if rows else []}, "Your file preview.")


@route("POST", "/lists/{list_id}/import")
def import_contacts(call: Call) -> Reply:
    """Queues the import. A file uploaded to this sandbox is imported at once; any other URL is accepted as is."""
    list_id = _list_id(call)
    url = _file_url(call)
    fields = _field_order(call)
    rows = _rows(call, url) or []
    if rows and _is_header(rows[0]):
        rows = rows[1:]
    for row in rows:
        values = {field: cell.strip() for field, cell in zip(fields, row, strict=False) if cell.strip()}
        if any(values.get(name) for name in REACH_FIELDS):
            call.state.add_contact(list_id, values, call.now)
    job_id = str(secrets.randbelow(9 * 10**18) + 10**18)
    return Reply({"msg": "Messages put on queue.", "ids": [job_id], "id": job_id}, "Your file is now queued.")


ROUTES: list[Route] = [import_fields, import_preview, import_contacts]
