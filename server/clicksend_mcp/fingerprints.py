"""The ledger's keyed hashes and sealed results: how a tenant, a recipient or an idempotency key is stored
without the value itself, and the server key they are keyed with.

Phone numbers are few enough to be guessed from a plain hash, so every fingerprint is an HMAC with a server key
that lives apart from the ledger's rows (an environment variable, or a 0600 file beside the SQLite database).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

KEY_ENV = "CLICKSEND_MCP_LEDGER_KEY"
KEY_FILE = "ledger.key"
MIN_KEY_CHARS = 32


class LedgerKeyError(ValueError):
    """No usable ledger key; the message says how to provide one (and never holds the key)."""


def key_from_text(text: str) -> bytes:
    text = text.strip()
    if len(text) < MIN_KEY_CHARS:
        raise LedgerKeyError(f"{KEY_ENV} must be at least {MIN_KEY_CHARS} characters (e.g. openssl rand -hex 32)")
    return hashlib.sha256(b"clicksend-mcp ledger key\0" + text.encode()).digest()


def key_beside(database: Path) -> bytes:
    """The key stored beside a SQLite ledger, created once (0600, exclusively, so two processes agree on it)."""
    path = database.parent / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
    for _ in range(100):  # another process may be between creating the file and writing it
        text = path.read_text(encoding="ascii").strip()
        if text:
            return key_from_text(text)
    raise LedgerKeyError(f"the ledger key file {path} is empty; delete it or set {KEY_ENV}")


class Fingerprints:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, *parts: str) -> str:
        message = "\0".join(parts).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def tenant(self, backend: str, *identity: str) -> str:
        """One account: the backend and who it authenticates as, never the credential itself."""
        return self._mac("tenant", backend, *identity)

    def recipient(self, kind: str, value: str) -> str:
        return self._mac("recipient", kind, value.strip().lower())

    def idempotency_key(self, tenant: str, key: str) -> str:
        return self._mac("idempotency", tenant, key)

    @staticmethod
    def arguments(tool: str, arguments: dict[str, Any]) -> str:
        body = json.dumps({"tool": tool, "arguments": arguments}, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(body.encode()).hexdigest()

    def _sealing_key(self, tenant: str, key: str) -> bytes:
        return hmac.new(self._key, f"seal\0{tenant}\0{key}".encode(), hashlib.sha256).digest()

    def seal(self, tenant: str, key: str, result: dict[str, Any]) -> bytes:
        """A result kept for replay, encrypted (AES-GCM) under the server key and the caller's idempotency key."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = secrets.token_bytes(12)
        plain = json.dumps(result, separators=(",", ":"), default=str).encode()
        return nonce + AESGCM(self._sealing_key(tenant, key)).encrypt(nonce, plain, tenant.encode())

    def unseal(self, tenant: str, key: str, sealed: bytes) -> dict[str, Any] | None:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            plain = AESGCM(self._sealing_key(tenant, key)).decrypt(sealed[:12], sealed[12:], tenant.encode())
        except (InvalidTag, ValueError):
            return None  # sealed under another server key
        value = json.loads(plain)
        return value if isinstance(value, dict) else None
