"""Prometheus metrics (prometheus-client): what the dispatcher reports, in the text format at /metrics.

Labels hold tool names, backends, outcomes, error codes, currencies and the tenant's short fingerprint: never a
credential, a recipient or message text."""

from __future__ import annotations

import math
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from ..observe import REFUSAL_CODES, outcome_of
from ..tenancy import tenant_label

# Upstream latency buckets (seconds): ClickSend answers in tens to hundreds of milliseconds; timeouts run to 30 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """A CallObserver that keeps Prometheus series in its own registry (one per server, so tests do not share)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.calls = Counter(
            "clicksend_mcp_calls",
            "Tool calls by tool, backend, outcome (success, refused, error) and tenant fingerprint",
            ["tool", "backend", "outcome", "tenant"],
            registry=r,
        )
        self.errors = Counter(
            "clicksend_mcp_errors", "Calls that did not succeed, by error_code", ["error_code"], registry=r
        )
        self.refusals = Counter(
            "clicksend_mcp_refusals",
            "Calls stopped before anything was sent, and HTTP requests refused at the gates, by reason",
            ["reason"],
            registry=r,
        )
        self.upstream = Histogram(
            "clicksend_mcp_upstream_seconds",
            "Time for ClickSend (or the gateway) to answer one attempt, by backend",
            ["backend"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "clicksend_mcp_retries", "Attempts beyond the first, by backend", ["backend"], registry=r
        )
        self.in_flight = Gauge("clicksend_mcp_calls_in_flight", "Calls executing now", registry=r)
        self.spend = Counter(
            "clicksend_mcp_spend",
            "What successful sends cost, as ClickSend priced them, by currency",
            ["currency"],
            registry=r,
        )

    def call_started(self) -> None:
        self.in_flight.inc()

    def call_ended(self) -> None:
        self.in_flight.dec()

    def call_finished(self, tool: str, backend: str, tenant: str | None, result: dict[str, Any], *, sent: bool) -> None:
        self.calls.labels(tool, backend, outcome_of(result), tenant_label(tenant) if tenant else "").inc()
        code = result.get("error_code")
        if code:
            self.errors.labels(str(code)).inc()
            if code in REFUSAL_CODES:
                self.refusals.labels(str(code)).inc()
        spent = _spend(result) if sent else None  # a price tool's quote is not spend
        if spent is not None:
            self.spend.labels(spent[1]).inc(spent[0])

    def http_refused(self, reason: str) -> None:
        """A request the HTTP gates refused (access.py's reasons: a token missing or invalid, a scope, a Host or
        Origin, the session cap), before it reached MCP."""
        self.refusals.labels(reason).inc()

    def upstream_answered(self, backend: str, seconds: float) -> None:
        self.upstream.labels(backend).observe(seconds)

    def retried(self, backend: str, count: int) -> None:
        self.retries.labels(backend).inc(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def endpoint(self, request: Request) -> Response:
        return Response(self.render(), media_type=CONTENT_TYPE_LATEST)


def _spend(result: dict[str, Any]) -> tuple[float, str] | None:
    """The price ClickSend put on a successful send (`total_price` with `_currency`), if it says."""
    data = result.get("data")
    if not result.get("successful") or not isinstance(data, dict) or data.get("dry_run"):
        return None
    price, currency = data.get("total_price"), data.get("_currency")
    code = currency.get("currency_name_short") if isinstance(currency, dict) else None
    try:
        amount = float(price) if price is not None else math.nan
    except (TypeError, ValueError):
        return None
    if not math.isfinite(amount) or amount <= 0 or not isinstance(code, str) or not code.isalpha() or len(code) > 8:
        return None
    return amount, code.upper()
