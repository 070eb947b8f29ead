"""Who is calling: ClickSend's test credentials, the optional strict credentials, and the caller they yield."""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from enum import Enum

from .envelope import SandboxError

TEST_API_KEY = "D83DED51-9E35-4D42-9BB9-0E34B7CA85AE"


class Mode(Enum):
    """How the account behaves: normally, or as ClickSend's `nocredit` test account."""

    NORMAL = "normal"
    NO_CREDIT = "nocredit"


@dataclass(frozen=True)
class SandboxAuth:
    """Credentials the strict fake demands. With neither set, every request is refused unless it uses a test account."""

    basic: tuple[str, str] | None = None
    bearer: str | None = None


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request."""

    username: str | None
    mode: Mode = Mode.NORMAL

    @property
    def no_credit(self) -> bool:
        return self.mode is Mode.NO_CREDIT


# (http, response_code, response_msg) for each refusal; a fresh SandboxError is built per request.
_Refusal = tuple[int, str, str]
_NOT_ACTIVATED: _Refusal = (403, "ACCOUNT_NOT_ACTIVATED", "Your account has not been activated.")
_BANNED: _Refusal = (403, "FORBIDDEN", "This account is banned")
_MISSING: _Refusal = (
    401,
    "MISSING_CREDENTIALS",
    "Not enough information has been supplied for authentication. "
    "Please ensure that your Username and Unique Key are supplied in your request.",
)
_INVALID: _Refusal = (401, "INVALID_CREDENTIALS", "Your Username or Unique Key is incorrect.")

# Test username -> what a request with the right test key gets: a caller mode, or a refusal on every endpoint.
TEST_ACCOUNTS: dict[str, Mode | _Refusal] = {
    "nocredit": Mode.NO_CREDIT,
    "notactive": _NOT_ACTIVATED,
    "banned": _BANNED,
}


def _refuse(refusal: _Refusal) -> SandboxError:
    http, code, msg = refusal
    return SandboxError(http, msg, code)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _basic_pair(token: str) -> tuple[str, str] | None:
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def authenticate(authorization: str | None, auth: SandboxAuth | None) -> Caller:
    """The caller for an `Authorization` header value, or the SandboxError ClickSend would answer."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    scheme = scheme.lower()
    pair = _basic_pair(token) if scheme == "basic" else None
    if pair is not None and pair[0] in TEST_ACCOUNTS:
        username, key = pair
        if not _same(key, TEST_API_KEY):
            raise _refuse(_INVALID)
        outcome = TEST_ACCOUNTS[username]
        if isinstance(outcome, Mode):
            return Caller(username, outcome)
        raise _refuse(outcome)
    if auth is None:
        return Caller(pair[0] if pair else None)
    if not authorization:
        raise _refuse(_MISSING)
    if pair is not None and auth.basic is not None:
        user_ok = _same(pair[0], auth.basic[0])
        key_ok = _same(pair[1], auth.basic[1])
        if user_ok and key_ok:
            return Caller(pair[0])
    if scheme == "bearer" and auth.bearer is not None and _same(token.strip(), auth.bearer):
        return Caller(None)
    raise _refuse(_INVALID)
