"""The safety promises, held by the installed server process: the console script over stdio, with a raw-socket
ClickSend on 127.0.0.1 that answers exactly what each test scripts (other encodings, secrets as keys, 5xx, NaN,
bodies nested 400 deep, 5,000-digit numbers) and counts what reaches it."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from fake_clicksend import API_KEY, MATON_CONNECTION, MATON_KEY, TEST_NUMBER, USERNAME
from faulty_clicksend import Canned, envelope, faulty_clicksend
from test_e2e import console_script, run_cli

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEND = "CLICKSEND_CREATE_SMS_SEND"
READ = "CLICKSEND_GET_ACCOUNT"
HISTORY = "CLICKSEND_GET_SMS_HISTORY"
MESSAGE = {"messages": [{"to": TEST_NUMBER, "body": "hello"}]}
TIMEOUT = 60


def direct(base_url: str) -> dict[str, str]:
    return {
        "CLICKSEND_BACKEND": "direct",
        "CLICKSEND_BASE_URL": base_url,
        "CLICKSEND_USERNAME": USERNAME,
        "CLICKSEND_API_KEY": API_KEY,
    }


def maton(base_url: str) -> dict[str, str]:
    return {
        "CLICKSEND_BACKEND": "maton",
        "MATON_BASE_URL": base_url,
        "MATON_API_KEY": MATON_KEY,
        "MATON_CONNECTION": MATON_CONNECTION,
    }


class Served:
    """One server process over stdio: its results as the client receives them, and its stderr."""

    def __init__(self, client: Client, errlog: Any) -> None:
        self.client = client
        self.errlog = errlog
        self.texts: list[str] = []

    async def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        with anyio.fail_after(TIMEOUT):
            answer = await self.client.call_tool(name, arguments)
        text = answer.content[0].text  # type: ignore[union-attr]
        self.texts.append(text)
        assert answer.structured_content is not None
        assert answer.structured_content == json.loads(text)
        assert answer.is_error is (not answer.structured_content["successful"])
        return answer.structured_content

    def stderr(self) -> str:
        self.errlog.flush()
        self.errlog.seek(0)
        return str(self.errlog.read())


@asynccontextmanager
async def serving(env: dict[str, str], *args: str) -> AsyncIterator[Served]:
    full = {
        "CLICKSEND_TOOLSETS": "all",
        "CLICKSEND_RETRIES": "0",
        "CLICKSEND_MCP_LOG_LEVEL": "debug",
        "CLICKSEND_MCP_DATABASE_URL": os.environ["CLICKSEND_MCP_DATABASE_URL"],  # the session's, not the developer's
        **env,
    }
    params = StdioServerParameters(command=console_script(), args=list(args), env=full)
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errlog:
        with anyio.fail_after(TIMEOUT):
            async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
                yield Served(client, errlog)


def forms(secret: str) -> list[str]:
    """The secret as it may travel: other case, base64 (padded or not, URL-safe), URL-encoded."""
    raw = secret.encode()
    out = [secret, secret.upper(), secret.lower(), quote(secret, safe="")]
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        out += [encoded, encoded.rstrip("=")]
    return out


SECRET_FIELDS = (
    "token",
    "api_token",
    "access_token",
    "refresh_token",
    "sessionToken",
    "client_secret",
    "secret",
    "Authorization",
    "private-key",
    "PASSWORD",
    "apiKey",
)


def hostile_answers(secret: str, basic: str | None) -> list[Canned]:
    """Answers that carry the secret every way the issue found: as a key, in other encodings, in other forms."""
    carried = forms(secret) + ([basic] if basic else [])
    as_values = {f"note{i}": f"x {form} y" for i, form in enumerate(carried)}
    named = {name: f"tok-{i}-live-value" for i, name in enumerate(SECRET_FIELDS)}
    utf16 = json.dumps(
        {"response_code": "SUCCESS", "data": {"api_key": secret, secret: "as a key", "nested": [{"x": secret}]}}
    )
    return [
        envelope({secret: "value", "inner": {secret.upper(): 1, "k": [{secret: 2}]}}),  # the key as a key
        Canned(utf16.encode("utf-16-le")),
        Canned(utf16.encode("utf-16")),
        Canned(utf16.encode("utf-32")),
        Canned(b"\xef\xbb\xbf" + utf16.encode()),
        envelope({**as_values, **named}),
        envelope(None, code="BAD_THING", msg=f"key {secret} and {secret.lower()} refused", http=400),
    ]


async def exercise_every_outlet(
    env: Callable[[str], dict[str, str]], secret: str, basic: str | None
) -> tuple[str, list[Any]]:
    """Results, error texts, a cut preview, a dry run's quote, all_pages and debug logs, all holding the secret."""
    big = envelope({"blob": ("pad " + secret + " ") * 3000})
    page = envelope({"total": 1, "last_page": 1, "data": [{"list_id": 1, secret: "k", "access_token": "t0k3n-xyz"}]})
    quote_answer = envelope({"total_price": 0.1, "messages": [{secret: "q", "refresh_token": "r-t0k3n-xyz"}]})
    script = [*hostile_answers(secret, basic), big, page, quote_answer]
    results: list[Any] = []
    async with (
        faulty_clicksend(*script) as fake,
        serving({**env(fake.base_url), "CLICKSEND_MAX_RESULT_BYTES": "4096"}) as served,
    ):
        for _ in hostile_answers(secret, basic):
            results.append(await served.call(READ, {}))
        results.append(await served.call(READ, {}))  # too big: cut, with a preview
        results.append(await served.call("CLICKSEND_GET_LISTS", {"all_pages": True}))
        message = {"messages": [{"to": TEST_NUMBER, "body": f"my key is {secret}"}], "dry_run": True}
        results.append(await served.call(SEND, message))
        assert len(fake.received) == len(script)
        return "\n".join(served.texts) + served.stderr(), results


