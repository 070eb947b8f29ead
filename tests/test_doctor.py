"""`clicksend-mcp doctor` through the console script, against loopback fakes of ClickSend, the Maton gateway and
Maton's control API: one plain explanation per failure, exit status 0 only when GET /account succeeded, no secret."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from console import run_cli
from fake_clicksend import API_KEY, MATON_CONNECTION, MATON_KEY, USERNAME, FakeClickSend, LoopbackServer, free_port
from fake_maton import FakeMatonControl, connection

pytestmark = pytest.mark.e2e

QUIET = {"CLICKSEND_MCP_LOG_LEVEL": "warning"}


def doctor(env: dict[str, str], *args: str) -> tuple[int, list[str]]:
    done = run_cli("doctor", *args, env={**QUIET, **env})
    output = done.stdout + done.stderr
    for secret in (API_KEY, MATON_KEY, "wrong-key-0123456789", "rejected-maton-key-42"):
        assert secret not in output, "doctor printed a secret"
    assert "Traceback" not in output
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == "clicksend-mcp doctor"
    return done.returncode, lines[1:]


def problems(lines: list[str]) -> list[str]:
    return [line.removeprefix("PROBLEM  ") for line in lines if line.startswith("PROBLEM  ")]


def direct(base_url: str, key: str = API_KEY) -> dict[str, str]:
    return {"CLICKSEND_USERNAME": USERNAME, "CLICKSEND_API_KEY": key, "CLICKSEND_BASE_URL": base_url}


@pytest.fixture
def clicksend() -> Iterator[LoopbackServer]:
    with LoopbackServer(FakeClickSend()) as server:
        yield server


def test_working_direct_credentials_pass_with_exit_status_0(clicksend: LoopbackServer) -> None:
    status, lines = doctor(direct(clicksend.base_url))
    assert status == 0
    assert lines[0] == "  backend: direct (chosen because CLICKSEND_USERNAME and CLICKSEND_API_KEY are set)"
    assert lines[1] == f"  ClickSend API: {clicksend.base_url}"
    assert lines[2] == "ok       GET /account succeeded: signed in as sandbox, balance 100.00 AUD"
    assert lines[3].startswith("ok       this machine's clock agrees with the server's")
    assert lines[-1] == "Everything checked is working."


def test_the_sandbox_passes_with_no_account() -> None:
    status, lines = doctor({}, "--backend", "sandbox")
    assert status == 0
    assert "  the in-process sandbox: nothing leaves this machine" in lines


def test_no_credentials_say_what_to_set() -> None:
    status, lines = doctor({})
    assert status == 1
    assert problems(lines) == [
        "no credentials are set. Set CLICKSEND_USERNAME and CLICKSEND_API_KEY (ClickSend directly), or "
        "MATON_API_KEY (and optionally MATON_CONNECTION) for the Maton gateway, or SKILLBOSS_API_KEY for "
        "SkillBoss. To try every tool with no account, use --backend sandbox."
    ]


def test_skillboss_is_not_called_because_it_has_no_read_only_call() -> None:
    port = free_port()  # nothing listens: doctor must not call it
    status, lines = doctor(
        {"SKILLBOSS_API_KEY": "skillboss-key-0123456789", "SKILLBOSS_BASE_URL": f"http://127.0.0.1:{port}/v1"}
    )
    assert status == 1
    assert problems(lines) == [
        "SkillBoss offers no read-only call, so doctor cannot check SKILLBOSS_API_KEY without sending something. "
        "Send a templated SMS to a test number to check it."
    ]


@pytest.mark.parametrize(
    ("env", "present", "missing"),
    [
        ({"CLICKSEND_USERNAME": USERNAME}, "CLICKSEND_USERNAME", "CLICKSEND_API_KEY"),
        ({"CLICKSEND_API_KEY": API_KEY}, "CLICKSEND_API_KEY", "CLICKSEND_USERNAME"),
    ],
)
def test_half_the_clicksend_credentials_names_the_missing_one(env: dict[str, str], present: str, missing: str) -> None:
    status, lines = doctor(env)
    assert status == 1
    [problem] = problems(lines)
    assert problem.startswith(f"only half of the ClickSend credentials are set: {present} is set, {missing} is not.")


def test_a_wrong_key_is_a_401_explained(clicksend: LoopbackServer) -> None:
    status, lines = doctor(direct(clicksend.base_url, key="wrong-key-0123456789"))
    assert status == 1
    [problem] = problems(lines)
    assert problem.startswith(
        "ClickSend refused the username and API key (HTTP 401): CLICKSEND_USERNAME or CLICKSEND_API_KEY is wrong."
    )


def test_a_wrong_base_url_path_is_named(clicksend: LoopbackServer) -> None:
    wrong = clicksend.base_url.replace("/v3", "/v2")
    status, lines = doctor(direct(wrong))
    assert status == 1
    assert problems(lines) == [
        f"{wrong} does not look like ClickSend's API: GET /account answered HTTP 404. Check CLICKSEND_BASE_URL "
        "(unset, it is https://rest.clicksend.com/v3)."
    ]


def test_a_base_url_that_is_not_clicksend_is_named() -> None:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse("<html><body>Welcome to nginx!</body></html>")

    with LoopbackServer(Starlette(routes=[Route("/{path:path}", page)])) as other:
        base = f"http://127.0.0.1:{other.port}/v3"
        status, lines = doctor(direct(base))
    assert status == 1
    assert problems(lines) == [
        f"{base} does not look like ClickSend's API: GET /account answered HTTP 200, not a ClickSend answer. "
        "Check CLICKSEND_BASE_URL (unset, it is https://rest.clicksend.com/v3)."
    ]


def test_an_unreachable_host_is_named_with_the_ignored_proxy() -> None:
    port = free_port()  # nothing listens there
    status, lines = doctor({**direct(f"http://127.0.0.1:{port}/v3"), "HTTPS_PROXY": "http://proxy.example:3128"})
    assert status == 1
    assert problems(lines) == [
        f"cannot reach ClickSend at 127.0.0.1:{port}: the name does not resolve, nothing answers there, or a "
        "firewall blocks it. This machine sets HTTPS_PROXY, but clicksend-mcp connects directly and ignores "
        f"proxy variables: allow direct HTTPS to 127.0.0.1:{port}."
    ]


class SkewedDate:
    """ASGI middleware: answers carry a Date header two hours ahead of this machine's clock."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def dated(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                stamp = email.utils.formatdate(time.time() + 7200, usegmt=True).encode()
                message = {**message, "headers": [*message.get("headers", []), (b"date", stamp)]}
            await send(message)

        await self.app(scope, receive, dated)


