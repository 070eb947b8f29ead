"""Replies and delivery receipts: reading what ClickSend pushes or lists, storing it once, waiting for it, and the
conversation with one number. Over the ledger's store and the dispatcher's read path; knows nothing of HTTP servers
or MCP (the webhook endpoints and the resources call in here).
"""

from __future__ import annotations

import base64
import copy
import functools
import logging
import math
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, cast

import anyio

from .clock import Clock, SystemClock
from .fingerprints import Fingerprints
from .store.messages import MessageEvent, MessageFilter, MessageStore, SentCopies, StoredMessage

if TYPE_CHECKING:
    from .backends import BackendConfig
    from .webhook_addresses import WebhookAddress

log = logging.getLogger("clicksend_mcp.conversations")

# The webhook paths this server serves, and what each receives (kind, channel).
WEBHOOK_KINDS: dict[str, tuple[str, str]] = {
    "sms-inbound": ("inbound", "sms"),
    "sms-receipts": ("receipt", "sms"),
    "mms-receipts": ("receipt", "mms"),
    "voice-receipts": ("receipt", "voice"),
}
MAX_WAIT_SECONDS = 600  # one tool call holds a request open; longer waits are several calls
POLL_MIN, POLL_MAX = 2.0, 30.0  # seconds between polls of ClickSend: well inside its per-account rate limit
STORE_POLL = 1.0  # seconds between looks at the store for other processes' writes (SQLite)
PROGRESS_EVERY = 5.0
MAX_FIELD = 2000  # characters kept of one text field; an SMS is at most a few hundred
_NUMBER_RE = re.compile(r"^\+?[0-9A-Za-z ()./-]{2,32}$")
_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
Progress = Callable[[float, float | None, str | None], Awaitable[None]]
Listener = Callable[[list[StoredMessage]], Awaitable[None]]
SEAL_CONTEXT = "conversations"  # what the sealing key is derived for (the ledger's keys seal replays per caller key)
INBOUND_TOOL, RECEIPTS_TOOL = "CLICKSEND_GET_SMS_INBOUND", "CLICKSEND_GET_SMS_RECEIPTS"
MAX_TENANT_VIEWS = 4096  # tenants whose polling pace a process remembers (a few bytes each); the oldest go first


class Reader(Protocol):
    """What polling needs of a call: the tools, the backend it runs on (the tenant's own in multi-tenant mode), and
    a read through that backend (the dispatcher, or a local tool's call)."""

    @property
    def all_tools(self) -> Mapping[str, Any]: ...

    @property
    def backend(self) -> BackendConfig: ...

    async def read(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]: ...


class _Changed:
    """Wakes this process's waiters when a message is stored, whoever it belongs to: each looks again in its own
    tenant's messages. Shared by the conversations and their tenants' views."""

    def __init__(self) -> None:
        self._event = anyio.Event()

    def set(self) -> None:
        self._event.set()
        self._event = anyio.Event()

    async def wait(self) -> None:
        await self._event.wait()


class PayloadError(ValueError):
    """A pushed or listed message that cannot be stored; the message names the field and what was expected."""


def _text(fields: Mapping[str, Any], *names: str, required: bool = False, what: str = "text") -> str | None:
    """The first present field among `names` (ClickSend posts some under two names), as bounded text."""
    for name in names:
        value = fields.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise PayloadError(f"{name}: expected {what}, got {type(value).__name__}")
        return str(value)[:MAX_FIELD]
    if required:
        raise PayloadError(f"{names[0]}: is required ({what})")
    return None


def _message_id(fields: Mapping[str, Any], *names: str, required: bool) -> str | None:
    value = _text(fields, *names, required=required, what="a ClickSend message id")
    if value is not None and not _ID_RE.match(value):
        raise PayloadError(f"{names[0]}: expected a ClickSend message id (letters, digits, - and _)")
    return value.upper() if value is not None else None


def _number(fields: Mapping[str, Any], *names: str, required: bool) -> str | None:
    value = _text(fields, *names, required=required, what="a phone number or sender id")
    if value is None:
        return None
    value = value.strip()
    if not _NUMBER_RE.match(value):
        raise PayloadError(f"{names[0]}: expected a phone number or sender id")
    digits = re.sub(r"[\s().-]", "", value)
    # One spelling per number (ClickSend writes E.164; some fields drop the +), so a conversation is one thread.
    return ("+" + digits.lstrip("+")) if digits.lstrip("+").isdigit() else value


