"""Files the sandbox hands out: short-lived export download links, and uploaded (converted) files kept by URL."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable
from urllib.parse import quote

from .call import Call
from .collection import Record, public
from .envelope import Reply, bad_request, missing_fields
from .routing import Handler
from .state import SANDBOX_USER_ID, SandboxState

FILES_URL = "https://rest.clicksend.com/files"
EXPORT_LIFETIME = 1200  # seconds an export link works, like ClickSend's signed download links
UPLOAD_LIFETIME = 600  # uploaded files are deleted ten minutes after upload
# ?convert= value -> extension of the converted file (what the channel that uses it accepts).
CONVERSIONS: dict[str, str] = {"fax": "pdf", "post": "pdf", "postcard": "pdf", "mms": "jpg", "csv": "csv"}


def download_url(call: Call, filename: str) -> str:
    """A fresh short-lived link to a generated file."""
    file_id = str(uuid.uuid4()).upper()
    return f"{FILES_URL}/{file_id}?filename={quote(filename)}&expires={call.now + EXPORT_LIFETIME}"


def export_handler(default_name: str, check: Callable[[Call], object] | None = None) -> Handler:
    """GET .../export: `data.url` is a download link for the CSV (`check` raises for an unknown parent resource)."""

    def handle(call: Call) -> Reply:
        if check is not None:
            check(call)
        filename = (call.query.get("filename") or "").strip() or default_name
        return Reply({"url": download_url(call, filename)}, "Download your file here.")

    return handle


def decode_base64(raw: object, name: str) -> bytes:
    """The bytes of a base64 field; 400 when absent or not base64."""
    if not isinstance(raw, str) or not raw.strip():
        raise missing_fields(name)
    try:
        return base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"{name} must be base64-encoded file content.") from None


def store_upload(call: Call, content: bytes, convert: str) -> Record:
    """Keep an uploaded file, as converted for `convert`, and answer what POST /uploads shows."""
    if convert not in CONVERSIONS:
        raise bad_request(f"convert must be one of {', '.join(CONVERSIONS)} (got {convert!r}).")
    file_name = f"{str(uuid.uuid4()).upper()}.{CONVERSIONS[convert]}"
    record = call.state.collection("uploads").add(
        {
            "user_id": SANDBOX_USER_ID,
            "file_name": file_name,
            "_url": f"{FILES_URL}/{file_name}",
            "date_added": call.now,
            "date_delete": call.now + UPLOAD_LIFETIME,
            "__convert": convert,
            "__content": content,
        }
    )
    return public(record)


def uploaded_file(state: SandboxState, url: object) -> bytes | None:
    """The content of a file uploaded to this sandbox, by its URL; None for any other URL."""
    for record in state.collection("uploads"):
        if record["_url"] == url:
            content = record["__content"]
            return content if isinstance(content, bytes) else None
    return None
