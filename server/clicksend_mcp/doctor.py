"""`clicksend-mcp doctor`: checks the configuration and credentials with one read-only call, and says in plain
words what is wrong. Every request goes through http.py; no secret is ever printed."""

from __future__ import annotations

import email.utils
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlsplit

from .backends import BackendConfig, build_backend
from .http import ClickSendHttp, HttpResponse, TransportFailure
from .redaction import Redactor
from .request_builder import HttpRequest
from .settings import DEFAULT_CLICKSEND_URL, DEFAULT_MATON_URL, ConfigError, Settings

CLOCK_TOLERANCE = 300  # seconds; ClickSend's timestamps (schedules, history ranges) are Unix seconds
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


@dataclass
class Report:
    """What doctor found: lines for the person, and whether the read-only call succeeded with nothing wrong."""

    lines: list[str] = field(default_factory=list)
    call_succeeded: bool = False
    problems: int = 0

    def info(self, text: str) -> None:
        self.lines.append(f"  {text}")

    def ok(self, text: str) -> None:
        self.lines.append(f"ok       {text}")

    def problem(self, text: str) -> None:
        self.problems += 1
        self.lines.append(f"PROBLEM  {text}")

    @property
    def healthy(self) -> bool:
        return self.call_succeeded and self.problems == 0


def shown_url(url: str) -> str:
    """A URL without any user:password part, safe to print."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def _host_port(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _envelope(response: HttpResponse) -> dict[str, Any] | None:
    """ClickSend's answer shape ({http_code, response_code, response_msg, data}), or None for anything else."""
    body = _json(response.body)
    return body if isinstance(body, dict) and "response_code" in body else None


def _unreachable(failure: TransportFailure, what: str, url: str, timeout: float) -> str:
    where = _host_port(url)
    if failure.kind == "timeout":
        text = (
            f"{what} at {where} did not answer within {timeout:g} s: the host is slow or a firewall drops the traffic"
        )
    else:
        text = (
            f"cannot reach {what} at {where}: the name does not resolve, nothing answers there, or a firewall blocks it"
        )
    proxies = sorted({name.upper() for name in PROXY_VARIABLES if os.environ.get(name)})
    if proxies:
        text += (
            f". This machine sets {', '.join(proxies)}, but clicksend-mcp connects directly and ignores proxy "
            f"variables: allow direct HTTPS to {where}"
        )
    return text + "."


def _check_clock(response: HttpResponse, report: Report, now: float) -> None:
    stamp = response.headers.get("date")
    if not stamp:
        return
    try:
        remote = email.utils.parsedate_to_datetime(stamp).timestamp()
    except (TypeError, ValueError):
        return
    skew = now - remote
    if abs(skew) <= CLOCK_TOLERANCE:
        report.ok(f"this machine's clock agrees with the server's (within {max(1, round(abs(skew)))} s)")
        return
    minutes = round(abs(skew) / 60)
    span = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
    direction = "ahead of" if skew > 0 else "behind"
    report.problem(
        f"this machine's clock is {span} {direction} the server's: schedules and history date ranges are Unix "
        "times, so they would be off by as much. Set the clock right (enable NTP time sync)."
    )


