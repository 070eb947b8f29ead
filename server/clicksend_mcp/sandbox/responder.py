"""The other side of the sandbox's conversations: who answers messages to the test numbers, what, and when.

A reply waits in `state.pending_replies` until its time; `deliver_due` (before each request) and the pusher (webhook
mode) bring it out. Every receipt or reply that appears is offered to `state.on_event`, which pushes it to this
server's own webhook when the HTTP transport receives webhooks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from .channels import Channel, Record
from .reference import TEST_NUMBERS

if TYPE_CHECKING:
    from .state import SandboxState

AUTO_REPLY_BODY = "Sandbox auto-reply to your message"
# Per state, beside it rather than in it: the state file keeps data (pending replies), not configuration or callbacks.
_RESPONDERS: WeakKeyDictionary[Any, Responder] = WeakKeyDictionary()
_LISTENERS: WeakKeyDictionary[Any, Callable[[str, Record], None]] = WeakKeyDictionary()
MODES = ("fixed", "echo", "script", "off")


class ResponderError(ValueError):
    """A responder setting that cannot be used; says what is expected."""


@dataclass
class Responder:
    """fixed: always `text`; echo: `Echo: <your message>`; script: the lines of `script` in turn (then the last one
    again); off: no replies. `delay`: seconds between delivery and the reply."""

    mode: str = "fixed"
    text: str = AUTO_REPLY_BODY
    script: tuple[str, ...] = ()
    delay: int = 0
    _turn: dict[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str | None, delay: int = 0) -> Responder:
        """`fixed:<text>`, `echo`, `script:<first>|<second>|...`, or `off` (None or empty: the fixed default)."""
        if delay < 0 or delay > 3600:
            raise ResponderError("CLICKSEND_MCP_SANDBOX_REPLY_DELAY: expected 0 to 3600 seconds")
        if spec is None or not spec.strip():
            return cls(delay=delay)
        mode, _, rest = spec.strip().partition(":")
        mode = mode.lower()
        if mode == "fixed" and rest.strip():
            return cls("fixed", rest.strip()[:640], delay=delay)
        if mode == "script" and any(line.strip() for line in rest.split("|")):
            lines = tuple(line.strip()[:640] for line in rest.split("|") if line.strip())
            return cls("script", script=lines, delay=delay)
        if mode in ("echo", "off") and not rest:
            return cls(mode, delay=delay)
        raise ResponderError(
            "CLICKSEND_MCP_SANDBOX_RESPONDER: expected fixed:<text>, echo, script:<first>|<second>|..., or off"
        )

    def answer(self, to: str, body: str | None) -> str | None:
        if self.mode == "off":
            return None
        if self.mode == "echo":
            return f"Echo: {body or ''}"[:640]
        if self.mode == "script":
            turn = self._turn.get(to, 0)
            self._turn[to] = turn + 1
            return self.script[min(turn, len(self.script) - 1)]
        return self.text


def schedule_reply(state: SandboxState, channel: Channel, record: Record, now: int) -> None:
    """A test number answers a delivered message (when the channel does), after the responder's delay."""
    if not channel.auto_reply or record.get("to") not in TEST_NUMBERS:
        return
    responder = responder_of(state)
    text = responder.answer(str(record["to"]), record.get("body"))
    if text is None:
        return
    due = now + responder.delay
    reply: Record = {
        "timestamp_send": due,
        "timestamp": due,
        "from": record["to"],
        "body": text,
        "original_body": record.get("body"),
        "original_message_id": record["message_id"],
        "to": record.get("from"),
        "custom_string": record.get("custom_string"),
        "message_id": state.new_message_id(),
        "_keyword": "sandbox",
    }
    state.pending_replies.append((due, channel.name, reply))
    if due <= now:
        release_replies(state, now)


def release_replies(state: SandboxState, now: int) -> None:
    """Replies whose time has come join the inbound list (and are offered to the pusher)."""
    due = [p for p in state.pending_replies if int(p[0]) <= now]
    if not due:
        return
    state.pending_replies = [p for p in state.pending_replies if int(p[0]) > now]
    for _, channel, reply in due:
        state.inbound[channel].append(reply)
        announce(state, f"{channel}-inbound", reply)


def state_of(app: Any) -> SandboxState:
    """The state of a sandbox app (create_sandbox_app's, or the state-file wrapper's)."""
    state = app.state
    sandbox: SandboxState = state if not hasattr(state, "sandbox") else state.sandbox
    return sandbox


def responder_of(state: SandboxState) -> Responder:
    """Who answers this sandbox's test numbers (the fixed default unless set)."""
    return _RESPONDERS.setdefault(state, Responder())


def set_responder(state: SandboxState, responder: Responder) -> None:
    _RESPONDERS[state] = responder


def set_listener(state: SandboxState, listener: Callable[[str, Record], None] | None) -> None:
    """Who hears of each receipt or reply as it appears (the webhook pusher); None: nobody."""
    if listener is None:
        _LISTENERS.pop(state, None)
    else:
        _LISTENERS[state] = listener


def announce(state: SandboxState, kind: str, record: Record) -> None:
    listener = _LISTENERS.get(state)
    if listener is not None:
        listener(kind, record)


def next_due(state: SandboxState) -> int | None:
    return min((int(p[0]) for p in state.pending_replies), default=None)
