"""SMS: the channel definition and its endpoints (send, price, history, inbound, receipts, read flags, templates)."""

from __future__ import annotations

from ..channels import Channel
from ..crud import Messages, Resource, crud_routes
from ..files import export_handler
from ..inbox import (
    INBOUND,
    RECEIPTS,
    inbound_handler,
    mark_one_read_handler,
    mark_read_handler,
    receipt_handler,
    receipts_handler,
    reply_to_handler,
    sample_inbound_handler,
    sample_receipt_handler,
)
from ..message_store import cancel_all_handler, cancel_handler, history_handler
from ..messaging import price_handler, send_handler
from ..pricing import SMS_PRICES, sms_parts
from ..routing import Route

SMS = Channel(name="sms", label="sms", prices=SMS_PRICES, parts=sms_parts, sent_status="Sent", auto_reply=True)

TEMPLATES = Resource(
    collection="sms_templates",
    path="/sms/templates",
    id_param="template_id",
    fields=("template_name", "body"),
    required=("template_name", "body"),
    messages=Messages(
        listed="Here are your templates.",
        fetched="Here is your template.",
        created="New template has been saved.",
        updated="Your template has been updated.",
        deleted="Your template has been deleted.",
    ),
)

ROUTES: list[Route] = [
    Route("POST", "/sms/send", send_handler(SMS)),
    Route("POST", "/sms/price", price_handler(SMS)),
    Route("GET", "/sms/history", history_handler(SMS)),
    Route("GET", "/sms/history/export", export_handler("SMS_history.csv")),
    Route("GET", "/sms/inbound", inbound_handler(SMS)),
    Route("POST", "/sms/inbound", sample_inbound_handler(SMS)),
    Route("GET", "/sms/inbound/{original_message_id}", reply_to_handler(SMS)),
    Route("PUT", "/sms/inbound-read", mark_read_handler(SMS, INBOUND, "Inbound messages have been marked as read.")),
    Route(
        "PUT",
        "/sms/inbound-read/{message_id}",
        mark_one_read_handler(SMS, INBOUND, "Inbound message has been marked as read."),
    ),
    Route("GET", "/sms/receipts", receipts_handler(SMS)),
    Route("POST", "/sms/receipts", sample_receipt_handler(SMS)),
    Route("GET", "/sms/receipts/{message_id}", receipt_handler(SMS)),
    Route("PUT", "/sms/receipts-read", mark_read_handler(SMS, RECEIPTS, "Receipts have been marked as read.")),
    Route("PUT", "/sms/{message_id}/cancel", cancel_handler(SMS, "Scheduled sms message has been cancelled.", None)),
    Route("PUT", "/sms/cancel-all", cancel_all_handler(SMS)),
    *crud_routes(TEMPLATES),
]
