"""Multi-tenant mode: the server holds no ClickSend credentials; each request brings its own, for that request only."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from clicksend_mcp.http import ClickSendHttp, basic_token
from clicksend_mcp.request_builder import HttpRequest
from clicksend_mcp.sandbox import SandboxAuth
from clicksend_mcp.settings import ConfigError, Settings
from clicksend_mcp.tenancy import TenantHeaderError, read_tenant
from fake_clicksend import TEST_NUMBER, AccountsFake, FakeClickSend, LoopbackServer
from test_e2e import run_cli, served

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEND = "CLICKSEND_CREATE_SMS_SEND"
HISTORY = "CLICKSEND_SMS_HISTORY_GET"
LEDGER = "CLICKSEND_GET_SEND_LEDGER"
CHECK = "CLICKSEND_CHECK_SEND_OUTCOME"
LEDGER_KEY = "tenant-ledger-key-0123456789abcdef0123"
PRICE = 0.077  # the fake's price of one SMS part to TEST_NUMBER
ALICE = ("alice", "ALICE-KEY-1f0e2d3c4b5a69788796a5b4")
BOB = ("bob", "BOB-KEY-9a8b7c6d5e4f30211203f4e5")
CAROL_MATON = "carol-maton-key-55aa66bb77cc88dd"


@pytest.fixture
def accounts() -> Iterator[tuple[AccountsFake, LoopbackServer]]:
    fake = AccountsFake(
        {
            "alice": FakeClickSend(auth=SandboxAuth(basic=ALICE)),
            "bob": FakeClickSend(auth=SandboxAuth(basic=BOB)),
            "carol": FakeClickSend(auth=SandboxAuth(bearer=CAROL_MATON)),
        },
        bearer={CAROL_MATON: "carol"},
    )
    with LoopbackServer(fake) as server:
        yield fake, server


def tenant_env(base_url: str, **extra: str) -> dict[str, str]:
    return {
        "CLICKSEND_MCP_MULTI_TENANT": "true",
        "CLICKSEND_BASE_URL": base_url,
        "MATON_BASE_URL": base_url,
        "CLICKSEND_MCP_LOG_LEVEL": "debug",
        **extra,
    }


def direct_headers(user: tuple[str, str]) -> dict[str, str]:
    return {"X-ClickSend-Username": user[0], "X-ClickSend-Api-Key": user[1]}


def fingerprint(user: tuple[str, str]) -> str:
    return read_tenant({"x-clicksend-username": user[0], "x-clicksend-api-key": user[1]}).fingerprint


def ledger_env(base_url: str, database_url: str, **extra: str) -> dict[str, str]:
    """A multi-tenant server with the send ledger (and its tools) on the given database; info logs (a line a call),
    since these tests do not drain them."""
    settings = {
        "CLICKSEND_MCP_DATABASE_URL": database_url,
        "CLICKSEND_MCP_LEDGER_KEY": LEDGER_KEY,
        "CLICKSEND_TOOLSETS": "default,ledger",
        "CLICKSEND_MCP_LOG_LEVEL": "info",
    }
    return tenant_env(base_url, **{**settings, **extra})


def database(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return f"sqlite://{tmp_path}/ledger.db" if kind == "sqlite" else str(request.getfixturevalue("postgres_url"))


@asynccontextmanager
async def tenant_client(base: str, user: tuple[str, str]) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers=direct_headers(user), timeout=30) as http,
        Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
    ):
        yield client


async def structured(client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, arguments)
    assert result.structured_content is not None, result.content
    return dict(result.structured_content)


def sms(body: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"to": TEST_NUMBER, "body": body}], **extra}


async def send_and_read(url: str, headers: dict[str, str], body: str, mode: str) -> tuple[str, list[str]]:
    """Send one SMS as this tenant and read its history: (the message id, the bodies its history holds)."""
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,  # type: ignore[arg-type]
    ):
        sent = await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": body}]})
        assert sent.structured_content is not None and sent.structured_content["successful"] is True, sent
        message_id = sent.structured_content["data"]["messages"][0]["message_id"]
        history = await client.call_tool(HISTORY, {"limit": 100})
        assert history.structured_content is not None and history.structured_content["successful"] is True
        return message_id, [m["body"] for m in history.structured_content["data"]["data"]]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_two_tenants_at_once_never_see_each_others_account(accounts: Any, mode: str) -> None:
    fake, server = accounts
    async with served("http", tenant_env(server.base_url), keep_process=True) as (base, process):
        seen: dict[str, list[list[str]]] = {"alice": [], "bob": [], "carol": []}
        who = {
            "alice": direct_headers(ALICE),
            "bob": direct_headers(BOB),
            "carol": {"X-Maton-Api-Key": CAROL_MATON},
        }

        async def tenant(name: str, round_: int) -> None:
            _, bodies = await send_and_read(f"{base}/mcp", who[name], f"{name} round {round_}", mode)
            seen[name].append(bodies)

        logged: list[bytes] = []

        async def drain_logs() -> None:  # debug logs fill the pipe otherwise, and the server would block
            assert process.stderr is not None
            async for chunk in process.stderr:
                logged.append(chunk)

        with anyio.fail_after(90):
            async with anyio.create_task_group() as outer:
                outer.start_soon(drain_logs)
                async with anyio.create_task_group() as tg:
                    for round_ in range(3):
                        for name in who:
                            tg.start_soon(tenant, name, round_)
                process.terminate()
        logs = b"".join(logged).decode(errors="replace")
        assert "call tool=CLICKSEND_CREATE_SMS_SEND" in logs
        for user in (ALICE, BOB):
            fingerprint = read_tenant({"x-clicksend-username": user[0], "x-clicksend-api-key": user[1]}).fingerprint
            assert f"tenant={fingerprint[:12]}" in logs
    for name, histories in seen.items():
        assert len(histories) == 3
        for bodies in histories:
            assert bodies and all(b.startswith(name + " ") for b in bodies), (name, bodies)
    # Each account's state holds only its own tenant's sends, and every request reached ClickSend as a tenant.
    assert {account for _, _, account in fake.requests} == {"alice", "bob", "carol"}
    for account in fake.accounts.values():
        assert len(account.sent("POST", "/v3/sms/send")) == 3
        for request in account.requests:
            assert request.headers["authorization"].split()[0] in ("Basic", "Bearer")
    for secret in (ALICE[1], BOB[1], CAROL_MATON):
        assert secret not in logs


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "X-ClickSend-Username and X-ClickSend-Api-Key"),
        ({"X-ClickSend-Username": "alice"}, "X-ClickSend-Api-Key is missing"),
        ({"X-ClickSend-Api-Key": ALICE[1]}, "X-ClickSend-Username is missing"),
        ({"X-Maton-Connection": "c0ffee"}, "X-Maton-Connection needs X-Maton-Api-Key"),
        ({**direct_headers(ALICE), "X-Maton-Api-Key": CAROL_MATON}, "not both"),
        ({"X-ClickSend-Username": "alice", "X-ClickSend-Api-Key": "tab\there-0123456789"}, "printable ASCII"),
        ({"X-ClickSend-Username": "al:ice", "X-ClickSend-Api-Key": ALICE[1]}, "must not contain ':'"),
    ],
)
async def test_a_call_without_good_credential_headers_is_refused_before_anything_is_sent(
    accounts: Any, headers: dict[str, str], expected: str
) -> None:
    fake, server = accounts
    async with served("http", tenant_env(server.base_url)) as base:
        with anyio.fail_after(60):
            async with (
                httpx2.AsyncClient(headers=headers, timeout=30) as http,
                Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
            ):
                listed = await client.list_tools()  # listing needs no credentials: nothing goes upstream
                assert SEND in {t.name for t in listed.tools}
                result = await client.call_tool(SEND, {"messages": [{"to": TEST_NUMBER, "body": "hi"}]})
    assert result.is_error is True
    assert result.structured_content is not None
    assert result.structured_content["error_code"] in ("MISSING_CREDENTIALS", "INVALID_CREDENTIALS_HEADER")
    assert expected in result.structured_content["error"]
    assert "Nothing was sent" in result.structured_content["error"]
    for value in headers.values():
        if len(value) > 8:
            assert value not in json.dumps(result.structured_content)
    assert fake.requests == []


async def test_a_non_ascii_credential_header_is_refused_before_anything_is_sent(accounts: Any) -> None:
    fake, server = accounts
    headers = {"X-ClickSend-Username": "alïce".encode(), "X-ClickSend-Api-Key": ALICE[1].encode()}
    async with served("http", tenant_env(server.base_url)) as base:
        with anyio.fail_after(60):
            async with (
                httpx2.AsyncClient(headers=headers, timeout=30) as http,
                Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
            ):
                result = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
    assert result.structured_content is not None
    assert result.structured_content["error_code"] == "INVALID_CREDENTIALS_HEADER"
    assert "X-ClickSend-Username must be printable ASCII" in result.structured_content["error"]
    assert fake.requests == []


async def test_a_wrong_key_gets_clicksends_refusal_without_echoing_the_key(accounts: Any) -> None:
    fake, server = accounts
    wrong = {"X-ClickSend-Username": "alice", "X-ClickSend-Api-Key": "WRONG-KEY-00112233445566778899"}
    async with served("http", tenant_env(server.base_url)) as base:
        with anyio.fail_after(60):
            async with (
                httpx2.AsyncClient(headers=wrong, timeout=30) as http,
                Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
            ):
                result = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
    assert result.structured_content is not None and result.structured_content["error_code"] == "UNAUTHORIZED"
    assert "WRONG-KEY" not in json.dumps(result.structured_content)
    assert len(fake.requests) == 1


def test_multi_tenant_refuses_stored_credentials_and_stdio() -> None:
    with pytest.raises(ConfigError, match="CLICKSEND_API_KEY"):
        Settings(
            multi_tenant=True, transport="http", clicksend_username="u", clicksend_api_key="k" * 20
        ).check_http_exposure()
    with pytest.raises(ConfigError, match="--transport http"):
        Settings(multi_tenant=True, transport="stdio").check_http_exposure()
    Settings(multi_tenant=True, transport="http").check_http_exposure()


def test_the_fingerprint_names_the_tenant_without_its_key() -> None:
    alice = read_tenant({"x-clicksend-username": "alice", "x-clicksend-api-key": ALICE[1]})
    again = read_tenant({"x-clicksend-username": " alice ", "x-clicksend-api-key": ALICE[1]})
    other = read_tenant({"x-clicksend-username": "alice", "x-clicksend-api-key": BOB[1]})
    maton = read_tenant({"x-maton-api-key": CAROL_MATON, "x-maton-connection": "conn-1"})
    assert alice.fingerprint == again.fingerprint != other.fingerprint
    assert maton.backend == "maton" and maton.connection == "conn-1"
    assert ALICE[1] not in repr(alice) and ALICE[1] not in alice.fingerprint
    with pytest.raises(TenantHeaderError) as refused:
        read_tenant({"x-clicksend-username": "alice", "x-clicksend-api-key": "k\x00ey-0123456789"})
    assert "\x00" not in str(refused.value) and "0123456789" not in str(refused.value)


async def test_one_tenants_confirmation_cannot_be_answered_with_another_tenants_credentials(accounts: Any) -> None:
    import mcp_types as types
    from mcp.shared.exceptions import MCPError

    fake, server = accounts
    arguments = {"messages": [{"to": TEST_NUMBER, "body": "asked as alice"}]}
    accept = {"confirm_send": types.ElicitResult(action="accept", content={"confirm": True})}

    async def never(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        raise AssertionError("the test answers the confirmation itself")

    env = tenant_env(server.base_url, CLICKSEND_CONFIRM_SENDS="true", CLICKSEND_MCP_LOG_LEVEL="info")
    async with served("http", env) as base:
        with anyio.fail_after(60):
            async with (
                httpx2.AsyncClient(headers=direct_headers(ALICE), timeout=30) as http,
                Client(streamable_http_client(f"{base}/mcp", http_client=http), elicitation_callback=never) as alice,
            ):
                asked = await alice.session.call_tool(SEND, arguments, allow_input_required=True)
            assert isinstance(asked, types.InputRequiredResult) and asked.request_state
            async with (
                httpx2.AsyncClient(headers=direct_headers(BOB), timeout=30) as http,
                Client(streamable_http_client(f"{base}/mcp", http_client=http), elicitation_callback=never) as bob,
            ):
                await bob.list_tools()
                try:
                    await bob.call_tool(SEND, arguments, input_responses=accept, request_state=asked.request_state)
                    refused: MCPError | None = None
                except MCPError as exc:
                    refused = exc
    assert refused is not None and "Invalid or expired requestState" in str(refused)
    assert all(not account.sent("POST", "/v3/sms/send") for account in fake.accounts.values())


async def test_the_sse_transport_takes_the_tenant_from_each_posted_message(accounts: Any) -> None:
    from mcp.client.sse import sse_client

    fake, server = accounts
    async with served("sse", tenant_env(server.base_url, CLICKSEND_MCP_LOG_LEVEL="info")) as base:
        with anyio.fail_after(60):
            async with Client(sse_client(f"{base}/sse", headers=direct_headers(BOB)), mode="legacy") as client:
                result = await client.call_tool("CLICKSEND_GET_ACCOUNT", {})
    assert result.structured_content is not None and result.structured_content["successful"] is True
    assert [account for _, _, account in fake.requests] == ["bob"]


async def test_a_cookie_set_in_one_tenants_answer_never_goes_out_with_another_tenants_request() -> None:
    """Every tenant's requests share one connection pool: nothing of one answer may ride along on the next."""
    cookies_seen: list[str | None] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = dict(scope["headers"])
        cookies_seen.append(headers[b"cookie"].decode() if b"cookie" in headers else None)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"set-cookie", b"session=alice-only; Path=/")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"response_code": "SUCCESS", "data": {}}'})

    http = ClickSendHttp("http://clicksend.invalid/v3", asgi_app=app)
    for user in (ALICE, BOB):
        token = "Basic " + basic_token(*user)
        response = await http.send(HttpRequest("GET", "/account"), {"Authorization": token})
        assert response.status == 200 and response.headers["set-cookie"].startswith("session=")
    await http.aclose()
    assert cookies_seen == [None, None]


