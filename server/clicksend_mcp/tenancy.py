"""Multi-tenant credentials: reading a request's ClickSend or Maton credentials from its headers, and the tenant's
fingerprint. Pure: nothing here keeps a credential beyond the call that brought it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

USERNAME_HEADER = "x-clicksend-username"
API_KEY_HEADER = "x-clicksend-api-key"
MATON_KEY_HEADER = "x-maton-api-key"
MATON_CONNECTION_HEADER = "x-maton-connection"
TENANT_HEADERS = (USERNAME_HEADER, API_KEY_HEADER, MATON_KEY_HEADER, MATON_CONNECTION_HEADER)

HEADERS_HINT = (
    "send your own ClickSend credentials with every request: the headers X-ClickSend-Username and "
    "X-ClickSend-Api-Key, or X-Maton-Api-Key (and optionally X-Maton-Connection) for the Maton gateway"
)
MAX_VALUE_LENGTH = 512
# The fingerprint is a domain-separated SHA-256: every replica computes the same one with no shared secret, and
# API keys are long random values, so the digest cannot be walked back to them.
_FINGERPRINT_LABEL = b"clicksend-mcp/tenant/v1"


def tenant_label(fingerprint: str) -> str:
    """A tenant's fingerprint shortened for metric labels, log lines and ledger reports: names it, reveals nothing."""
    return fingerprint[:12]


class TenantHeaderError(ValueError):
    """The request's credential headers are missing or malformed. The message names headers, never values."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class TenantCredentials:
    """One request's credentials. `backend` is "direct" (username + key) or "maton" (gateway key)."""

    backend: str
    username: str | None = None
    api_key: str = field(default="", repr=False)
    connection: str | None = None

    @property
    def fingerprint(self) -> str:
        """Who the tenant is, for ledger rows, limits, metrics and logs: the same on every replica."""
        parts = [_FINGERPRINT_LABEL, self.backend.encode(), (self.username or "").encode(), self.api_key.encode()]
        return hashlib.sha256(b"\x00".join(parts)).hexdigest()

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.api_key,)


def _clean(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        return None
    if len(value) > MAX_VALUE_LENGTH:
        raise TenantHeaderError("INVALID_CREDENTIALS_HEADER", f"{_title(name)} is longer than {MAX_VALUE_LENGTH}")
    # Printable ASCII only: these values become an Authorization header upstream, where a control character or a
    # byte outside ASCII could split it or be read differently by another hop.
    if any(not (0x20 <= ord(ch) <= 0x7E) for ch in value):
        raise TenantHeaderError(
            "INVALID_CREDENTIALS_HEADER", f"{_title(name)} must be printable ASCII (no control characters)"
        )
    value = value.strip()
    if not value:
        raise TenantHeaderError("INVALID_CREDENTIALS_HEADER", f"{_title(name)} is empty")
    return value


def _title(name: str) -> str:
    return "-".join(
        "ClickSend" if p == "clicksend" else "Api" if p == "api" else p.capitalize() for p in name.split("-")
    )


def read_tenant(headers: Mapping[str, str]) -> TenantCredentials:
    """The credentials a request brings (header names lower-case), or TenantHeaderError saying what to send."""
    username = _clean(headers, USERNAME_HEADER)
    api_key = _clean(headers, API_KEY_HEADER)
    maton_key = _clean(headers, MATON_KEY_HEADER)
    connection = _clean(headers, MATON_CONNECTION_HEADER)
    if (username or api_key) and maton_key:
        raise TenantHeaderError(
            "INVALID_CREDENTIALS_HEADER",
            "send either X-ClickSend-Username with X-ClickSend-Api-Key, or X-Maton-Api-Key; not both",
        )
    if maton_key:
        return TenantCredentials("maton", api_key=maton_key, connection=connection)
    if connection:
        raise TenantHeaderError("INVALID_CREDENTIALS_HEADER", "X-Maton-Connection needs X-Maton-Api-Key")
    if username and ":" in username:
        raise TenantHeaderError("INVALID_CREDENTIALS_HEADER", "X-ClickSend-Username must not contain ':'")
    if username and api_key:
        return TenantCredentials("direct", username=username, api_key=api_key)
    if username or api_key:
        missing = "X-ClickSend-Api-Key" if username else "X-ClickSend-Username"
        raise TenantHeaderError("MISSING_CREDENTIALS", f"{missing} is missing; {HEADERS_HINT}")
    raise TenantHeaderError("MISSING_CREDENTIALS", f"this server holds no ClickSend credentials: {HEADERS_HINT}")
