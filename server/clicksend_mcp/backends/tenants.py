"""Multi-tenant mode: shared clients with no credentials in them, and the backend of one request built from the
credentials it brought (direct: ClickSend Basic; maton: the gateway's Bearer and connection)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..http import ClickSendHttp, basic_token
from ..settings import Settings
from ..tenancy import TenantCredentials
from .base import BackendConfig, timeouts_of
from .maton import normalize_gateway


@dataclass
class TenantBackends:
    direct: ClickSendHttp
    maton: ClickSendHttp

    @property
    def placeholder(self) -> BackendConfig:
        """What the dispatcher holds as its configured backend: it names the API served, and sends nothing (a call
        without a tenant is refused before it could be sent)."""
        return BackendConfig("direct", self.direct)

    def for_tenant(self, tenant: TenantCredentials) -> BackendConfig:
        if tenant.backend == "maton":
            headers = {"Authorization": f"Bearer {tenant.api_key}"}
            if tenant.connection:
                headers["Maton-Connection"] = tenant.connection
            return BackendConfig(
                "maton",
                self.maton,
                tenant.secrets,
                normalizers={"clicksend": normalize_gateway},
                headers={"clicksend": headers},
                tenant=tenant.fingerprint,
            )
        assert tenant.username is not None
        token = basic_token(tenant.username, tenant.api_key)
        return BackendConfig(
            "direct",
            self.direct,
            (*tenant.secrets, token),
            headers={"clicksend": {"Authorization": f"Basic {token}"}},
            tenant=tenant.fingerprint,
        )

    async def aclose(self) -> None:
        await self.direct.aclose()
        await self.maton.aclose()


def build_tenant_backends(settings: Settings, *, asgi_app: Any = None) -> TenantBackends:
    timeouts = timeouts_of(settings)
    return TenantBackends(
        direct=ClickSendHttp(settings.clicksend_base_url, timeouts=timeouts, asgi_app=asgi_app),
        maton=ClickSendHttp(settings.maton_base_url, timeouts=timeouts, asgi_app=asgi_app, service="the Maton gateway"),
    )