def test_a_clock_far_off_is_a_problem_even_when_the_call_works() -> None:
    with LoopbackServer(SkewedDate(FakeClickSend()), date_header=False) as server:
        status, lines = doctor(direct(server.base_url))
    assert status == 1
    assert "ok       GET /account succeeded: signed in as sandbox, balance 100.00 AUD" in lines
    assert problems(lines) == [
        "this machine's clock is 2 h 0 min behind the server's: schedules and history date ranges are Unix times, "
        "so they would be off by as much. Set the clock right (enable NTP time sync)."
    ]


@pytest.fixture
def maton() -> Iterator[tuple[FakeMatonControl, dict[str, str]]]:
    control = FakeMatonControl()
    with LoopbackServer(FakeClickSend(prefix="/clicksend")) as gateway, LoopbackServer(control.app()) as ctrl:
        yield (
            control,
            {
                "MATON_API_KEY": MATON_KEY,
                "MATON_BASE_URL": f"http://127.0.0.1:{gateway.port}/clicksend/v3",
                "MATON_CTRL_BASE_URL": f"http://127.0.0.1:{ctrl.port}",
            },
        )


def test_a_working_maton_key_and_connection_pass(maton: tuple[FakeMatonControl, dict[str, str]]) -> None:
    control, env = maton
    status, lines = doctor({**env, "MATON_CONNECTION": MATON_CONNECTION})
    assert status == 0
    assert lines[:6] == [
        "  backend: maton (chosen because MATON_API_KEY is set)",
        f"  Maton control API: {env['MATON_CTRL_BASE_URL']}",
        f"  Maton gateway: {env['MATON_BASE_URL']}",
        f"ok       Maton accepted the key: 1 active clicksend connection(s); using {MATON_CONNECTION}",
        "ok       GET /account succeeded: signed in as sandbox, balance 100.00 AUD",
        lines[5],
    ]
    assert lines[5].startswith("ok       this machine's clock agrees") and lines[-1] == "Everything checked is working."
    assert control.seen == [{"app": "clicksend", "status": "ACTIVE"}]


def test_a_maton_key_the_control_api_rejects_is_explained(maton: tuple[FakeMatonControl, dict[str, str]]) -> None:
    _, env = maton
    status, lines = doctor({**env, "MATON_API_KEY": "rejected-maton-key-42"})
    assert status == 1
    assert problems(lines) == [
        f"Maton did not accept MATON_API_KEY (HTTP 401 from {env['MATON_CTRL_BASE_URL']}). Copy the key again "
        "from https://maton.ai/settings."
    ]


def test_no_active_maton_connection_for_clicksend_says_how_to_make_one(
    maton: tuple[FakeMatonControl, dict[str, str]],
) -> None:
    control, env = maton
    control.connections[:] = [connection(status="PENDING"), connection("other", app="slack")]
    status, lines = doctor(env)
    assert status == 1
    assert problems(lines) == [
        "Maton accepted the key, but it has no active connection for clicksend. Create one (POST "
        'https://ctrl.maton.ai/connections with {"app": "clicksend"}), open the URL it returns and sign in to '
        "ClickSend there."
    ]


def test_a_maton_connection_that_is_not_active_is_named(maton: tuple[FakeMatonControl, dict[str, str]]) -> None:
    _, env = maton
    status, lines = doctor({**env, "MATON_CONNECTION": "00000000-dead-beef-0000-000000000000"})
    assert status == 1
    [problem] = problems(lines)
    assert problem.startswith(
        "MATON_CONNECTION is 00000000-dead-beef-0000-000000000000, which is not an active clicksend connection "
        f"of this key (active: {MATON_CONNECTION})."
    )


def test_an_unreachable_maton_control_api_is_named() -> None:
    port = free_port()
    env = {"MATON_API_KEY": MATON_KEY, "MATON_CTRL_BASE_URL": f"http://127.0.0.1:{port}"}
    status, lines = doctor(env)
    assert status == 1
    [problem] = problems(lines)
    assert problem.startswith(f"cannot reach Maton's control API at 127.0.0.1:{port}:")
