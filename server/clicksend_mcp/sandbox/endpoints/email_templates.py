"""Email templates: your own (CRUD, images) and ClickSend's master templates and their categories (read-only)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from ..call import Call
from ..catalog import EMAIL_CATEGORIES, MASTER_TEMPLATES, master_body, master_template
from ..collection import Record
from ..crud import Messages, Resource, crud_routes
from ..envelope import Reply, bad_request, not_found
from ..files import FILES_URL, decode_base64
from ..listing import listing
from ..routing import Route, route


def _master_id(raw: object) -> int:
    """A master template id (int or digit string) that exists; 404 otherwise."""
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int) or isinstance(raw, bool) or raw not in MASTER_TEMPLATES:
        raise not_found(f"Master template #{raw} not found.")
    return raw


def _check_template(_call: Call, draft: Record) -> None:
    """A new template starts as a copy of its master template's body."""
    draft["template_id_master"] = _master_id(draft.get("template_id_master"))
    if not isinstance(draft.get("template_name"), str) or not draft["template_name"].strip():
        raise bad_request("template_name must be a non-empty string.")
    if draft.get("body") in (None, ""):
        draft["body"] = master_body(draft["template_id_master"])
    elif not isinstance(draft["body"], str):
        raise bad_request("body must be a string of HTML.")


EMAIL_TEMPLATES = Resource(
    collection="email_templates",
    path="/email/templates",
    id_param="template_id",
    fields=("template_name", "template_id_master", "body"),
    required=("template_name", "template_id_master"),
    messages=Messages(
        listed="Here are your email templates.",
        fetched="Here is your email template.",
        created="New email template has been saved.",
        updated="Your email template has been updated.",
        deleted="Your email template has been deleted.",
    ),
    validate=_check_template,
    deleted_data=[],
)


@route("POST", "/email/templates-images/{template_id}")
def upload_template_image(call: Call) -> Reply:
    """Give exactly one of url or image; `data` is the hosted image URL to use in the template's HTML."""
    call.state.collection("email_templates").lookup(call.params["template_id"])
    body = call.json_object(required=True)
    has_url, has_image = body.get("url") not in (None, ""), body.get("image") not in (None, "")
    if has_url == has_image:
        raise bad_request("Give exactly one of url or image.", "MISSING_REQUIRED_FIELDS")
    extension = "png"
    if has_url:
        parts = urlsplit(str(body["url"]))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise bad_request(f"url must be an http(s) URL (got {body['url']!r}).")
        tail = parts.path.rsplit(".", 1)
        extension = tail[1].lower() if len(tail) == 2 and tail[1].isalnum() else extension
    else:
        decode_base64(body["image"], "image")
    return Reply(f"{FILES_URL}/{str(uuid.uuid4()).upper()}.{extension}", "Your image has been uploaded.")


@route("GET", "/email/master-templates")
def list_master_templates(call: Call) -> Reply:
    records = [master_template(template_id, with_body=False) for template_id in MASTER_TEMPLATES]
    return Reply(listing(call, records), "List of Email Master Templates")


@route("GET", "/email/master-templates/{template_id}")
def get_master_template(call: Call) -> Reply:
    template_id = _master_id(call.params["template_id"])
    return Reply(master_template(template_id, with_body=True), "Here is your email template")


def _category(call: Call) -> int:
    raw = call.params["category_id"]
    if not raw.isdigit() or int(raw) not in EMAIL_CATEGORIES:
        raise not_found(f"Email template category #{raw} not found.")
    return int(raw)


@route("GET", "/email/master-templates-categories")
def list_categories(call: Call) -> Reply:
    records = [{"category_id": number, "name": name} for number, name in EMAIL_CATEGORIES.items()]
    return Reply(listing(call, records), "List of Email Categories")


@route("GET", "/email/master-templates-categories/{category_id}")
def get_category(call: Call) -> Reply:
    category_id = _category(call)
    return Reply({"category_id": category_id, "name": EMAIL_CATEGORIES[category_id]}, "Here are your data.")


@route("GET", "/email/master-templates-categories/{category_id}/master-templates")
def list_category_templates(call: Call) -> Reply:
    category_id = _category(call)
    records = [
        master_template(template_id, with_body=False)
        for template_id, (_, category, _, _) in MASTER_TEMPLATES.items()
        if category == category_id
    ]
    return Reply(listing(call, records), "List of Email Templates By Category")


ROUTES: list[Route] = [
    *crud_routes(EMAIL_TEMPLATES),
    upload_template_image,
    list_master_templates,
    get_master_template,
    list_categories,
    get_category,
    list_category_templates,
]
