"""MMS: the channel definition (subject and media checks) and its endpoints (send, history, receipts, cancel)."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..channels import Channel, Record
from ..files import export_handler
from ..inbox import RECEIPTS, mark_read_handler, receipt_handler, receipts_handler
from ..message_store import cancel_all_handler, cancel_handler, history_handler
from ..messaging import price_handler, send_handler
from ..pricing import MMS_PRICES, single_part
from ..routing import Route

MEDIA_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif")


def valid_media_url(value: object) -> bool:
    """An http(s) URL whose path ends in .jpg, .jpeg, .png or .gif."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.path.lower().endswith(MEDIA_EXTENSIONS)


def check_mms(message: Record, body: Record) -> str | None:
    subject = message.get("subject")
    if not isinstance(subject, str) or not subject.strip():
        return "SUBJECT_REQUIRED"
    if not valid_media_url(body.get("media_file")):
        return "INVALID_MEDIA_FILE"
    return None


def mms_extras(message: Record, body: Record, _now: int) -> Record:
    return {"subject": message.get("subject"), "_media_file_url": body.get("media_file")}


MMS = Channel(
    name="mms",
    label="mms",
    prices=MMS_PRICES,
    parts=single_part,
    sent_status="Completed",
    body_required=False,
    required_top_level=("media_file",),
    check=check_mms,
    extras=mms_extras,
)

ROUTES: list[Route] = [
    Route("POST", "/mms/send", send_handler(MMS)),
    Route("POST", "/mms/price", price_handler(MMS)),
    Route("GET", "/mms/history", history_handler(MMS)),
    Route("GET", "/mms/history/export", export_handler("MMS_history.csv")),
    Route("GET", "/mms/receipts", receipts_handler(MMS)),
    Route("GET", "/mms/receipts/{message_id}", receipt_handler(MMS)),
    Route("PUT", "/mms/receipts-read", mark_read_handler(MMS, RECEIPTS, "Receipts have been marked as read.")),
    Route("PUT", "/mms/{message_id}/cancel", cancel_handler(MMS, "Scheduled mms message has been cancelled.", None)),
    Route("PUT", "/mms/cancel-all", cancel_all_handler(MMS)),
]
