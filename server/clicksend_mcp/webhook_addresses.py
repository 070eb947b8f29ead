"""Where ClickSend pushes replies and receipts: the webhook path segment of this server (its secret) or, in
multi-tenant mode, of one tenant (its fingerprint and a MAC of it under the secret), and reading one back. Pure.

A push names no tenant, so in multi-tenant mode the URL does: `<fingerprint>.<mac>`, where the MAC is
HMAC-SHA256(webhook secret, label + fingerprint), truncated to 128 bits and base64url-encoded. Only the server can
mint one; a tenant's URL gives away nothing of the secret or of another tenant's URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field

PATH = "/webhooks/clicksend"
_LABEL = b"clicksend-mcp/webhook-tenant/v1\x00"  # domain separation: this secret MACs nothing else
MAC_BYTES = 16  # 128 bits: a guess succeeds with probability 2**-128 per try
_MAC_CHARS = 22  # base64url of 16 bytes, unpadded
_TENANT_RE = re.compile(r"[0-9a-f]{64}")  # tenancy.TenantCredentials.fingerprint: SHA-256, hex


def _mac(secret: str, tenant: str) -> str:
    digest = hmac.new(secret.encode(), _LABEL + tenant.encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def tenant_segment(secret: str, tenant: str) -> str:
    """The path segment of one tenant's webhook URLs."""
    return f"{tenant}.{_mac(secret, tenant)}"


def tenant_of(secret: str, segment: str) -> str | None:
    """The tenant a path segment was minted for, or None (unknown shape or a MAC that does not verify)."""
    tenant, dot, mac = segment.partition(".")
    if not dot or not _TENANT_RE.fullmatch(tenant) or len(mac) != _MAC_CHARS:
        return None
    # Constant time: how much of a guessed MAC matched must not show in the answer's timing.
    return tenant if hmac.compare_digest(mac.encode(), _mac(secret, tenant).encode()) else None


@dataclass(frozen=True)
class WebhookAddress:
    """How this server is reached by ClickSend's pushes: its public URL and the secret, one set of URLs for the
    server's account, or (per_tenant) one set per tenant."""

    public_url: str
    secret: str = field(repr=False)
    per_tenant: bool = False

    def segment(self, tenant: str) -> str:
        return tenant_segment(self.secret, tenant) if self.per_tenant else self.secret

    def url(self, tenant: str, kind: str) -> str:
        return f"{self.public_url}{PATH}/{self.segment(tenant)}/{kind}"

    def shown(self, tenant: str, kind: str) -> str:
        """The URL as a result shows it: a tenant's own URL in full (it is that tenant's, not the secret); the
        server's with the secret replaced."""
        if self.per_tenant:
            return self.url(tenant, kind)
        return f"{self.public_url}{PATH}/<webhook secret>/{kind}"