def _timestamp(fields: Mapping[str, Any], *names: str) -> float | None:
    raw = _text(fields, *names, what="a Unix timestamp")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise PayloadError(f"{names[0]}: expected a Unix timestamp in seconds") from None
    if not math.isfinite(value) or value < 0:
        raise PayloadError(f"{names[0]}: expected a Unix timestamp in seconds")
    return value


def parse_inbound(fields: Mapping[str, Any], channel: str = "sms") -> MessageEvent:
    """An inbound message as ClickSend posts it to a URL rule (form or JSON) or lists it (GET /sms/inbound)."""
    return MessageEvent(
        direction="inbound",
        channel=channel,
        message_id=cast(str, _message_id(fields, "message_id", "messageid", required=True)),
        peer=_number(fields, "from", required=True),
        own_number=_number(fields, "to", required=False),
        body=_text(fields, "body", "message", required=True),
        original_message_id=_message_id(fields, "original_message_id", "originalmessageid", required=False),
        custom_string=_text(fields, "custom_string", "customstring"),
        sent_at=_timestamp(fields, "timestamp", "timestamp_send"),
    )


def parse_receipt(fields: Mapping[str, Any], channel: str = "sms") -> MessageEvent:
    """A delivery receipt for one of our messages (its status), as posted to a receipt rule or listed."""
    status = _text(fields, "status", "status_text", required=True, what="a delivery status")
    return MessageEvent(
        direction="outbound",
        channel=kind if (kind := (_text(fields, "message_type") or "").lower()) in ("sms", "mms", "voice") else channel,
        message_id=cast(str, _message_id(fields, "message_id", "messageid", required=True)),
        custom_string=_text(fields, "custom_string", "customstring"),
        status=_status_word(status, _text(fields, "status_code")),
        status_code=_text(fields, "status_code"),
        error_text=_text(fields, "error_text"),
    )


def _status_word(status: str | None, code: str | None) -> str | None:
    """ClickSend's receipts say `Delivered`, or a status_text such as `Success: Message received on handset.`;
    the conversation shows one word."""
    if status is None:
        return None
    lowered = status.lower()
    if code == "201" or lowered.startswith(("delivered", "success", "completed")):
        return "Delivered"
    if lowered.startswith(("fail", "undeliv", "reject", "expired", "error")):
        return "Failed"
    return status[:40]


def parse_webhook(kind: str, fields: Mapping[str, Any]) -> MessageEvent:
    what, channel = WEBHOOK_KINDS[kind]
    return parse_inbound(fields, channel) if what == "inbound" else parse_receipt(fields, channel)


def sent_events(data: Any, channel: str) -> list[MessageEvent]:
    """Our messages from a send's answer (data.messages[]), so the conversation shows both sides."""
    messages = data.get("messages") if isinstance(data, dict) else None
    events = []
    for m in messages if isinstance(messages, list) else []:
        if not isinstance(m, dict) or not m.get("message_id") or str(m.get("status", "")).upper() != "SUCCESS":
            continue
        try:
            events.append(
                MessageEvent(
                    direction="outbound",
                    channel=channel,
                    message_id=cast(str, _message_id(m, "message_id", required=True)),
                    peer=_number(m, "to", required=False),
                    own_number=_number(m, "from", required=False),
                    body=_text(m, "body"),
                    custom_string=_text(m, "custom_string"),
                    status="Sent",
                    sent_at=_timestamp(m, "schedule", "date"),
                )
            )
        except PayloadError:
            continue
    return events


@dataclass(frozen=True)
class ReplyWanted:
    """What WAIT_FOR_REPLY waits for: a reply from a number, and/or to given messages (by id or by tag)."""

    from_number: str | None = None
    message_ids: tuple[str, ...] = ()
    tag: str | None = None
    since: float | None = None  # given: only replies at or after it count
    after_id: int = 0  # with only a number: replies stored after our last message to it...
    answering: str | None = None  # ...or answering that message (a reply can overtake the record of its question)


