"""The hosted case end to end: nginx in front of three multi-tenant replicas that share one PostgreSQL ledger and
hold no ClickSend credentials, behind OAuth. Each agent platform user brings an access token from the issuer and
its own ClickSend credentials in request headers, and is served on whichever replica nginx picks.

Proves: both users' calls spread over every replica; each sees only its own account's messages; each send went
out once, from its own account; the shared ledger keeps each user's rows apart; a request without a token gets 401
with the protected-resource challenge, and one without ClickSend credentials is refused before anything is sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from clicksend_mcp.sandbox import SandboxAuth
from clicksend_mcp.tenancy import read_tenant
from fake_clicksend import TEST_NUMBER, AccountsFake, FakeClickSend
from services import PostgresServer
from test_oauth import AUDIENCE, SCOPE, Issuer
from test_topology import ACCOUNT, SEND, SENDS_PATH, Recorder, Topology, running_topology

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

HISTORY = "CLICKSEND_GET_SMS_HISTORY"
USERS = {
    "dana": ("dana", "DANA-KEY-0a1b2c3d4e5f60718293a4b5"),
    "eli": ("eli", "ELI-KEY-5f4e3d2c1b0a98877665f4e3"),
}
ROUNDS = 6


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    with issuer.server:
        yield issuer


@pytest.fixture(scope="module")
def hosted(postgres_server: PostgresServer, issuer: Issuer) -> Iterator[Topology]:
    accounts = AccountsFake({name: FakeClickSend(auth=SandboxAuth(basic=user)) for name, user in USERS.items()})
    with running_topology(
        postgres_server.new_database(),
        accounts,
        stored_credentials=False,
        CLICKSEND_MCP_MULTI_TENANT="true",
        CLICKSEND_MCP_OAUTH_ISSUER=issuer.url,
        CLICKSEND_MCP_OAUTH_AUDIENCE=AUDIENCE,
        CLICKSEND_MCP_OAUTH_REQUIRED_SCOPE=SCOPE,
    ) as running:
        yield running


def user_headers(issuer: Issuer, name: str) -> dict[str, str]:
    username, key = USERS[name]
    return {
        "Authorization": f"Bearer {issuer.token(sub=f'platform-user-{name}')}",
        "X-ClickSend-Username": username,
        "X-ClickSend-Api-Key": key,
    }


async def test_hosted_users_with_oauth_and_their_own_credentials_are_served_on_every_replica(
    hosted: Topology, issuer: Issuer
) -> None:
    started = time.time()
    recorder = Recorder()
    histories: dict[str, list[str]] = {}

    async def user(name: str) -> None:
        async with (
            httpx2.AsyncClient(
                headers=user_headers(issuer, name), timeout=30, event_hooks={"response": [recorder]}
            ) as http,
            Client(streamable_http_client(hosted.url, http_client=http)) as client,  # the 2026 era: no session
        ):
            for n in range(ROUNDS):
                sent = await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": f"{name} {n}"}]})
                assert sent.structured_content is not None and sent.structured_content["successful"], sent
                account = await client.call_tool(ACCOUNT, {})
                assert account.structured_content is not None and account.structured_content["successful"]
            history = await client.call_tool(HISTORY, {"limit": 100})
            assert history.structured_content is not None and history.structured_content["successful"]
            histories[name] = [m["body"] for m in history.structured_content["data"]["data"]]

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for name in USERS:
                tg.start_soon(user, name)

    calls = [port for method, port, _ in recorder.seen if method == "tools/call"]
    assert len(calls) == len(USERS) * (2 * ROUNDS + 1)
    assert set(calls) == hosted.ports  # any replica serves any user
    for name in USERS:
        assert sorted(histories[name]) == sorted(f"{name} {n}" for n in range(ROUNDS))
        own = hosted.fake.accounts[name].sent("POST", SENDS_PATH)
        bodies = [m["body"] for r in own for m in (r.json or {}).get("messages", [])]
        assert sorted(bodies) == sorted(f"{name} {n}" for n in range(ROUNDS))  # each once, from its own account

    # The shared ledger: each user's sends under that user's own tenant, none under the other's.
    import psycopg

    with psycopg.connect(hosted.database_url) as conn:
        rows = conn.execute(
            "SELECT tenant, outcome FROM sends WHERE created_at >= %s ORDER BY id", (started - 1,)
        ).fetchall()
    tenants = {
        name: read_tenant({"x-clicksend-username": u, "x-clicksend-api-key": k}).fingerprint
        for name, (u, k) in USERS.items()
    }
    by_tenant: dict[str, list[str]] = {}
    for tenant, outcome in rows:
        by_tenant.setdefault(str(tenant), []).append(str(outcome))
    assert by_tenant == {tenants[name]: ["sent"] * ROUNDS for name in USERS}


async def test_without_a_token_or_without_credentials_nothing_reaches_clicksend(
    hosted: Topology, issuer: Issuer
) -> None:
    before = len(hosted.fake.requests)
    call: dict[str, Any] = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": SEND, "arguments": {"messages": [{"to": TEST_NUMBER, "body": "never sent"}]}},
    }
    accept = {"Accept": "application/json, text/event-stream"}
    async with httpx2.AsyncClient(timeout=30) as http:
        no_token = await http.post(
            hosted.url,
            json=call,
            headers={**accept, **{k: v for k, v in user_headers(issuer, "dana").items() if k != "Authorization"}},
        )
    assert no_token.status_code == 401
    assert no_token.headers["www-authenticate"].startswith("Bearer ")
    assert "resource_metadata=" in no_token.headers["www-authenticate"]

    token_only = {"Authorization": f"Bearer {issuer.token()}"}
    async with (
        httpx2.AsyncClient(headers=token_only, timeout=30) as http,
        Client(streamable_http_client(hosted.url, http_client=http)) as client,
    ):
        refused = await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": "never sent"}]})
    assert refused.structured_content is not None
    assert refused.structured_content["successful"] is False
    assert refused.structured_content["error_code"] == "MISSING_CREDENTIALS"
    assert "X-ClickSend-Username" in refused.structured_content["error"]
    assert len(hosted.fake.requests) == before