@pytest.mark.parametrize("mode", ["direct", "maton"])
async def test_no_form_of_the_key_reaches_a_result_an_error_a_preview_or_a_log_line(mode: str) -> None:
    secret = API_KEY if mode == "direct" else MATON_KEY
    basic = base64.b64encode(f"{USERNAME}:{API_KEY}".encode()).decode() if mode == "direct" else None
    everything, results = await exercise_every_outlet(direct if mode == "direct" else maton, secret, basic)
    assert "[REDACTED]" in everything
    assert "call tool=CLICKSEND_GET_ACCOUNT" in everything  # the logs were captured
    for form in forms(secret) + ([basic] if basic else []):
        assert form not in everything, form
    for name in SECRET_FIELDS:
        assert "live-value" not in everything, name
    assert "t0k3n-xyz" not in everything
    # The outlets were really exercised: an error, a cut preview, all_pages, a dry run with its quote.
    assert any(r["error_code"] == "BAD_REQUEST" for r in results)
    assert any("preview" in (r.get("truncated") or {}) for r in results)
    assert any(isinstance(r["data"], dict) and r["data"].get("pages_fetched") == 1 for r in results)
    dry = results[-1]
    assert dry["successful"] and dry["data"]["quote"]["messages"][0]["[REDACTED]"] == "q"


async def test_a_misspelt_nested_key_is_refused_with_the_closest_name() -> None:
    async with faulty_clicksend("ok") as fake, serving(direct(fake.base_url)) as served:
        message = {"messages": [{"to": TEST_NUMBER, "body": "later", "shedule": 1796076000}]}
        result = await served.call(SEND, message)
        dry = await served.call(SEND, {**message, "dry_run": True})
        assert fake.received == []
    for refused in (result, dry):
        assert refused["error_code"] == "INVALID_ARGUMENTS"
        assert "messages[0].shedule: unknown field; did you mean schedule?" in refused["error"]


UNKNOWN = [
    "status:500",
    "status:502",
    "status:503",
    "status:504",
    "reset",
    "html200",
    "invalid_json",
    "empty",
    Canned(b"null"),
    Canned(b"[1, 2]"),
    Canned(b'"queued"'),
    Canned(b'{"response_code": "SUCCESS", "data": {"price": NaN}}'),
]


def assert_outcome_unknown(result: dict[str, Any], history: str = HISTORY) -> None:
    assert result["successful"] is False and result["error_code"] == "OUTCOME_UNKNOWN", result
    assert result["tag"] and result["tag"] in result["error"] and history in result["error"]
    assert "Do not send it again" in result["error"]
    assert "try again" not in result["error"].lower() and "retry_after" not in result


