"""What every backend shares: the configured backend object the dispatcher calls, and the timeouts from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..http import ClickSendHttp, Timeouts
from ..settings import Settings


@dataclass
class BackendConfig:
    """One configured backend: its name, the HTTP client its calls go through, and the secrets to redact."""

    name: str
    http: ClickSendHttp
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def is_sandbox(self) -> bool:
        return self.name == "sandbox"


def timeouts_of(settings: Settings) -> Timeouts:
    t = settings.timeout
    return Timeouts(connect=min(5.0, t), read=t, write=t, pool=min(5.0, t), total=t)
