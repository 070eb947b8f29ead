"""Fax: the channel definition (a document URL, numbers or lists' fax numbers) and its endpoints."""

from __future__ import annotations

from urllib.parse import urlsplit

from ...clicksend_facts import TEST_FAX_NUMBERS
from ..channels import Channel, Record
from ..files import export_handler
from ..inbox import RECEIPTS, mark_read_handler, receipt_handler, receipts_handler, sample_receipt_handler
from ..message_store import history_handler
from ..messaging import price_handler, send_handler
from ..pricing import FAX_PRICES, single_part
from ..routing import Route


def valid_document_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def check_fax(_message: Record, body: Record) -> str | None:
    return None if valid_document_url(body.get("file_url")) else "INVALID_MEDIA_FILE"


def fax_extras(message: Record, body: Record, _now: int) -> Record:
    """A sandbox fax is one page (the sandbox cannot open the document)."""
    return {
        "message_pages": 1,
        "_file_url": body.get("file_url"),
        "from_email": message.get("from_email"),
        "source": message.get("source") or ".rest.v3",
        "carrier": "Sandbox Test Fax" if message.get("to") in TEST_FAX_NUMBERS else "",
    }


FAX = Channel(
    name="fax",
    label="fax",
    prices=FAX_PRICES,
    parts=single_part,
    sent_status="Sent",
    body_required=False,
    check_sender=False,
    required_top_level=("file_url",),
    check=check_fax,
    extras=fax_extras,
    contact_field="fax_number",
    queued_msg="Fax queued for delivery.",
    delivered_text="Success: Fax delivered.",
)

ROUTES: list[Route] = [
    Route("POST", "/fax/send", send_handler(FAX)),
    Route("POST", "/fax/price", price_handler(FAX)),
    Route("GET", "/fax/history", history_handler(FAX)),
    Route("GET", "/fax/history/export", export_handler("Fax_history.csv")),
    Route("GET", "/fax/receipts", receipts_handler(FAX)),
    Route("POST", "/fax/receipts", sample_receipt_handler(FAX)),
    Route("GET", "/fax/receipts/{message_id}", receipt_handler(FAX)),
    Route("PUT", "/fax/receipts-read", mark_read_handler(FAX, RECEIPTS, "Receipts have been marked as read.")),
]