@pytest.mark.parametrize("mode", ["direct", "maton"])
async def test_a_send_without_a_definite_answer_is_outcome_unknown(mode: str) -> None:
    env = direct if mode == "direct" else maton
    async with faulty_clicksend(*UNKNOWN) as fake, serving(env(fake.base_url)) as served:
        seen = [await served.call(SEND, MESSAGE) for _ in UNKNOWN]
        assert len(fake.received) == len(UNKNOWN)  # one request per send: none was retried
    for result in seen:
        assert_outcome_unknown(result)
    assert not any("NaN" in text for text in served.texts)


async def test_a_send_that_times_out_after_leaving_is_outcome_unknown() -> None:
    async with (
        faulty_clicksend("hang") as fake,
        serving({**direct(fake.base_url), "CLICKSEND_TIMEOUT": "1"}) as served,
    ):
        result = await served.call(SEND, MESSAGE)
        assert len(fake.received) == 1
    assert_outcome_unknown(result)


def deep_body(levels: int) -> bytes:
    return b'{"response_code":"SUCCESS","data":' + b'{"a":' * levels + b"1" + b"}" * levels + b"}"


LONG_NUMBER = b'{"response_code":"SUCCESS","data":{"messages":[],"n":' + b"9" * 5000 + b"}}"


async def test_pathological_answers_become_normalized_results_for_sends_and_reads() -> None:
    script = [Canned(deep_body(400)), Canned(LONG_NUMBER), Canned(deep_body(400)), Canned(LONG_NUMBER)]
    async with faulty_clicksend(*script) as fake, serving(direct(fake.base_url)) as served:
        sent_deep = await served.call(SEND, MESSAGE)
        sent_long = await served.call(SEND, MESSAGE)
        read_deep = await served.call(READ, {})
        read_long = await served.call(READ, {})
        assert len(fake.received) == 4
    for result in (sent_deep, sent_long, read_deep, read_long):
        assert result["successful"] is True and result["warnings"]
    assert sent_deep["tag"] and sent_long["tag"]
    assert "nested deeper than 64 levels" in sent_deep["warnings"][0]
    assert read_long["data"]["n"] == "9" * 5000


@pytest.mark.parametrize("body", [b"null", b"[1, 2]", b'"ok"', b'{"response_code":"SUCCESS","data":[Infinity]}'])
async def test_a_read_answered_with_no_object_is_not_a_success(body: bytes) -> None:
    async with faulty_clicksend(Canned(body)) as fake, serving(direct(fake.base_url)) as served:
        result = await served.call(READ, {})
    assert result["successful"] is False and result["error_code"] == "UPSTREAM_ERROR"
    assert "Infinity" not in served.texts[0]


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        (HISTORY, {"page": 1.0}, "page"),
        (HISTORY, {"page": 2**60}, "page"),
        (HISTORY, {"date_from": 1e308}, "date_from"),
        ("CLICKSEND_GET_LISTS_CONTACTS", {"list_id": 1e308}, "list_id"),
        ("CLICKSEND_DELETE_SMS_CANCEL", {"message_id": "x" * 70_000}, "message_id"),
        (HISTORY, {"q": "status:" + "x" * 70_000}, "q"),
        (SEND, {"messages": [{"to": TEST_NUMBER, "body": "b", "schedule": 1.5e9}]}, "messages[0].schedule"),
    ],
)
async def test_numbers_that_are_not_exact_integers_and_overlong_values_are_refused(
    tool: str, arguments: dict[str, Any], field: str
) -> None:
    async with faulty_clicksend("ok") as fake, serving(direct(fake.base_url)) as served:
        result = await served.call(tool, arguments)
        assert fake.received == []
    assert result["error_code"] == "INVALID_ARGUMENTS"
    assert f"{field}: expected" in result["error"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MATON_API_KEY", "maton-key-\x01-0123456789"),
        ("MATON_API_KEY", "maton-kéy-0123456789"),
        ("MATON_CONNECTION", "conn\tection-01"),
        ("CLICKSEND_API_KEY", "api-key-\x7f-0123456789"),
        ("CLICKSEND_USERNAME", "usér"),
    ],
)
def test_a_header_value_with_control_or_non_ascii_characters_stops_start_up(variable: str, value: str) -> None:
    env = {"MATON_API_KEY": "maton-ok-key-0123456789", "CLICKSEND_USERNAME": "user", "CLICKSEND_API_KEY": "k" * 20}
    env[variable] = value
    done = run_cli("--backend", "maton" if variable.startswith("MATON") else "direct", env=env)
    assert done.returncode == 2
    assert f"{variable}: must be printable ASCII" in done.stderr
    assert value not in done.stderr and done.stdout == ""
