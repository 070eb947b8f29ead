"""Choosing the backend from the environment and flags, and refusing configurations that cannot work."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from clicksend_mcp.settings import ConfigError, Settings


def test_clicksend_credentials_choose_the_direct_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKSEND_USERNAME", "u")
    monkeypatch.setenv("CLICKSEND_API_KEY", "k")
    monkeypatch.setenv("MATON_API_KEY", "m")
    assert Settings().resolved_backend() == "direct"


def test_a_maton_key_alone_chooses_the_maton_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATON_API_KEY", "m")
    assert Settings().resolved_backend() == "maton"


def test_no_credentials_refuses_with_the_variables_and_the_sandbox_flag() -> None:
    with pytest.raises(ConfigError) as info:
        Settings().resolved_backend()
    message = str(info.value)
    for needed in ("CLICKSEND_USERNAME", "CLICKSEND_API_KEY", "MATON_API_KEY", "--backend sandbox"):
        assert needed in message


def test_an_explicit_backend_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKSEND_USERNAME", "u")
    monkeypatch.setenv("CLICKSEND_API_KEY", "k")
    assert Settings(backend="sandbox").resolved_backend() == "sandbox"


def test_an_explicit_backend_without_its_credentials_is_refused() -> None:
    with pytest.raises(ConfigError, match="MATON_API_KEY"):
        Settings(backend="maton").resolved_backend()


def test_a_header_value_with_a_line_break_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATON_CONNECTION", "abc\r\nX-Evil: 1")
    with pytest.raises(ValidationError, match="must be printable ASCII"):
        Settings()


def test_the_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKSEND_TIMEOUT", "12.5")
    assert Settings().timeout == 12.5


def test_secrets_do_not_appear_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKSEND_API_KEY", "VERY-SECRET-KEY")
    monkeypatch.setenv("MATON_API_KEY", "OTHER-SECRET")
    text = repr(Settings())
    assert "VERY-SECRET-KEY" not in text and "OTHER-SECRET" not in text
