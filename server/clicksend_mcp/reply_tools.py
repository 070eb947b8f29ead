"""The local tools of conversations: wait for a reply, read a conversation, point the account's rules at this server.

Handlers registered in `local_tools.HANDLERS`; they reach ClickSend only through the call's read and write path (the
tenant's backend) and the stored messages only through the tenant's `Conversations`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import results
from .conversations import WEBHOOK_KINDS, ReplyWanted, describe

if TYPE_CHECKING:
    from .conversations import Conversations
    from .dispatcher import Progress
    from .local_tools import LocalCall

DEFAULT_WAIT = 60
RULE_NAME = "clicksend-mcp replies"
WEBHOOK_PATH = "/webhooks/clicksend"
_NUMBER_RE = re.compile(r"^\+?[0-9]{6,16}$")


def _unavailable() -> dict[str, Any]:
    return results.refused(
        "REFUSED",
        "replies are kept in the send ledger's database, and it is off on this server (CLICKSEND_MCP_DATABASE_URL=off)",
    )


def _number(value: Any, field: str) -> str:
    text = re.sub(r"[\s().-]", "", str(value))
    if not _NUMBER_RE.match(text):
        raise ValueError(f"{field}: expected a phone number in E.164 format, e.g. +61411111111")
    return text if text.startswith("+") else "+" + text


async def wait_for_reply(call: LocalCall, args: dict[str, Any], progress: Progress | None = None) -> dict[str, Any]:
    conversations = call.conversations
    if conversations is None:
        return _unavailable()
    try:
        number = _number(args["from_number"], "from_number") if args.get("from_number") else None
    except ValueError as exc:
        return results.invalid_arguments([str(exc)])
    message_id = str(args["message_id"]).strip().upper() if args.get("message_id") else None
    tag = str(args["tag"]) if args.get("tag") else None
    if not (number or message_id or tag):
        return results.invalid_arguments(
            ["from_number, message_id or tag: give at least one (whose reply to wait for)"]
        )
    timeout = float(args.get("timeout_seconds", DEFAULT_WAIT))
    since = args.get("since")
    wanted = ReplyWanted(number, (message_id,) if message_id else (), tag, float(since) if since is not None else None)
    wanted = await conversations.with_defaults(wanted)
    started = time.monotonic()
    reply = await conversations.wait(
        wanted, timeout, dispatcher=call if conversations.poll_clicksend else None, progress=progress
    )
    waited = round(time.monotonic() - started, 1)
    via = (
        "webhooks or polling ClickSend"
        if conversations.poll_clicksend and conversations.webhooks is not None
        else "polling ClickSend"
        if conversations.poll_clicksend
        else "webhooks"
    )
    if reply is None:
        return results.ok(
            {
                "replied": False,
                "waited_seconds": waited,
                "via": via,
                "note": f"no reply within {int(min(timeout, conversations.max_wait))} s; call again to keep waiting",
            }
        )
    return results.ok({"replied": True, "reply": describe(reply), "waited_seconds": waited, "via": via})


async def get_conversation(call: LocalCall, args: dict[str, Any]) -> dict[str, Any]:
    conversations = call.conversations
    if conversations is None:
        return _unavailable()
    try:
        number = _number(args["number"], "number")
    except ValueError as exc:
        return results.invalid_arguments([str(exc)])
    if conversations.poll_clicksend:
        await conversations.poll(call)  # when due: what ClickSend has that no webhook brought
    before = args.get("before")
    messages, older = await conversations.conversation(
        number, int(before) if before else None, int(args.get("limit", 20))
    )
    return results.ok(
        {
            "number": number,
            "messages": [describe(m) for m in messages],
            "count": len(messages),
            "before": older,
            "note": "oldest first; pass `before` to read the older page" if older else None,
        }
    )


@dataclass(frozen=True)
class RuleKind:
    """One of the account's rules this server points at itself."""

    name: str  # inbound | sms receipts | voice receipts
    list_tool: str
    create_tool: str
    update_tool: str
    id_field: str
    webhook: str  # the path segment (conversations.WEBHOOK_KINDS)
    fields: tuple[tuple[str, Any], ...]


