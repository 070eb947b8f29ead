"""The sandbox's endpoint table: every route and every message channel, gathered from the endpoint modules."""

from __future__ import annotations

from ..channels import Channel
from ..routing import Route
from . import account, contacts, email_addresses, lists, mms, sms, voice

ROUTES: tuple[Route, ...] = (
    *account.ROUTES,
    *sms.ROUTES,
    *mms.ROUTES,
    *voice.ROUTES,
    *lists.ROUTES,
    *contacts.ROUTES,
    *email_addresses.ROUTES,
)

CHANNELS: tuple[Channel, ...] = (sms.SMS, mms.MMS, voice.VOICE)
