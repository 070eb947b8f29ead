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
# Bytes that might spell a secret-named key in a raw answer, separators allowed between letters.
# A key is a quoted string: the word must end it (trailing separators allowed), so "tokens" in prose does not count.
_SEP = b"[-_. ]*"
_NAME_PATTERNS = [_SEP.join(re.escape(bytes([c])) for c in s.encode()) + _SEP + b'"' for s in SECRET_NAME_SUFFIXES]
_NAME_PATTERNS += [
    b'"' + _SEP + _SEP.join(re.escape(bytes([c])) for c in s.encode()) + _SEP + b'"' for s in SECRET_NAMES
]


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
        # Risky raw text: any secret form, any secret-named key word, or a backslash (a JSON escape such as \u005f
        # could hide either from this search while the parser restores it).
        risky = [b"\\\\", *_NAME_PATTERNS, *(re.escape(f.encode()) for f in self._forms)]
        self._risky = re.compile(b"|".join(risky), re.IGNORECASE)

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
        return self._risky.search(body) is not None

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
                key = self.text(k) if isinstance(k, str) else k
                while key in out:  # two secrets as keys must not collapse into one entry
                    key = f"{key}#"
                if isinstance(k, str) and is_secret_name(k) and _holds_something(v):
                    out[key] = REDACTED
                else:
                    out[key] = self.value(v)
            return out
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value


def _holds_something(value: Any) -> bool:
    return value is not None and not isinstance(value, bool) and value != "" and value != [] and value != {}
