"""OAuth 2.1 resource server: JWT access tokens checked against the issuer's JWKS (signature, iss, aud, expiry,
scope), for the `mcp` package's bearer-auth middleware. The static bearer token is accepted alongside."""

from __future__ import annotations

import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import anyio
import jwt
from mcp.server.auth.provider import AccessToken

from ..http import TransportFailure, fetch_json

log = logging.getLogger("clicksend_mcp.oauth")

# Asymmetric algorithms only: a symmetric one (HS256) would let anyone holding a public key mint tokens.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
STATIC_CLIENT = "static-token"
LEEWAY = 30.0  # seconds of clock skew allowed on exp/nbf/iat
KEYS_TTL = 600.0  # refetch the JWKS at least this often (key rotation)
REFRESH_FLOOR = 30.0  # at most one refetch per this many seconds when an unknown key id shows up


@dataclass(frozen=True)
class OAuthConfig:
    issuer: str
    audience: str
    required_scope: str | None = None
    jwks_url: str | None = None


@dataclass(frozen=True)
class SigningKey:
    jwk: jwt.PyJWK
    alg: str | None  # the algorithm the JWKS pins this key to, if it says


@dataclass
class JwksCache:
    """The issuer's signing keys by key id; refetched when stale or when a token names a key it does not hold."""

    config: OAuthConfig
    _keys: dict[str, SigningKey] = field(default_factory=dict)
    _fetched: float = 0.0
    _lock: anyio.Lock = field(default_factory=anyio.Lock)
    _jwks_url: str | None = None

    async def key(self, kid: str | None) -> SigningKey | None:
        if self._due(kid):
            async with self._lock:
                if self._due(kid):  # another call may have refreshed while this one waited
                    await self._refresh()
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _due(self, kid: str | None) -> bool:
        age = time.monotonic() - self._fetched
        unknown = kid is not None and kid not in self._keys
        return not self._fetched or age > KEYS_TTL or (unknown and age > REFRESH_FLOOR)

    async def _refresh(self) -> None:
        try:
            url = self._jwks_url or await self._discover()
            self._jwks_url = url
            document = await fetch_json(url)
            keys: dict[str, SigningKey] = {}
            for index, entry in enumerate(document.get("keys", []) if isinstance(document, dict) else []):
                if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                    continue
                try:
                    key = jwt.PyJWK(entry)
                except jwt.PyJWKError:
                    continue  # a key type or algorithm this library does not support: skip, keep the rest
                alg = entry.get("alg")
                keys[str(entry.get("kid", index))] = SigningKey(key, alg if isinstance(alg, str) else None)
            self._keys = keys
        except (TransportFailure, ValueError) as exc:
            # Keep the keys already held: an issuer outage must not reject tokens signed by keys we know.
            log.warning("could not refresh the OAuth signing keys: %s", exc)
        self._fetched = time.monotonic()

    async def _discover(self) -> str:
        if self.config.jwks_url:
            return self.config.jwks_url
        issuer = self.config.issuer
        for suffix in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
            try:
                metadata = await fetch_json(issuer + suffix)
            except (TransportFailure, ValueError):
                continue
            if isinstance(metadata, dict) and isinstance(metadata.get("jwks_uri"), str):
                return str(metadata["jwks_uri"])
        raise ValueError(f"the issuer {issuer} publishes no jwks_uri; set --oauth-jwks-url")


def _scopes(claims: dict[str, Any]) -> list[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return scope.split()
    scp = claims.get("scp")
    if isinstance(scp, list):
        return [str(s) for s in scp]
    return scp.split() if isinstance(scp, str) else []


class AccessVerifier:
    """A `TokenVerifier` for the SDK's bearer middleware: the static token (constant-time) or a JWT from the issuer.

    Anything wrong with a token (signature, issuer, audience, expiry, format) means "not authenticated": the
    middleware answers 401 with the protected-resource metadata; a missing scope is its 403."""

    def __init__(self, config: OAuthConfig | None, static_token: str | None = None) -> None:
        self.config = config
        self._static = static_token.encode() if static_token else None
        self._jwks = JwksCache(config) if config is not None else None

    async def verify_token(self, token: str) -> AccessToken | None:
        if self._static is not None and hmac.compare_digest(token.encode(), self._static):
            scopes = [self.config.required_scope] if self.config and self.config.required_scope else []
            return AccessToken(token=token, client_id=STATIC_CLIENT, scopes=scopes)
        if self._jwks is None or self.config is None:
            return None
        try:
            return await self._verify_jwt(token, self._jwks, self.config)
        except (jwt.PyJWTError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
            log.info("refused an access token: %s", type(exc).__name__)
            return None

    async def _verify_jwt(self, token: str, jwks: JwksCache, config: OAuthConfig) -> AccessToken | None:
        header = jwt.get_unverified_header(token)
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            return None
        key = await jwks.key(header.get("kid"))
        if key is None or key.alg not in (None, alg):
            return None
        claims = jwt.decode(
            token,
            key=key.jwk,
            algorithms=[alg],
            audience=config.audience,
            issuer=config.issuer,
            leeway=LEEWAY,
            options={"require": ["exp", "iss", "aud"]},
        )
        subject = claims.get("sub")
        client_id = claims.get("client_id") or claims.get("azp") or subject or "unknown"
        return AccessToken(
            token=token,
            client_id=str(client_id),
            scopes=_scopes(claims),
            expires_at=int(claims["exp"]),
            resource=config.audience,
            subject=str(subject) if subject is not None else None,
            claims={"iss": claims["iss"]},
        )