def _judge_account(response: HttpResponse, report: Report, backend: str, base_url: str) -> None:
    """Explain the answer to GET /account."""
    envelope = _envelope(response)
    status = response.status
    url = shown_url(base_url)
    variable = "MATON_BASE_URL" if backend == "maton" else "CLICKSEND_BASE_URL"
    default = DEFAULT_MATON_URL if backend == "maton" else DEFAULT_CLICKSEND_URL
    code = str(envelope.get("response_code")) if envelope else ""
    message = str(envelope.get("response_msg") or "") if envelope else ""
    if 200 <= status < 300 and envelope and code == "SUCCESS" and isinstance(envelope.get("data"), dict):
        data = envelope["data"]
        currency = (data.get("_currency") or {}).get("currency_name_short", "")
        balance = f", balance {data.get('balance')} {currency}".rstrip() if data.get("balance") is not None else ""
        report.ok(f"GET /account succeeded: signed in as {data.get('username', '?')!s}{balance}")
        report.call_succeeded = True
        return
    if status == 401:
        if backend == "maton":
            report.problem(
                "the Maton gateway refused the request (HTTP 401): MATON_API_KEY is wrong, or the ClickSend "
                "connection behind it is no longer signed in. Copy the key again from https://maton.ai/settings, "
                "and check the connection at https://ctrl.maton.ai."
            )
        else:
            report.problem(
                "ClickSend refused the username and API key (HTTP 401): CLICKSEND_USERNAME or CLICKSEND_API_KEY "
                "is wrong. Both are on the ClickSend dashboard under Developers > API Credentials; the username "
                "is the API username shown there, and the key must be copied whole."
            )
        return
    if status == 403 and envelope:
        report.problem(
            f"ClickSend refused access (HTTP 403, {code}): {message or 'the account may be inactive or banned'}. "
            "Check the account's status on the ClickSend dashboard."
        )
        return
    if envelope is None or status == 404 or 300 <= status < 400:
        answer = f"HTTP {status}" + (
            f" redirecting to {response.headers['location']}" if "location" in response.headers else ""
        )
        report.problem(
            f"{url} does not look like ClickSend's API: GET /account answered {answer}"
            f"{'' if envelope else ', not a ClickSend answer'}. Check {variable} "
            f"(unset, it is {default})."
        )
        return
    if status == 429:
        report.problem("ClickSend is rate limiting these credentials (HTTP 429): wait a minute and run doctor again.")
        return
    if status >= 500:
        report.problem(f"the server answered HTTP {status} ({code}): a fault on its side; try again later.")
        return
    report.problem(f"GET /account failed: HTTP {status}, {code}: {message}".rstrip(": "))


def _connections(body: Any) -> list[dict[str, Any]]:
    found = body.get("connections") if isinstance(body, dict) else body
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


async def _check_maton(settings: Settings, control: ClickSendHttp, report: Report) -> bool:
    """Ask Maton's control API for the key's active ClickSend connections; False when the gateway call is pointless."""
    ctrl = settings.maton_ctrl_base_url
    request = HttpRequest("GET", "/connections", query=(("app", "clicksend"), ("status", "ACTIVE")))
    try:
        response = await control.send(request)
    except TransportFailure as failure:
        report.problem(_unreachable(failure, "Maton's control API", ctrl, settings.timeout))
        return False
    if response.status in (401, 403):
        report.problem(
            f"Maton did not accept MATON_API_KEY (HTTP {response.status} from {shown_url(ctrl)}). Copy the key "
            "again from https://maton.ai/settings."
        )
        return False
    body = _json(response.body)
    if response.status != 200 or not (isinstance(body, list) or (isinstance(body, dict) and "connections" in body)):
        report.problem(
            f"{shown_url(ctrl)} does not look like Maton's control API (GET /connections answered HTTP "
            f"{response.status}). Check MATON_CTRL_BASE_URL (unset, it is https://ctrl.maton.ai)."
        )
        return False
    active = [
        c
        for c in _connections(body)
        if str(c.get("status", "ACTIVE")).upper() == "ACTIVE" and str(c.get("app", "clicksend")) == "clicksend"
    ]
    ids = [str(c.get("connection_id")) for c in active if c.get("connection_id")]
    if not active:
        report.problem(
            "Maton accepted the key, but it has no active connection for clicksend. Create one (POST "
            'https://ctrl.maton.ai/connections with {"app": "clicksend"}), open the URL it returns and sign in to '
            "ClickSend there."
        )
        return False
    if settings.maton_connection and settings.maton_connection not in ids:
        report.problem(
            f"MATON_CONNECTION is {settings.maton_connection}, which is not an active clicksend connection of "
            f"this key (active: {', '.join(ids) or 'none with an id'}). Set it to one of those, or unset it to "
            "use the oldest."
        )
        return False
    using = settings.maton_connection or (ids[0] if ids else "the oldest")
    report.ok(f"Maton accepted the key: {len(active)} active clicksend connection(s); using {using}")
    return True