def describe(message: StoredMessage) -> dict[str, Any]:
    """A stored message as the tools and resources show it (text written by others is marked untrusted there)."""
    shown: dict[str, Any] = {
        "direction": message.direction,
        "channel": message.channel,
        "message_id": message.message_id,
        "from": message.peer if message.direction == "inbound" else message.own_number,
        "to": message.own_number if message.direction == "inbound" else message.peer,
        "body": message.body,
        "at": int(message.sent_at if message.sent_at is not None else message.received_at),
    }
    if message.direction == "inbound":
        shown["in_reply_to"] = message.original_message_id
    else:
        shown["status"] = message.status or "pending"
        if message.error_text:
            shown["error"] = message.error_text
    if message.custom_string:
        shown["tag"] = message.custom_string
    return shown


class Conversations:
    """One account's replies and receipts: stored once, waited for across processes, polled from ClickSend when no
    webhook brings them. In multi-tenant mode each call uses `for_tenant`: that tenant's messages, polled from its
    own account at its own pace."""

    def __init__(
        self,
        store: MessageStore,
        tenant: str,
        clock: Clock | None = None,
        *,
        poll_clicksend: bool = True,
        max_wait: float = MAX_WAIT_SECONDS,
        ready: Callable[[], Awaitable[None]] | None = None,
        fingerprints: Fingerprints | None = None,
    ) -> None:
        # With fingerprints (the ledger's keys), numbers are stored as keyed hashes and the text and numbers of a
        # message sealed (AES-GCM), so the database holds no number or message in clear, like the send ledger.
        self.fingerprints = fingerprints
        self.ready = ready  # opens the store (the ledger's start) before the first use
        self.webhooks: WebhookAddress | None = None  # where ClickSend can push to this server (a public URL is set)
        self.store = store
        self.tenant = tenant
        self.clock = clock or SystemClock()
        self.poll_clicksend = poll_clicksend
        self.max_wait = max_wait
        self.listeners: list[Listener] = []
        self._changed = _Changed()
        self._poll_lock: anyio.Lock | None = None
        self._next_poll = 0.0
        self._poll_delay = POLL_MIN
        self._views: dict[str, Conversations] = {}  # by tenant, shared with the views

    def for_tenant(self, tenant: str) -> Conversations:
        """The conversations of another tenant (a fingerprint) over the same store and keys: its own messages, and
        its own polling pace (kept, so a tenant's polls back off across its calls)."""
        if tenant == self.tenant:
            return self
        view = self._views.pop(tenant, None)
        if view is None:
            view = copy.copy(self)  # shares the store, keys, clock, change signal and this dict of views
            view.tenant = tenant
            # The listeners (conversation resources) follow the server's own account; a tenant's messages are
            # never announced to them.
            view.listeners = []
            view._poll_lock = None
            view._next_poll = 0.0
            view._poll_delay = POLL_MIN
            if len(self._views) >= MAX_TENANT_VIEWS:
                self._views.pop(next(iter(self._views)))
        self._views[tenant] = view  # most recently used last
        return view

    def _peer(self, number: str | None) -> str | None:
        """How a number is looked up in the store."""
        if number is None or self.fingerprints is None:
            return number
        return self.fingerprints.recipient("phone", number)

    def _protect(self, event: MessageEvent) -> MessageEvent:
        if self.fingerprints is None:
            return event
        content = {"peer": event.peer, "own": event.own_number, "body": event.body}
        sealed = None
        if any(v is not None for v in content.values()):
            sealed = base64.b64encode(self.fingerprints.seal(self.tenant, SEAL_CONTEXT, content)).decode()
        return replace(event, peer=self._peer(event.peer), own_number=None, body=sealed)

    def _reveal(self, message: StoredMessage) -> StoredMessage:
        if self.fingerprints is None:
            return message
        content: dict[str, Any] | None = None
        if message.body:
            try:
                content = self.fingerprints.unseal(self.tenant, SEAL_CONTEXT, base64.b64decode(message.body))
            except ValueError:
                content = None
        content = content or {}
        return replace(message, peer=content.get("peer"), own_number=content.get("own"), body=content.get("body"))

    async def _ready(self) -> None:
        if self.ready is not None:
            await self.ready()

    # --- arriving ---------------------------------------------------------------------------------------------------

    async def ingest(self, events: Sequence[MessageEvent]) -> list[StoredMessage]:
        """Store what arrived; wake the waiters and listeners of this process (others: NOTIFY or their polling)."""
        if not events:
            return []
        await self._ready()
        stored = await self.store.record_messages(self.tenant, [self._protect(e) for e in events], self.clock.now())
        changed = [self._reveal(m) for m in stored]
        await self._announce(changed)
        return changed

    async def copies_stored(self, stored: Sequence[StoredMessage]) -> None:
        """Our sends' copies, just stored with the settlement: heard by this process's waiters (which read the
        store) and listeners (the only ones that need the rows unsealed, so they alone pay for it)."""
        if stored:
            await self._announce([self._reveal(m) for m in stored] if self.listeners else [], changed=True)

    async def _announce(self, messages: list[StoredMessage], *, changed: bool = False) -> None:
        if not (messages or changed):
            return
        self._changed.set()
        for listener in list(self.listeners) if messages else []:
            try:
                await listener(messages)
            except Exception:  # a subscriber's failure never loses a message
                log.exception("a conversation listener failed")

    def sent_copies(self, tool_channel: str | None, result: dict[str, Any]) -> SentCopies | None:
        """Our side of the conversation from a send's answer, for the ledger to store with the settlement (one trip
        to the database, not a second one with its own wait for the disk); None when there is nothing to keep."""
        if tool_channel not in ("sms", "mms", "voice") or not result.get("successful"):
            return None
        events = sent_events(result.get("data"), tool_channel)
        if not events:
            return None
        return SentCopies(self.tenant, [self._protect(e) for e in events], self.clock.now())

    async def poll(self, dispatcher: Reader) -> int:
        """One look at ClickSend's inbound and receipt lists (newest first, nothing marked read, so other readers of
        the account still see them), when due; backs off while nothing is new. Returns how many rows changed."""
        if not self.poll_clicksend or INBOUND_TOOL not in dispatcher.all_tools:
            return 0
        if not dispatcher.backend.serves("clicksend"):  # SkillBoss: its messages' replies are not ClickSend's
            return 0
        self._poll_lock = self._poll_lock or anyio.Lock()
        async with self._poll_lock:  # one poll at a time per process, however many waiters
            now = self.clock.now()
            if now < self._next_poll:
                return 0
            changed = 0
            retry_after: float | None = None
            for tool, parse in ((INBOUND_TOOL, parse_inbound), (RECEIPTS_TOOL, parse_receipt)):
                if tool not in dispatcher.all_tools:
                    continue
                result = await dispatcher.read(tool, {"page": 1, "limit": 100})
                if not result.get("successful"):
                    log.warning("polling %s failed: %s", tool, result.get("error_code"))
                    if result.get("retry_after"):
                        retry_after = float(result["retry_after"])
                    continue
                data = result.get("data")
                listed = data.get("data") if isinstance(data, dict) else None
                events = []
                for item in listed if isinstance(listed, list) else []:
                    try:
                        events.append(parse(item))
                    except PayloadError as exc:
                        log.warning("skipped an item of %s: %s", tool, exc)
                changed += len(await self.ingest(events))
            self._poll_delay = POLL_MIN if changed else min(POLL_MAX, self._poll_delay * 1.5)
            self._next_poll = self.clock.now() + max(self._poll_delay, retry_after or 0.0)
            return changed

    # --- waiting ----------------------------------------------------------------------------------------------------

    async def _filters(self, wanted: ReplyWanted) -> list[MessageFilter]:
        peer, since = self._peer(wanted.from_number), wanted.since
        filters = []
        ids = list(wanted.message_ids)
        if wanted.tag:
            # A reply answers a message; the tag names our messages (their custom_string).
            tagged = MessageFilter(direction="outbound", custom_string=wanted.tag)
            ids += [m.message_id for m in await self.store.messages_after(self.tenant, 0, tagged, 500)]
            filters.append(MessageFilter("inbound", peer, custom_string=wanted.tag, since=since))
        if ids:
            filters.append(MessageFilter("inbound", peer, original_message_ids=tuple(ids), since=since))
        if not wanted.tag and not wanted.message_ids:
            filters.append(MessageFilter("inbound", peer, since=since, after_id=wanted.after_id))
            if wanted.answering:
                filters.append(MessageFilter("inbound", peer, original_message_ids=(wanted.answering,)))
        return filters

    async def _find(self, wanted: ReplyWanted) -> StoredMessage | None:
        found: list[StoredMessage] = []
        for wanted_filter in await self._filters(wanted):
            found += await self.store.messages_after(self.tenant, 0, wanted_filter, 1)
        return self._reveal(min(found, key=lambda m: m.id)) if found else None

    async def with_defaults(self, wanted: ReplyWanted) -> ReplyWanted:
        """With only a number: replies after our last message to it (else from now on), not an old answer."""
        await self._ready()
        if wanted.from_number and not wanted.message_ids and not wanted.tag and wanted.since is None:
            for m in await self.store.conversation(self.tenant, cast(str, self._peer(wanted.from_number)), None, 50):
                if m.direction == "outbound":
                    return replace(wanted, after_id=m.id, answering=m.message_id)
            return replace(wanted, since=self.clock.now())
        return wanted

    async def wait(
        self,
        wanted: ReplyWanted,
        timeout: float,
        *,
        dispatcher: Reader | None = None,
        progress: Progress | None = None,
    ) -> StoredMessage | None:
        """The first reply that matches, waiting up to `timeout` seconds; None when none came. Cancelling the
        caller stops the wait at once."""
        await self._ready()
        timeout = max(0.0, min(timeout, self.max_wait))
        started = self.clock.now()
        reported = -PROGRESS_EVERY
        async with self.store.message_signals() as signal:
            while True:
                if dispatcher is not None:
                    await self.poll(dispatcher)
                found = await self._find(wanted)
                if found is not None:
                    return found
                elapsed = self.clock.now() - started
                remaining = timeout - elapsed
                if remaining <= 0:
                    return None
                if progress is not None and elapsed - reported >= PROGRESS_EVERY:
                    reported = elapsed
                    await progress(round(elapsed, 1), timeout, f"waiting for a reply ({int(remaining)} s left)")
                # Look again when this process stores something, another signals (NOTIFY), the store is due a
                # look for other processes' writes (SQLite), or ClickSend is due a poll.
                pause = min(remaining, STORE_POLL)
                if dispatcher is not None and self.poll_clicksend:
                    pause = min(pause, max(0.05, self._next_poll - self.clock.now()))
                await self._first_of(self._changed.wait, functools.partial(signal, pause), pause)

    @staticmethod
    async def _first_of(local: Callable[[], Awaitable[Any]], remote: Callable[[], Awaitable[Any]], most: float) -> None:
        """Return when this process stored something, another one signalled, or `most` seconds passed."""
        with anyio.move_on_after(most):
            async with anyio.create_task_group() as group:

                async def run(step: Callable[[], Awaitable[Any]]) -> None:
                    await step()
                    group.cancel_scope.cancel()

                group.start_soon(run, local)
                group.start_soon(run, remote)

    # --- reading ----------------------------------------------------------------------------------------------------

    async def conversation(
        self, peer: str, before_id: int | None, limit: int
    ) -> tuple[list[StoredMessage], int | None]:
        """One page of the messages with `peer`, oldest first within the page, and the cursor of the older page."""
        await self._ready()
        rows = await self.store.conversation(self.tenant, cast(str, self._peer(peer)), before_id, limit + 1)
        older = rows[limit - 1].id if len(rows) > limit else None
        return [self._reveal(m) for m in reversed(rows[:limit])], older

    async def delivery(self, message_ids: Iterable[str]) -> dict[str, Any]:
        """The delivery status of our messages (receipts), for CHECK_SEND_OUTCOME."""
        await self._ready()
        rows = await self.store.outbound(self.tenant, [m.upper() for m in message_ids])
        counts: dict[str, int] = {}
        for m in rows:
            key = (m.status or "pending").lower()
            counts[key] = counts.get(key, 0) + 1
        return {"by_status": counts, "messages": {m.message_id: m.status or "pending" for m in rows[:50]}}