async def test_a_calls_own_credentials_replace_the_stored_ones_whatever_their_letter_case() -> None:
    seen: list[list[tuple[bytes, bytes]]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append([(k, v) for k, v in scope["headers"] if k == b"authorization"])
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"response_code": "SUCCESS", "data": {}}'})

    stored = "Basic " + basic_token(*ALICE)
    http = ClickSendHttp("http://clicksend.invalid/v3", headers={"Authorization": stored}, asgi_app=app)
    await http.send(HttpRequest("GET", "/account"), {"authorization": "Basic " + basic_token(*BOB)})
    await http.send(HttpRequest("GET", "/account"))
    await http.aclose()
    assert seen == [
        [(b"authorization", ("Basic " + basic_token(*BOB)).encode())],
        [(b"authorization", stored.encode())],
    ]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_two_tenants_at_once_never_see_each_others_ledger_rows_or_usage(
    accounts: Any, tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    fake, server = accounts
    tags: dict[str, list[str]] = {"alice": [], "bob": []}
    ledgers: dict[str, dict[str, Any]] = {}
    async with served("http", ledger_env(server.base_url, database(kind, tmp_path, request))) as base:

        async def tenant(name: str, user: tuple[str, str]) -> None:
            async with tenant_client(base, user) as client:
                for n in range(3):
                    sent = await structured(client, SEND, sms(f"{name} {n}"))
                    assert sent["successful"] is True, sent
                    tags[name].append(sent["tag"])
                ledgers[name] = await structured(client, LEDGER, {"limit": 100})

        with anyio.fail_after(90):
            async with anyio.create_task_group() as tg:
                tg.start_soon(tenant, "alice", ALICE)
                tg.start_soon(tenant, "bob", BOB)
            async with tenant_client(base, ALICE) as alice:
                own = await structured(alice, CHECK, {"tag": tags["alice"][0]})
                others = await structured(alice, CHECK, {"tag": tags["bob"][0]})
    for name, user in (("alice", ALICE), ("bob", BOB)):
        ledger = ledgers[name]["data"]
        assert ledger["tenant"] == fingerprint(user)[:12]
        assert sorted(s["tag"] for s in ledger["recent_sends"]) == sorted(tags[name])
        [today] = ledger["spend_by_day"]
        assert today["sends"] == 3 and today["spent"] == f"{3 * PRICE:.4f}"
        assert ledger["budget"]["day"]["spent"] == f"{3 * PRICE:.4f}"
        assert len(fake.accounts[name].sent("POST", "/v3/sms/send")) == 3
    # A tenant looks its own sends up (in its own account's history), and never finds another tenant's.
    assert own["successful"] is True and own["data"]["sent"] is True, own
    assert own["data"]["ledger_outcome_before"] == "sent"
    assert others["error_code"] == "NOT_FOUND", others
    assert "ALICE-KEY" not in json.dumps(ledgers) and "BOB-KEY" not in json.dumps(ledgers)
    # The operator's `clicksend-mcp ledger` on the same settings shows every tenant's rows, each naming its tenant.
    shown = run_cli("ledger", "--json", env=ledger_env(server.base_url, database(kind, tmp_path, request)))
    assert shown.returncode == 0, shown.stderr
    every = json.loads(shown.stdout)
    assert every["tenant"] == "every tenant" and every["budget"] == {}
    by_tenant = {fingerprint(ALICE)[:12]: sorted(tags["alice"]), fingerprint(BOB)[:12]: sorted(tags["bob"])}
    assert {t: sorted(s["tag"] for s in every["recent_sends"] if s["tenant"] == t) for t in by_tenant} == by_tenant
    assert sorted((d["tenant"], d["sends"]) for d in every["spend_by_day"]) == sorted((t, 3) for t in by_tenant)
    table = run_cli("ledger", env=ledger_env(server.base_url, database(kind, tmp_path, request))).stdout
    assert fingerprint(ALICE)[:12] in table and fingerprint(BOB)[:12] in table and "each tenant has its own" in table


@pytest.mark.parametrize(
    ("limit", "value"), [("CLICKSEND_MAX_SPEND_PER_DAY", "0.1"), ("CLICKSEND_MAX_MESSAGES_PER_RECIPIENT", "1/day")]
)
async def test_one_tenant_at_its_limit_does_not_refuse_another(
    accounts: Any, tmp_path: Path, limit: str, value: str
) -> None:
    fake, server = accounts
    env = ledger_env(server.base_url, f"sqlite://{tmp_path}/ledger.db", **{limit: value})
    async with served("http", env) as base:
        with anyio.fail_after(60):
            async with tenant_client(base, ALICE) as alice:
                first = await structured(alice, SEND, sms("alice 1"))
                second = await structured(alice, SEND, sms("alice 2"))
            async with tenant_client(base, BOB) as bob:
                bobs = await structured(bob, SEND, sms("bob 1"))
                ledger = await structured(bob, LEDGER, {})
    assert first["successful"] is True and second["error_code"] == "REFUSED", second
    assert bobs["successful"] is True, bobs
    assert [s["outcome"] for s in ledger["data"]["recent_sends"]] == ["sent"]
    if limit == "CLICKSEND_MAX_SPEND_PER_DAY":
        # The operator's budget applies to each tenant on its own: Bob has spent one message of his own 0.1.
        assert ledger["data"]["budget"]["day"]["remaining"] == f"{0.1 - PRICE:.4f}"
    assert len(fake.accounts["alice"].sent("POST", "/v3/sms/send")) == 1
    assert len(fake.accounts["bob"].sent("POST", "/v3/sms/send")) == 1


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_one_idempotency_key_from_two_tenants_sends_once_for_each_and_replays_only_within_a_tenant(
    accounts: Any, tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    fake, server = accounts
    key = "shared-idempotency-key-0001"
    found: dict[str, list[dict[str, Any]]] = {"alice": [], "bob": []}
    async with served("http", ledger_env(server.base_url, database(kind, tmp_path, request))) as base:

        async def tenant(name: str, user: tuple[str, str]) -> None:
            async with tenant_client(base, user) as client:
                for _ in range(2):  # the second call repeats the key within the tenant: a replay
                    found[name].append(await structured(client, SEND, sms(f"from {name}", idempotency_key=key)))

        with anyio.fail_after(90):
            async with anyio.create_task_group() as tg:
                tg.start_soon(tenant, "alice", ALICE)
                tg.start_soon(tenant, "bob", BOB)
    # Different arguments under one key are no conflict across tenants: each tenant's key is its own.
    for name in ("alice", "bob"):
        first, again = found[name]
        assert first["successful"] is True and not first.get("replayed"), first
        assert again["successful"] is True and again.get("replayed") is True, again
        assert again["data"]["messages"][0]["message_id"] == first["data"]["messages"][0]["message_id"]
        assert again["data"]["messages"][0]["body"] == f"from {name}"
        posted = fake.accounts[name].sent("POST", "/v3/sms/send")
        assert len(posted) == 1
    alice_id = found["alice"][0]["data"]["messages"][0]["message_id"]
    assert alice_id != found["bob"][0]["data"]["messages"][0]["message_id"]


async def test_a_tenant_reads_only_its_own_conversation_with_a_number(accounts: Any, tmp_path: Path) -> None:
    fake, server = accounts
    env = ledger_env(
        server.base_url, f"sqlite://{tmp_path}/ledger.db", CLICKSEND_TOOLSETS="default,ledger,conversations"
    )
    async with served("http", env) as base:
        with anyio.fail_after(60):
            async with tenant_client(base, ALICE) as alice, tenant_client(base, BOB) as bob:
                clients = {"alice": alice, "bob": bob}
                sent = {name: await structured(client, SEND, sms(f"{name} asks")) for name, client in clients.items()}
                seen = {
                    name: await structured(client, "CLICKSEND_GET_CONVERSATION", {"number": TEST_NUMBER})
                    for name, client in clients.items()
                }
    for name, conversation in seen.items():
        assert conversation["successful"] is True, conversation
        messages = conversation["data"]["messages"]
        assert [m["body"] for m in messages if m["direction"] == "outbound"] == [f"{name} asks"]
        # The replies polled from the tenant's own account (the fake answers each message) answer its own message.
        [asked] = sent[name]["data"]["messages"]
        assert all(m["in_reply_to"] == asked["message_id"] for m in messages if m["direction"] == "inbound")
    # Polling for replies reached each tenant's own account, with its own credentials, and no other.
    for name in ("alice", "bob"):
        assert fake.accounts[name].sent("GET", "/v3/sms/inbound"), name
    assert all(account for method, _, account in fake.requests if method == "GET")


# --- per-tenant webhook URLs --------------------------------------------------------------------------------------

WEBHOOK_SECRET = "mt-webhook-secret-0123456789abcdefghijKLMN"
PUBLIC_URL = "https://mcp.example.com"
SETUP = "CLICKSEND_SET_UP_REPLY_WEBHOOKS"
WAIT = "CLICKSEND_WAIT_FOR_REPLY"
CONVERSATION = "CLICKSEND_GET_CONVERSATION"
PERSON = "+61433333333"  # not the fake's test number: nothing the fake answers by itself


def webhook_env(base_url: str, tmp_path: Path) -> dict[str, str]:
    return ledger_env(
        base_url,
        f"sqlite://{tmp_path}/ledger.db",
        CLICKSEND_TOOLSETS="default,ledger,conversations",
        CLICKSEND_MCP_WEBHOOK_SECRET=WEBHOOK_SECRET,
        CLICKSEND_MCP_PUBLIC_URL=PUBLIC_URL,
    )


def reply_from(person: str, message_id: str, body: str) -> dict[str, str]:
    """An inbound SMS as ClickSend's URL rule posts it (form fields); no timestamp: it counts as arriving now."""
    return {"from": person, "to": "+61411111111", "body": body, "message_id": message_id}


async def tenant_urls(client: Client) -> dict[str, str]:
    """The calling tenant's webhook URLs, as the server tells it (a dry run changes no rule)."""
    dry = await structured(client, SETUP, {"dry_run": True})
    assert dry["successful"] is True, dry
    return dict(dry["data"]["webhook_urls"])


def local(url: str, base: str) -> str:
    """The public URL's path, posted to the server under test (ClickSend would post to the public URL)."""
    assert url.startswith(PUBLIC_URL + "/webhooks/clicksend/")
    return base + url[len(PUBLIC_URL) :]


async def test_each_tenant_learns_its_own_webhook_urls_and_its_rules_point_at_them(
    accounts: Any, tmp_path: Path
) -> None:
    fake, server = accounts
    async with served("http", webhook_env(server.base_url, tmp_path)) as base:
        with anyio.fail_after(60):
            async with tenant_client(base, ALICE) as alice, tenant_client(base, BOB) as bob:
                urls = {"alice": await tenant_urls(alice), "bob": await tenant_urls(bob)}
                made = await structured(alice, SETUP, {})
    assert (
        urls["alice"].keys() == urls["bob"].keys() == {"sms-inbound", "sms-receipts", "mms-receipts", "voice-receipts"}
    )
    for name, user in (("alice", ALICE), ("bob", BOB)):
        segment = urls[name]["sms-inbound"].split("/")[-2]
        assert segment.startswith(fingerprint(user) + "."), segment
    assert urls["alice"]["sms-inbound"] != urls["bob"]["sms-inbound"]
    assert WEBHOOK_SECRET not in json.dumps([urls, made])
    # Alice's rules (in her own account, none in Bob's) point at her own URLs.
    assert made["successful"] is True, made
    [created] = fake.accounts["alice"].sent("POST", "/v3/automations/sms/inbound")
    assert created.json["action_address"] == urls["alice"]["sms-inbound"]
    assert not fake.accounts["bob"].sent("POST")


async def test_a_reply_and_a_receipt_pushed_to_one_tenants_url_reach_that_tenant_only(
    accounts: Any, tmp_path: Path
) -> None:
    _, server = accounts
    async with served("http", webhook_env(server.base_url, tmp_path), keep_process=True) as (base, process):
        with anyio.fail_after(90):
            async with (
                tenant_client(base, ALICE) as alice,
                tenant_client(base, BOB) as bob,
                httpx2.AsyncClient(timeout=30) as http,
            ):
                urls = {"alice": await tenant_urls(alice), "bob": await tenant_urls(bob)}
                got: dict[str, Any] = {}
                started = anyio.Event()

                async def on_progress(value: float, total: float | None, message: str | None) -> None:
                    started.set()

                async def alice_waits() -> None:
                    result = await alice.call_tool(
                        WAIT, {"from_number": PERSON, "timeout_seconds": 60}, progress_callback=on_progress
                    )
                    got.update(result.structured_content or {})

                async with anyio.create_task_group() as group:
                    group.start_soon(alice_waits)
                    await started.wait()
                    pushed = await http.post(
                        local(urls["alice"]["sms-inbound"], base), data=reply_from(PERSON, "MT-IN-1", "Alice, yes")
                    )
                bob_waited = await structured(bob, WAIT, {"from_number": PERSON, "since": 0, "timeout_seconds": 1})
                seen = {
                    name: await structured(client, CONVERSATION, {"number": PERSON})
                    for name, client in (("alice", alice), ("bob", bob))
                }
                # A delivery receipt for Alice's message: pushed to Bob's URL it is Bob's (and changes nothing of
                # Alice's); pushed to Alice's it marks her message delivered.
                sent = await structured(alice, SEND, sms("Alice asks"))
                message_id = sent["data"]["messages"][0]["message_id"]
                receipt = {"message_id": message_id, "status": "Delivered", "status_code": "201", "to": TEST_NUMBER}
                to_bob = await http.post(local(urls["bob"]["sms-receipts"], base), data=receipt)
                before = await structured(alice, CHECK, {"tag": sent["tag"]})
                to_alice = await http.post(local(urls["alice"]["sms-receipts"], base), data=receipt)
                after = await structured(alice, CHECK, {"tag": sent["tag"]})
        process.terminate()
        log = b""
        with anyio.fail_after(20):
            assert process.stderr is not None
            async for chunk in process.stderr:
                log += chunk
    assert pushed.status_code == 200 and pushed.json() == {"stored": 1, "duplicate": False}
    assert got["data"]["replied"] is True, got
    assert got["data"]["reply"]["body"] == "Alice, yes" and got["data"]["reply"]["from"] == PERSON
    assert bob_waited["data"]["replied"] is False, bob_waited
    assert [m["body"] for m in seen["alice"]["data"]["messages"]] == ["Alice, yes"]
    assert seen["bob"]["data"]["messages"] == []
    assert to_bob.status_code == 200 and to_alice.status_code == 200
    assert before["data"]["delivery"]["messages"] == {message_id: "Sent"}, before
    assert after["data"]["delivery"]["messages"] == {message_id: "Delivered"}, after
    assert b"webhook sms-inbound tenant=" + fingerprint(ALICE)[:12].encode() in log
    assert WEBHOOK_SECRET.encode() not in log


async def test_a_forged_or_foreign_webhook_token_gets_404_and_stores_nothing(accounts: Any, tmp_path: Path) -> None:
    from clicksend_mcp.webhook_addresses import tenant_segment

    _, server = accounts
    async with served("http", webhook_env(server.base_url, tmp_path)) as base:
        with anyio.fail_after(60):
            async with (
                tenant_client(base, ALICE) as alice,
                tenant_client(base, BOB) as bob,
                httpx2.AsyncClient(timeout=30) as http,
            ):
                alice_segment = (await tenant_urls(alice))["sms-inbound"].split("/")[-2]
                alice_fp, _, alice_mac = alice_segment.partition(".")
                bob_fp = fingerprint(BOB)
                changed = "A" if alice_mac[-1] != "A" else "B"
                forged = {
                    "bob's fingerprint with alice's mac": f"{bob_fp}.{alice_mac}",
                    "a truncated mac": f"{alice_fp}.{alice_mac[:-1]}",
                    "a mac with one character changed": f"{alice_fp}.{alice_mac[:-1]}{changed}",
                    "a token minted with another secret": tenant_segment(
                        "another-secret-0123456789abcdefghijklm", bob_fp
                    ),
                    "no mac": alice_fp,
                    "the bare secret": WEBHOOK_SECRET,
                    "an upper-case fingerprint": f"{alice_fp.upper()}.{alice_mac}",
                }
                answers = {}
                for what, segment in forged.items():
                    response = await http.post(
                        f"{base}/webhooks/clicksend/{segment}/sms-inbound",
                        data=reply_from(PERSON, "FORGED-1", f"forged: {what}"),
                    )
                    answers[what] = (response.status_code, response.json())
                unknown_kind = await http.post(
                    f"{base}/webhooks/clicksend/{alice_segment}/email-inbound", data=reply_from(PERSON, "F-2", "x")
                )
                seen = [await structured(client, CONVERSATION, {"number": PERSON}) for client in (alice, bob)]
                waited = await structured(alice, WAIT, {"from_number": PERSON, "since": 0, "timeout_seconds": 1})
    assert answers == {what: (404, {"error": "not found"}) for what in forged}
    assert unknown_kind.status_code == 404
    assert all(s["data"]["messages"] == [] for s in seen), seen
    assert waited["data"]["replied"] is False
