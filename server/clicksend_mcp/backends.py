"""The three backends (direct, maton, sandbox): where calls go, how they authenticate, which secrets to redact;
and, in multi-tenant mode, the backend of one request built from the credentials it brought."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .http import ClickSendHttp, HttpResponse, Timeouts, basic_token
from .request_builder import HttpRequest
from .settings import SANDBOX_URL, Backend, Settings
from .tenancy import TenantCredentials


@dataclass
class BackendConfig:
    """Where a call goes. `headers` are per-request headers (a tenant's credentials) sent with every attempt;
    the configured backends carry theirs in the client instead."""

    name: Backend
    http: ClickSendHttp
    secrets: tuple[str, ...] = field(default=(), repr=False)
    headers: dict[str, str] | None = field(default=None, repr=False)
    tenant: str | None = None  # the tenant's fingerprint (multi-tenant mode)

    @property
    def is_sandbox(self) -> bool:
        return self.name == "sandbox"

    async def send(self, request: HttpRequest) -> HttpResponse:
        return await self.http.send(request, self.headers)


@dataclass
class TenantBackends:
    """Multi-tenant mode: one shared client per upstream with no credentials in it; each request brings its own."""

    direct: ClickSendHttp
    maton: ClickSendHttp

    def for_tenant(self, tenant: TenantCredentials) -> BackendConfig:
        if tenant.backend == "maton":
            headers = {"Authorization": f"Bearer {tenant.api_key}"}
            if tenant.connection:
                headers["Maton-Connection"] = tenant.connection
            return BackendConfig("maton", self.maton, tenant.secrets, headers, tenant.fingerprint)
        assert tenant.username is not None
        token = basic_token(tenant.username, tenant.api_key)
        headers = {"Authorization": f"Basic {token}"}
        return BackendConfig("direct", self.direct, (*tenant.secrets, token), headers, tenant.fingerprint)

    async def aclose(self) -> None:
        await self.direct.aclose()
        await self.maton.aclose()


def build_tenant_backends(settings: Settings, *, asgi_app: Any = None) -> TenantBackends:
    timeouts = _timeouts(settings)
    return TenantBackends(
        direct=ClickSendHttp(settings.clicksend_base_url, timeouts=timeouts, asgi_app=asgi_app),
        maton=ClickSendHttp(settings.maton_base_url, timeouts=timeouts, asgi_app=asgi_app),
    )


def _timeouts(settings: Settings) -> Timeouts:
    t = settings.timeout
    return Timeouts(connect=min(5.0, t), read=t, write=t, pool=min(5.0, t), total=t)


def build_backend(settings: Settings, *, sandbox_app: Any = None, asgi_app: Any = None) -> BackendConfig:
    """The backend the settings choose. `asgi_app` routes direct/maton calls in-process (tests only)."""
    name = settings.resolved_backend()
    timeouts = _timeouts(settings)
    if name == "sandbox":
        if sandbox_app is None:
            from .sandbox import create_sandbox_app

            sandbox_app = create_sandbox_app()
        headers: dict[str, str] = {}
        secrets: list[str] = []
        if settings.clicksend_username and settings.clicksend_api_key:
            # The sandbox honours ClickSend's published test credentials (nocredit, notactive, banned).
            key = settings.clicksend_api_key.get_secret_value()
            token = basic_token(settings.clicksend_username, key)
            headers["Authorization"] = f"Basic {token}"
            secrets += [key, token]
        http = ClickSendHttp(SANDBOX_URL, headers=headers, timeouts=timeouts, asgi_app=sandbox_app)
        return BackendConfig("sandbox", http, tuple(secrets))
    if name == "direct":
        assert settings.clicksend_username and settings.clicksend_api_key  # resolved_backend checked both
        key = settings.clicksend_api_key.get_secret_value()
        token = basic_token(settings.clicksend_username, key)
        http = ClickSendHttp(
            settings.clicksend_base_url,
            headers={"Authorization": f"Basic {token}"},
            timeouts=timeouts,
            asgi_app=asgi_app,
        )
        return BackendConfig("direct", http, (key, token))
    assert settings.maton_api_key  # resolved_backend checked it
    key = settings.maton_api_key.get_secret_value()
    headers = {"Authorization": f"Bearer {key}"}
    if settings.maton_connection:
        headers["Maton-Connection"] = settings.maton_connection
    http = ClickSendHttp(settings.maton_base_url, headers=headers, timeouts=timeouts, asgi_app=asgi_app)
    return BackendConfig("maton", http, (key,))
