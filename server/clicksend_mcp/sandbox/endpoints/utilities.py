"""Utilities: countries and Global Sending selection, timezones, delivery issues, uploads and SDK downloads."""

from __future__ import annotations

from typing import Any

from ..call import Call
from ..catalog import GLOBAL_SENDING_IDS, SDK_TYPES, TIMEZONES, country_list, user_country
from ..collection import Record
from ..crud import Messages, Resource, crud_routes
from ..envelope import Reply, bad_request, missing_fields, not_found
from ..files import decode_base64, download_url, store_upload
from ..reference import countries_payload
from ..routing import Route, route
from .email_addresses import EMAIL_PATTERN

COUNTRIES_MSG = "Here are your countries selection."


@route("GET", "/countries")
def get_countries(_call: Call) -> Reply:
    return Reply(countries_payload(), "List of Countries.")


@route("GET", "/country-list")
def get_country_list(_call: Call) -> Reply:
    return Reply(country_list(), "List of Countries.")


@route("GET", "/timezones")
def get_timezones(_call: Call) -> Reply:
    return Reply(list(TIMEZONES), "List of timezones.")


def _selection(call: Call) -> list[Record]:
    return [user_country(number, agreed) for number, agreed in sorted(call.state.user_countries.items())]


def _country_ids(call: Call) -> list[int]:
    raw: Any = call.json_object(required=True).get("country_list_ids")
    if raw in (None, "", []):
        raise missing_fields("country_list_ids")
    if not isinstance(raw, list) or not all(isinstance(n, int) and not isinstance(n, bool) for n in raw):
        raise bad_request("country_list_ids must be an array of ids from GET /country-list.")
    unknown = sorted(set(raw) - set(GLOBAL_SENDING_IDS.values()))
    if unknown:
        raise bad_request(f"Unknown country ids {unknown}: take them from GET /country-list.")
    return list(dict.fromkeys(raw))


@route("GET", "/user-countries")
def get_user_countries(call: Call) -> Reply:
    return Reply(_selection(call), COUNTRIES_MSG)


@route("POST", "/user-countries")
def set_user_countries(call: Call) -> Reply:
    """Replaces the whole selection; countries kept stay agreed, new ones wait for POST /user-countries/agree."""
    ids = _country_ids(call)
    call.state.user_countries = {number: call.state.user_countries.get(number, 0) for number in ids}
    return Reply(_selection(call), COUNTRIES_MSG)


@route("POST", "/user-countries/agree")
def agree_user_countries(call: Call) -> Reply:
    ids = _country_ids(call)
    unselected = sorted(set(ids) - set(call.state.user_countries))
    if unselected:
        raise bad_request(f"Countries {unselected} are not selected: select them with POST /user-countries first.")
    for number in ids:
        call.state.user_countries[number] = call.state.user_countries[number] or call.now
    return Reply(_selection(call), COUNTRIES_MSG)


def _check_issue(call: Call, draft: Record) -> None:
    if not EMAIL_PATTERN.fullmatch(str(draft.get("email_address") or "")):
        raise bad_request(f"{draft.get('email_address')!r} is not a valid email address.")
    message_id = draft.get("message_id")
    if message_id not in (None, "") and call.state.find_message(str(message_id)) is None:
        raise not_found(f"Message {message_id} not found.")


DELIVERY_ISSUES = Resource(
    collection="delivery_issues",
    path="/delivery-issues",
    id_param="issue_id",
    fields=("type", "message_id", "description", "client_comments", "email_address"),
    required=("type", "description", "email_address"),
    operations=("list", "create"),
    messages=Messages(listed="Here is your result.", created="New delivery issue has been created."),
    defaults=lambda call: {
        "user_id": call.state.account["user_id"],
        "message_id": None,
        "client_comments": None,
        "support_comments": None,
        "status": None,
        "date_added": call.now,
        "resolved": 0,
    },
    validate=_check_issue,
)


@route("POST", "/uploads")
def upload(call: Call) -> Reply:
    """JSON {content: base64} with ?convert=fax|mms|csv|post|postcard; `_url` is the converted file."""
    convert = (call.query.get("convert") or call.json_object(required=True).get("convert") or "").strip().lower()
    if not convert:
        raise missing_fields("convert")
    content = decode_base64(call.json_object(required=True).get("content"), "content")
    return Reply(store_upload(call, content, convert), "Your file has been uploaded.")


@route("GET", "/sdk-download/{type}")
def sdk_download(call: Call) -> Reply:
    kind = call.params["type"].lower()
    if kind not in SDK_TYPES:
        raise not_found(f"No SDK for {call.params['type']!r}: choose one of {', '.join(SDK_TYPES)}.")
    return Reply({"type": kind, "url": download_url(call, f"clicksend-{kind}-sdk.zip")}, "Download your file here.")


ROUTES: list[Route] = [
    get_countries,
    get_country_list,
    get_timezones,
    get_user_countries,
    set_user_countries,
    agree_user_countries,
    *crud_routes(DELIVERY_ISSUES),
    upload,
    sdk_download,
]
