"""OAuth 2.1 resource-server mode: JWT access tokens from an issuer the test runs on loopback with its own keys."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fake_clicksend import FakeClickSend, LoopbackServer
from test_e2e import direct_env, served

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

AUDIENCE = "https://mcp.example.test/mcp"
SCOPE = "clicksend:tools"
STATIC = "static-access-token-0123456789abcdef"
KID = "test-key-1"


class Issuer:
    """An OAuth authorization server's public face: its metadata document and JWKS, and a way to mint tokens."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.server = LoopbackServer(self.app())
        self.url = f"http://127.0.0.1:{self.server.port}"

    def app(self) -> Starlette:
        async def metadata(request: Request) -> JSONResponse:
            return JSONResponse({"issuer": self.url, "jwks_uri": self.url + "/jwks.json"})

        async def jwks(request: Request) -> JSONResponse:
            public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            return JSONResponse({"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]})

        return Starlette(
            routes=[
                Route("/.well-known/oauth-authorization-server", metadata),
                Route("/jwks.json", jwks),
            ]
        )

    def token(self, key: Any = None, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "user-42",
            "client_id": "agent-platform",
            "iat": now,
            "exp": now + 300,
            "scope": f"openid {SCOPE}",
            **claims,
        }
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": KID})


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    with issuer.server:
        yield issuer


@pytest.fixture
def fake_on_loopback() -> Iterator[tuple[FakeClickSend, LoopbackServer]]:
    fake = FakeClickSend()
    with LoopbackServer(fake) as server:
        yield fake, server


def refusals(text: str) -> dict[str, float]:
    """The refusals counted in a /metrics scrape, by reason."""
    return {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "clicksend_mcp_refusals_total"
    }


def oauth_env(base_url: str, issuer: Issuer, **extra: str) -> dict[str, str]:
    return {
        **direct_env(base_url),
        "CLICKSEND_MCP_OAUTH_ISSUER": issuer.url,
        "CLICKSEND_MCP_OAUTH_AUDIENCE": AUDIENCE,
        "CLICKSEND_MCP_OAUTH_REQUIRED_SCOPE": SCOPE,
        **extra,
    }


async def call_account(base: str, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    with anyio.fail_after(60):
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
        ):
            result = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
    assert result.structured_content is not None
    return result.structured_content


async def test_a_good_token_from_the_issuer_reaches_the_tools(fake_on_loopback: Any, issuer: Issuer) -> None:
    fake, server = fake_on_loopback
    async with served("http", oauth_env(server.base_url, issuer)) as base:
        result = await call_account(base, issuer.token())
    assert result["successful"] is True
    assert len(fake.requests) == 1


async def test_bad_tokens_get_401_naming_the_resource_metadata_and_reach_nothing(
    fake_on_loopback: Any, issuer: Issuer
) -> None:
    fake, server = fake_on_loopback
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = {
        "expired": issuer.token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        "wrong audience": issuer.token(aud="https://other.example.test/mcp"),
        "wrong issuer": issuer.token(iss="http://127.0.0.1:1"),
        "wrong key": issuer.token(key=other_key),
        "not a JWT": "not-a-jwt-at-all",
        "symmetric algorithm": jwt.encode({"iss": issuer.url, "aud": AUDIENCE, "exp": 2**31}, "k" * 32, "HS256"),
        "no expiry": issuer.token(exp=None),
    }
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    env = oauth_env(server.base_url, issuer, CLICKSEND_MCP_METRICS="true")
    async with served("http", env) as base, httpx2.AsyncClient(timeout=30) as http:
        for name, token in [*bad.items(), ("no token", None)]:
            headers = {"Accept": "application/json, text/event-stream"}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            response = await http.post(f"{base}/mcp", json=call, headers=headers)
            assert response.status_code == 401, name
            challenge = response.headers["www-authenticate"]
            assert challenge.startswith("Bearer "), name
            assert 'resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"' in challenge
        metrics = await http.get(f"{base}/metrics", headers={"Authorization": f"Bearer {issuer.token()}"})
    assert fake.requests == []
    assert refusals(metrics.text) == {"TOKEN_INVALID": len(bad), "TOKEN_MISSING": 1}
    assert "Bearer" not in metrics.text and "eyJ" not in metrics.text


async def test_a_token_without_the_required_scope_gets_403(fake_on_loopback: Any, issuer: Issuer) -> None:
    fake, server = fake_on_loopback
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {issuer.token(scope='x')}"}
    env = oauth_env(server.base_url, issuer, CLICKSEND_MCP_METRICS="true")
    async with served("http", env) as base, httpx2.AsyncClient(timeout=30) as http:
        response = await http.post(f"{base}/mcp", json=call, headers=headers)
        metrics = await http.get(f"{base}/metrics", headers={"Authorization": f"Bearer {issuer.token()}"})
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert fake.requests == []
    assert refusals(metrics.text) == {"INSUFFICIENT_SCOPE": 1}


async def test_the_protected_resource_metadata_is_served_without_a_token(fake_on_loopback: Any, issuer: Issuer) -> None:
    _, server = fake_on_loopback
    async with served("http", oauth_env(server.base_url, issuer)) as base, httpx2.AsyncClient(timeout=30) as http:
        for path in ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"):
            document = (await http.get(base + path)).json()
            assert document["resource"] == AUDIENCE
            assert document["authorization_servers"] == [issuer.url]
            assert document["scopes_supported"] == [SCOPE]
        assert (await http.get(base + "/healthz")).status_code == 200


async def test_the_static_token_keeps_working_beside_oauth(fake_on_loopback: Any, issuer: Issuer) -> None:
    _, server = fake_on_loopback
    env = oauth_env(server.base_url, issuer, CLICKSEND_MCP_AUTH_TOKEN=STATIC)
    async with served("http", env) as base:
        result = await call_account(base, STATIC)
    assert result["successful"] is True
    assert STATIC not in json.dumps(result)
