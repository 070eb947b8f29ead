"""The sandbox's endpoint table: every route and every message channel, gathered from the endpoint modules."""

from __future__ import annotations

from ..channels import Channel
from ..routing import Route
from . import (
    account,
    automations,
    billing,
    campaigns,
    contacts,
    direct_mail,
    email,
    email_addresses,
    email_campaigns,
    email_sms,
    email_templates,
    fax,
    imports,
    lists,
    mms,
    numbers,
    own_numbers,
    post,
    reseller,
    senders,
    short_urls,
    sms,
    statistics,
    subaccounts,
    utilities,
    voice,
)

_MODULES = (
    account,
    utilities,
    statistics,
    sms,
    mms,
    voice,
    fax,
    email,
    post,
    direct_mail,
    campaigns,
    email_campaigns,
    lists,
    contacts,
    imports,
    email_addresses,
    email_sms,
    email_templates,
    automations,
    subaccounts,
    numbers,
    senders,
    own_numbers,
    billing,
    reseller,
    short_urls,
)

ROUTES: tuple[Route, ...] = tuple(item for module in _MODULES for item in module.ROUTES)

CHANNELS: tuple[Channel, ...] = (
    sms.SMS,
    mms.MMS,
    voice.VOICE,
    fax.FAX,
    email.EMAIL,
    post.LETTERS,
    post.POSTCARDS,
)
