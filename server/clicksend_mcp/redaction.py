"""Removing secrets from everything that leaves the server: results, errors, previews and log lines.

Two rules, applied to object keys and values alike:
- A configured secret (API key, Basic token, Maton key, access token) is replaced wherever it appears, in any letter
  case, and in the forms it travels in: base64 (standard and URL-safe, with or without padding) and URL-encoded.
- A value under a secret-named key is replaced whole. A key is secret-named when, lower-cased with `_`, `-`, `.` and
  spaces removed, it ends with one of SECRET_NAME_SUFFIXES (`api_key`, `X-Api-Key`, `sessionToken`,
  `client_secret`, `private_key`, `new_password`, `Proxy-Authorization`...) or is one of SECRET_NAMES. Names that only
  start with such a word (`token_count`, `password_set_at`, `secret_question`) are left alone: a counter or a date
  after the word is not the secret itself. Booleans and empty values are kept (`has_password: true` reveals nothing).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"

SECRET_NAME_SUFFIXES = (
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "apikey",
    "privatekey",
    "secretkey",
    "accesskey",
    "signingkey",
    "authorization",
    "credential",
    "credentials",
)
SECRET_NAMES = frozenset({"auth", "pwd", "cookie", "setcookie"})
_SEPARATORS = str.maketrans("", "", "_-. ")
_SEPARATOR_BYTES = b"_-. "
# What a raw answer is searched for, after lower-casing it and deleting separators (the same done to each needle):
# deleting characters keeps every occurrence findable, so the search can only over-report, never miss.
# A key is a quoted string: a secret word must end it, so "tokens" in prose does not count.
_NAME_NEEDLES = [s.encode() + b'"' for s in SECRET_NAME_SUFFIXES]
_NAME_NEEDLES += [b'"' + s.encode() + b'"' for s in SECRET_NAMES]


def is_secret_name(key: str) -> bool:
    """Whether a field of this name holds a credential (see the module's rule)."""
    name = key.lower().translate(_SEPARATORS)
    return name in SECRET_NAMES or name.endswith(SECRET_NAME_SUFFIXES)


def secret_forms(secret: str) -> set[str]:
    """The secret and the encodings it travels in: base64 (standard, URL-safe, unpadded) and URL-encoded."""
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        forms |= {text, text.rstrip("=")}
    return forms


def decode_body(body: bytes) -> str:
    """A JSON answer's text, decoded exactly as `json.loads` decodes bytes (UTF-8/16/32, with or without a BOM)."""
    return body.decode(json.detect_encoding(body), "surrogatepass")


class Redactor:
    """Removes secrets from anything that leaves the server: by value (configured secrets) and by key name."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Short values would redact innocent text; the configured secrets are long keys and tokens.
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= 6:
                forms |= {f for f in secret_forms(secret) if len(f) >= 6}
        self._forms = sorted(forms, key=len, reverse=True)  # longest first: a form inside another is still covered
        self._pattern = re.compile("|".join(re.escape(f) for f in self._forms), re.IGNORECASE) if self._forms else None
        # Risky raw text: any secret form, any secret-named key, or a backslash (a JSON escape such as \u005f could
        # hide either from this search while the parser restores it).
        needles = {f.encode().lower().translate(None, _SEPARATOR_BYTES) for f in self._forms}
        self._needles = sorted({b"\\", *_NAME_NEEDLES, *(n for n in needles if n)}, key=len, reverse=True)
        self._keys: dict[str, tuple[str, bool]] = {}  # key -> (redacted key, secret-named): keys repeat per item

    def could_leak(self, body: bytes) -> bool:
        """False when a raw answer provably holds no secret: then its parsed form needs no walk.

        The search runs on UTF-8 bytes (bytes that are not UTF-8 do not parse, so nothing of them reaches a result);
        any other encoding the JSON parser accepts (UTF-16, UTF-32, a BOM) always gets the full walk.
        """
        try:
            encoding = json.detect_encoding(body)
        except Exception:  # detect_encoding only inspects the first bytes; be safe whatever it meets
            return True
        if encoding != "utf-8":
            return True
        folded = body.lower().translate(None, _SEPARATOR_BYTES)
        return any(needle in folded for needle in self._needles)

    def text(self, value: str) -> str:
        if self._pattern is None:
            return value
        return self._pattern.sub(REDACTED, value)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for k, v in value.items():
                key, secret_named = self._key(k) if isinstance(k, str) else (k, False)
                while key in out:  # two secrets as keys must not collapse into one entry
                    key = f"{key}#"
                out[key] = REDACTED if secret_named and _holds_something(v) else self.value(v)
            return out
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def _key(self, key: str) -> tuple[str, bool]:
        known = self._keys.get(key)
        if known is None:
            known = (self.text(key), is_secret_name(key))
            if len(self._keys) < 4096:  # answers reuse a few dozen names; a hostile one cannot grow this forever
                self._keys[key] = known
        return known


def _holds_something(value: Any) -> bool:
    return value is not None and not isinstance(value, bool) and value != "" and value != [] and value != {}
