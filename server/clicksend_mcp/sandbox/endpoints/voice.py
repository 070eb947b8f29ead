"""Voice: the channel definition (voice and language checks) and its endpoints, including GET /voice/lang."""

from __future__ import annotations

from ..call import Call
from ..channels import Channel, Record
from ..envelope import Reply
from ..files import export_handler
from ..inbox import RECEIPTS, mark_read_handler, receipt_handler, receipts_handler, sample_receipt_handler
from ..message_store import cancel_all_handler, cancel_handler, history_handler
from ..messaging import price_handler, send_handler
from ..pricing import VOICE_PRICES, voice_parts
from ..reference import VOICE_GENDERS, VOICE_LANGUAGES, voice_languages_payload
from ..routing import Route, route

DEFAULT_VOICE = "female"
DEFAULT_LANG = "en-us"


def _choice(message: Record, name: str, default: str) -> object:
    value = message.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() if isinstance(value, str) else value


def check_voice(message: Record, _body: Record) -> str | None:
    if _choice(message, "voice", DEFAULT_VOICE) not in VOICE_GENDERS:
        return "INVALID_VOICE"
    if _choice(message, "lang", DEFAULT_LANG) not in VOICE_LANGUAGES:
        return "INVALID_LANG"
    return None


def _flag(value: object) -> int:
    return 1 if value in (1, "1", True) else 0


def voice_extras(message: Record, _body: Record, now: int) -> Record:
    return {
        "to_type": "mobile",
        "voice": _choice(message, "voice", DEFAULT_VOICE),
        "lang": _choice(message, "lang", DEFAULT_LANG),
        "require_input": _flag(message.get("require_input")),
        "machine_detection": _flag(message.get("machine_detection")),
        "machine_detected": 0,
        "digits": None,
        "date_added": now,
    }


VOICE = Channel(
    name="voice",
    label="voice",
    prices=VOICE_PRICES,
    parts=voice_parts,
    sent_status="Completed",
    check_sender=False,
    check=check_voice,
    extras=voice_extras,
)


@route("GET", "/voice/lang")
def voice_languages(_call: Call) -> Reply:
    return Reply(voice_languages_payload(), "Here are the possible languages.")


ROUTES: list[Route] = [
    Route("POST", "/voice/send", send_handler(VOICE)),
    Route("POST", "/voice/price", price_handler(VOICE)),
    Route("GET", "/voice/history", history_handler(VOICE)),
    Route("GET", "/voice/history/export", export_handler("Voice_history.csv")),
    Route("GET", "/voice/receipts", receipts_handler(VOICE)),
    Route("POST", "/voice/receipts", sample_receipt_handler(VOICE)),
    Route("GET", "/voice/receipts/{message_id}", receipt_handler(VOICE)),
    Route("PUT", "/voice/receipts-read", mark_read_handler(VOICE, RECEIPTS, "Receipts have been marked as read.")),
    Route("PUT", "/voice/{message_id}/cancel", cancel_handler(VOICE, "Voice have been cancelled.", [])),
    Route("PUT", "/voice/cancel-all", cancel_all_handler(VOICE)),
    voice_languages,
]
