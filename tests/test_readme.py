"""The README stays true: its Python client runs as a script, its shell examples run as written, and its
configuration table names every setting and flag."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from clicksend_mcp.cli import FLAGS
from clicksend_mcp.settings import Settings, env_name
from console import TIMEOUT, base_env
from test_e2e import served

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def block_after(marker: str, language: str) -> str:
    """The first ```language block after `marker` in the README."""
    start = README.index(marker)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(README, start)
    assert match, f"no {language} block after {marker!r}"
    return match[1]


def test_the_quick_start_is_two_commands() -> None:
    commands = [line for line in block_after("## Quick start", "bash").splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].startswith("pip install . && clicksend-mcp --backend sandbox")
    assert commands[1].startswith("pip install -e '.[test]' && pytest")


@pytest.mark.anyio
@pytest.mark.e2e
async def test_the_python_client_snippet_runs_as_a_script(tmp_path: Path) -> None:
    snippet = block_after("**From Python**", "python")
    assert "asyncio.run(main())" in snippet
    async with served("http", {"CLICKSEND_BACKEND": "sandbox"}) as base:
        script = tmp_path / "client.py"
        script.write_text(snippet.replace("http://127.0.0.1:8000", base))
        with anyio.fail_after(TIMEOUT):
            done = await anyio.run_process([sys.executable, str(script)], check=False)
    assert done.returncode == 0, done.stderr.decode()
    count, username = done.stdout.decode().splitlines()
    assert re.fullmatch(r"\d+ tools", count) and username == "sandbox"


@pytest.mark.e2e
def test_the_shell_examples_run_as_written(tmp_path: Path) -> None:
    block = block_after("or try tools from the", "bash")
    assert "--sandbox-state" in block and "CLICKSEND_SANDBOX_STATE" in block
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=tmp_path,
        env=base_env({"CLICKSEND_MCP_LOG_LEVEL": "warning"}),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Once in the send's answer, once in the history a second process read from the state file.
    assert done.stdout.count('"body": "Hello from the sandbox"') == 2
    assert "Everything checked is working." in done.stdout
    assert (tmp_path / "sandbox.json").is_file()


def test_the_configuration_table_names_every_setting_and_flag() -> None:
    table = README[README.index("## Configuration") : README.index("Commands:")]
    for field in Settings.model_fields:
        assert f"`{env_name(field)}`" in table, f"{env_name(field)} is missing from the README's table"
    for flag in FLAGS:
        assert f"`{flag.flag}`" in table, f"{flag.flag} is missing from the README's table"


def test_the_readme_links_the_moved_documents_and_they_exist() -> None:
    root = Path(__file__).resolve().parents[1]
    for document in ("docs/performance.md", "docs/dependencies.md", "LICENSE", "requirements.lock"):
        assert f"]({document})" in README
        assert (root / document).is_file()