def _credentials_problem(settings: Settings, exc: ConfigError) -> str:
    """Missing or partial credentials, in plain words (which variable is set, which is missing)."""
    has_user, has_key = bool(settings.clicksend_username), bool(settings.clicksend_api_key)
    if has_user != has_key:
        present, missing = (
            ("CLICKSEND_USERNAME", "CLICKSEND_API_KEY") if has_user else ("CLICKSEND_API_KEY", "CLICKSEND_USERNAME")
        )
        return (
            f"only half of the ClickSend credentials are set: {present} is set, {missing} is not. Set both "
            "(the API username and key from the ClickSend dashboard, Developers > API Credentials)."
        )
    if not (has_user or settings.maton_api_key or settings.skillboss_api_key) and settings.backend is None:
        return (
            "no credentials are set. Set CLICKSEND_USERNAME and CLICKSEND_API_KEY (ClickSend directly), or "
            "MATON_API_KEY (and optionally MATON_CONNECTION) for the Maton gateway, or SKILLBOSS_API_KEY for "
            "SkillBoss. To try every tool with no account, use --backend sandbox."
        )
    return str(exc)


def _chosen_because(settings: Settings, backend: str) -> str:
    if settings.backend is not None:
        return "set with --backend or CLICKSEND_BACKEND"
    if backend == "direct":
        return "chosen because CLICKSEND_USERNAME and CLICKSEND_API_KEY are set"
    if backend == "skillboss":
        return "chosen because SKILLBOSS_API_KEY is set"
    return "chosen because MATON_API_KEY is set"


async def diagnose(settings: Settings) -> Report:
    report = Report()
    try:
        backend = settings.resolved_backend()
    except ConfigError as exc:
        report.problem(_credentials_problem(settings, exc))
        return report
    report.info(f"backend: {backend} ({_chosen_because(settings, backend)})")
    if backend == "skillboss":
        # SkillBoss runs only sends and passcode checks: nothing it offers reads without acting.
        report.info(f"SkillBoss API Hub: {shown_url(settings.skillboss_base_url)}")
        report.problem(
            "SkillBoss offers no read-only call, so doctor cannot check SKILLBOSS_API_KEY without sending "
            "something. Send a templated SMS to a test number to check it."
        )
        return report
    elif backend == "direct":
        report.info(f"ClickSend API: {shown_url(settings.clicksend_base_url)}")
    elif backend == "sandbox":
        report.info("the in-process sandbox: nothing leaves this machine")
    config = build_backend(settings)
    try:
        return await _check_account(settings, backend, config, report)
    finally:
        for client in {id(c): c for c in [config.http, *config.apis.values()]}.values():
            await client.aclose()


async def _check_account(settings: Settings, backend: str, config: BackendConfig, report: Report) -> Report:
    """Maton's connections first (the gateway call is pointless without one), then GET /account."""
    if backend == "maton":
        report.info(f"Maton control API: {shown_url(settings.maton_ctrl_base_url)}")
        report.info(f"Maton gateway: {shown_url(settings.maton_base_url)}")
        if not await _check_maton(settings, config.apis["maton_control"], report):
            return report
    base_url = settings.maton_base_url if backend == "maton" else settings.clicksend_base_url
    try:
        response = await config.http.send(HttpRequest("GET", "/account"))
    except TransportFailure as failure:
        what = "the Maton gateway" if backend == "maton" else "ClickSend"
        report.problem(_unreachable(failure, what, base_url, settings.timeout))
        return report
    _judge_account(response, report, backend, base_url)
    if backend != "sandbox":
        _check_clock(response, report, time.time())
    return report


def _secrets(settings: Settings) -> list[str]:
    found = [
        s.get_secret_value() for s in (settings.clicksend_api_key, settings.maton_api_key, settings.auth_token) if s
    ]
    return [s for s in found if s]


async def run_doctor(settings: Settings, out: TextIO | None = None) -> int:
    """Print the report; exit status 0 only when GET /account succeeded and nothing else is wrong."""
    out = out or sys.stdout
    report = await diagnose(settings)
    redactor = Redactor(_secrets(settings))
    print("clicksend-mcp doctor", file=out)
    for line in report.lines:
        print(redactor.text(line), file=out)
    if report.healthy:
        print("Everything checked is working.", file=out)
        return 0
    print(f"{report.problems} problem(s) found.", file=out)
    return 1