RULES = (
    RuleKind(
        "inbound SMS",
        "CLICKSEND_GET_AUTOMATIONS_SMS_INBOUND",
        "CLICKSEND_CREATE_AUTOMATIONS_SMS_INBOUND",
        "CLICKSEND_UPDATE_AUTOMATIONS_SMS_INBOUND",
        "inbound_rule_id",
        "sms-inbound",
        (("dedicated_number", "*"), ("message_search_type", 0), ("message_search_term", ""), ("webhook_type", "json")),
    ),
    RuleKind(
        "SMS delivery receipts",
        "CLICKSEND_GET_AUTOMATIONS_SMS_RECEIPTS",
        "CLICKSEND_CREATE_AUTOMATIONS_SMS_RECEIPTS",
        "CLICKSEND_UPDATE_AUTOMATIONS_SMS_RECEIPTS",
        "receipt_rule_id",
        "sms-receipts",
        (("match_type", 0),),
    ),
    RuleKind(
        "voice delivery receipts",
        "CLICKSEND_GET_AUTOMATIONS_VOICE_RECEIPTS",
        "CLICKSEND_CREATE_AUTOMATIONS_VOICE_RECEIPTS",
        "CLICKSEND_UPDATE_AUTOMATIONS_VOICE_RECEIPTS",
        "receipt_rule_id",
        "voice-receipts",
        (("match_type", 0),),
    ),
)


def _ours(rule: Any, base: str) -> bool:
    if not isinstance(rule, dict):
        return False
    address = str(rule.get("action_address") or "")
    return rule.get("rule_name") == RULE_NAME or address.startswith(base + WEBHOOK_PATH + "/")


async def set_up_reply_webhooks(call: LocalCall, args: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
    conversations: Conversations | None = call.conversations
    if conversations is None:
        return _unavailable()
    hook = conversations.webhooks
    if hook is None:
        return results.refused(
            "REFUSED",
            "this server does not receive webhooks: serve it over HTTP (--transport http or sse) with --public-url "
            "(CLICKSEND_MCP_PUBLIC_URL) and CLICKSEND_MCP_WEBHOOK_SECRET set, then call this again",
        )
    public_url, tenant = hook.public_url, conversations.tenant
    kinds = [r for r in RULES if r.name != "voice delivery receipts" or args.get("voice_receipts", True)]
    planned: list[dict[str, Any]] = []
    for kind in kinds:
        if kind.list_tool not in call.all_tools:
            continue
        listed = await call.read(kind.list_tool, {"page": 1, "limit": 100})
        if not listed["successful"]:
            return listed
        data = listed["data"] if isinstance(listed["data"], dict) else {}
        found = data.get("data")
        rules = found if isinstance(found, list) else []
        existing = next((r for r in rules if _ours(r, public_url)), None)
        # Multi-tenant: the calling tenant's own URL (its token), so its pushes are stored under it alone.
        address = hook.url(tenant, kind.webhook)
        body = {"rule_name": RULE_NAME, "action": "URL", "action_address": address, "enabled": 1, **dict(kind.fields)}
        rule_id = existing.get(kind.id_field) if existing else None
        planned.append(
            {
                "rule": kind.name,
                "change": "update" if rule_id is not None else "create",
                "rule_id": rule_id,
                "tool": kind.update_tool if rule_id is not None else kind.create_tool,
                "fields": {**body, "action_address": hook.shown(tenant, kind.webhook)},
                "_body": body,
            }
        )
    shown = [{k: v for k, v in p.items() if k != "_body"} for p in planned]
    # A tenant of a multi-tenant server learns its own URLs here (they hold its token, never the secret).
    urls = {k: hook.url(tenant, k) for k in WEBHOOK_KINDS} if hook.per_tenant else None
    if dry_run:
        return results.dry_run(
            {"dry_run": True, "changed": False, "rules": shown, **({"webhook_urls": urls} if urls else {})}
        )
    done: list[dict[str, Any]] = []
    for plan, show in zip(planned, shown, strict=True):
        arguments = dict(plan["_body"])
        if plan["rule_id"] is not None:
            arguments[RULES[[r.name for r in RULES].index(plan["rule"])].id_field] = plan["rule_id"]
        outcome = await call.write(plan["tool"], arguments)
        if not outcome["successful"]:
            outcome["error"] = f"{plan['rule']}: {outcome.get('error')} (rules changed before it: {len(done)})"
            return outcome
        saved = outcome["data"] if isinstance(outcome["data"], dict) else {}
        done.append({**show, "rule_id": saved.get(RULES[[r.name for r in RULES].index(plan["rule"])].id_field)})
    return results.ok(
        {
            "changed": True,
            "rules": done,
            **({"webhook_urls": urls} if urls else {}),
            "note": "ClickSend now posts replies and delivery receipts to this server; CLICKSEND_WAIT_FOR_REPLY "
            "returns them as they arrive",
        }
    )
