"""The command line as a person meets it, through the installed console script: flags after the subcommand, help,
a port in use, a closed pipe, hidden and misspelt tools, confirmation on a terminal, sandbox state kept in a file."""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clicksend_mcp.cli import FLAGS
from clicksend_mcp.loader import spec_files
from console import TIMEOUT, base_env, console_script, run_cli
from fake_clicksend import API_KEY, TEST_NUMBER, USERNAME, FakeClickSend, LoopbackServer

pytestmark = pytest.mark.e2e

SEND = "CLICKSEND_CREATE_SMS_SEND"
HISTORY = "CLICKSEND_SMS_HISTORY_GET"
QUIET = {"CLICKSEND_MCP_LOG_LEVEL": "warning"}


def rows(stdout: str) -> list[str]:
    return [line.split()[0] for line in stdout.splitlines() if line.strip()]


# Flags after the subcommand


def test_flags_work_after_the_tools_subcommand() -> None:
    after = run_cli("tools", "--toolsets", "all")
    before = run_cli("--toolsets", "all", "tools")
    assert after.returncode == 0, after.stderr
    every = len(spec_files(Path(__file__).resolve().parents[1] / "tool_specs"))
    assert len(rows(after.stdout)) == every  # no backend configured: every tool
    assert after.stdout == before.stdout


def test_a_flag_before_the_subcommand_is_not_reset_by_it() -> None:
    done = run_cli("--toolsets", "voice", "tools", "--json")
    assert done.returncode == 0, done.stderr
    assert {t["name"] for t in json.loads(done.stdout)} >= {"CLICKSEND_VOICE_SEND_POST"}
    assert "CLICKSEND_GET_ACCOUNT" not in done.stdout


def test_flags_work_after_the_call_subcommand_and_its_tool_name() -> None:
    done = run_cli("call", "CLICKSEND_GET_ACCOUNT", "--backend", "sandbox", "--args", "{}")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["successful"] is True and result["sandbox"] is True


# Help


@pytest.mark.parametrize(
    ("command", "groups"),
    [
        ("serve", {"general", "backend", "serving", "selection", "guardrails"}),
        ("tools", {"general", "selection"}),
        ("call", {"general", "backend", "selection", "guardrails"}),
        ("doctor", {"general", "backend"}),
    ],
)
def test_each_subcommands_help_lists_every_flag_it_takes_with_its_variable(command: str, groups: set[str]) -> None:
    done = run_cli(command, "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())  # argparse wraps lines anywhere
    for flag in FLAGS:
        if flag.group in groups:
            assert flag.flag in text, f"{command} --help lacks {flag.flag}"
    assert "[CLICKSEND_BACKEND]" in text or "backend" not in groups
    assert "[CLICKSEND_TOOLSETS]" in text or "selection" not in groups
    if command == "tools":
        assert {"--json", "--markdown", "--size"} <= set(text.split())
        assert "--transport" not in text
    if command == "call":
        assert "--args JSON" in text and "CLICKSEND_GET_ACCOUNT" in text


def test_top_level_help_names_the_credentials_the_automatic_backend_and_the_readme() -> None:
    done = run_cli("--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for name in ("CLICKSEND_USERNAME", "CLICKSEND_API_KEY", "MATON_API_KEY", "MATON_CONNECTION"):
        assert name in text
    assert "The backend is chosen automatically" in text
    assert "--backend sandbox needs no account" in text
    assert "README" in text
    for command in ("serve", "tools", "call", "doctor"):
        assert command in text


# A port in use


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield holder.getsockname()[1]


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_a_port_in_use_is_one_line_naming_it_and_exit_status_2(taken_port: int, transport: str) -> None:
    done = run_cli("--backend", "sandbox", "--transport", transport, "--port", str(taken_port))
    assert done.returncode == 2
    assert done.stderr == (
        f"clicksend-mcp: 127.0.0.1:{taken_port} is already in use; choose another port with --port\n"
    )
    assert done.stdout == ""


def test_a_port_in_use_given_after_serve_and_by_environment_is_refused_the_same_way(taken_port: int) -> None:
    done = run_cli(
        "serve", "--backend", "sandbox", env={"CLICKSEND_MCP_TRANSPORT": "http", "CLICKSEND_MCP_PORT": str(taken_port)}
    )
    assert done.returncode == 2
    assert done.stderr == f"clicksend-mcp: 127.0.0.1:{taken_port} is already in use; choose another port with --port\n"


# A closed pipe


def test_tools_into_a_pipe_closed_early_exits_quietly() -> None:
    done = subprocess.run(
        ["bash", "-c", f'"{console_script()}" --toolsets all tools --json | head -1; echo "status=${{PIPESTATUS[0]}}"'],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.stdout == "[\nstatus=141\n"
    assert done.stderr == ""


def test_tools_into_a_pipe_nobody_reads_exits_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        done = subprocess.run(
            [console_script(), "tools"],
            env=base_env(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert done.stderr == ""


# Hidden and misspelt tools


def test_calling_a_real_tool_that_is_not_enabled_names_the_toolset_that_enables_it() -> None:
    done = run_cli("--backend", "sandbox", "call", "CLICKSEND_GET_STATISTICS_VOICE")
    assert done.returncode == 2
    # The same words as the MCP path's error (Selection.why_hidden).
    assert done.stderr == (
        "clicksend-mcp: CLICKSEND_GET_STATISTICS_VOICE is not enabled on this server; the operator can add it with "
        "--tools CLICKSEND_GET_STATISTICS_VOICE (or --toolsets account)\n"
    )
    assert "unknown" not in done.stderr.lower()


def test_a_misspelt_tool_name_gets_a_did_you_mean() -> None:
    done = run_cli("--backend", "sandbox", "call", "CLICKSEND_GET_ACOUNT")
    assert done.returncode == 2
    assert done.stderr.startswith(
        "clicksend-mcp: Unknown tool: CLICKSEND_GET_ACOUNT; did you mean CLICKSEND_GET_ACCOUNT"
    )
    assert done.stderr.endswith("List the tools with: clicksend-mcp --toolsets all tools\n")


def test_a_misspelt_toolset_is_refused_at_start_with_a_did_you_mean() -> None:
    done = run_cli("--backend", "sandbox", "--toolsets", "smss", "tools")
    assert done.returncode == 2
    assert done.stderr.startswith("clicksend-mcp: unknown toolset(s) smss (did you mean sms?); valid toolsets:")


# Confirmation of sends


@pytest.fixture
def fake_on_loopback() -> Iterator[tuple[FakeClickSend, LoopbackServer]]:
    fake = FakeClickSend()
    with LoopbackServer(fake) as server:
        yield fake, server


def direct(server: LoopbackServer) -> dict[str, str]:
    return {
        **QUIET,
        "CLICKSEND_BASE_URL": server.base_url,
        "CLICKSEND_USERNAME": USERNAME,
        "CLICKSEND_API_KEY": API_KEY,
    }


SEND_ARGS = json.dumps({"messages": [{"to": TEST_NUMBER, "body": "confirm on a terminal", "from": "Sandbox"}]})


def test_confirm_sends_without_a_terminal_refuses_and_sends_nothing(
    fake_on_loopback: tuple[FakeClickSend, LoopbackServer],
) -> None:
    fake, server = fake_on_loopback
    done = run_cli("call", SEND, "--confirm-sends", "--args", SEND_ARGS, env=direct(server), stdin="y\n")
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["error_code"] == "NOT_CONFIRMED"
    assert "no terminal to ask on" in result["error"]
    assert fake.sent("POST", "/v3/sms/send") == []


class Terminal:
    """The console script on a pseudo-terminal: what it writes, and typed answers."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.output = b""
        self.deadline = time.monotonic() + TIMEOUT

    def read_until(self, marker: bytes | None) -> str:
        """Read until `marker` appears (None: until the process closes the terminal), within the deadline."""
        while marker is None or marker not in self.output:
            left = self.deadline - time.monotonic()
            ready, _, _ = select.select([self.master], [], [], max(0.0, left))
            if not ready:
                pytest.fail(f"no {marker!r} in time; the terminal shows:\n{self.output.decode(errors='replace')}")
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the other side closed
                chunk = b""
            if not chunk:
                if marker is None:
                    break
                pytest.fail(f"closed before {marker!r}:\n{self.output.decode(errors='replace')}")
            self.output += chunk
        return self.output.decode(errors="replace").replace("\r\n", "\n")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> int:
        try:
            return self.process.wait(timeout=TIMEOUT)
        finally:
            os.close(self.master)


def result_after(screen: str, prompt: str) -> dict[str, Any]:
    after = screen[screen.index(prompt) :]
    found: dict[str, Any] = json.JSONDecoder().raw_decode(after[after.index("{\n") :])[0]
    return found


@pytest.mark.parametrize("answer", ["y", "n", ""])
def test_confirm_sends_on_a_terminal_shows_the_summary_and_sends_only_on_yes(
    fake_on_loopback: tuple[FakeClickSend, LoopbackServer], answer: str
) -> None:
    fake, server = fake_on_loopback
    terminal = Terminal(
        [console_script(), "call", SEND, "--confirm-sends", "--args", SEND_ARGS], base_env(direct(server))
    )
    try:
        shown = terminal.read_until(b"Send it? [y/N] ")
        assert fake.sent("POST", "/v3/sms/send") == []  # nothing before the answer
        terminal.type(answer + "\n")
        screen = terminal.read_until(None)
    finally:
        status = terminal.close()
    summary = shown[shown.index("Confirm:") :]
    assert summary.splitlines() == [
        "Confirm: Send SMS Messages (sms) through ClickSend.",
        f"To: {TEST_NUMBER} (1 recipient)",
        "From: Sandbox",
        "Message: confirm on a terminal",
        "Quoted cost: 0.077 AUD",
        "Send it? [y/N] ",
    ]
    result = result_after(screen, "Send it? [y/N] ")
    if answer == "y":
        assert status == 0 and result["successful"] is True
        assert len(fake.sent("POST", "/v3/sms/send")) == 1
    else:
        assert status == 1 and result["error_code"] == "NOT_CONFIRMED"
        assert "declined" in result["error"]
        assert fake.sent("POST", "/v3/sms/send") == []


# Sandbox state in a file


def test_sandbox_state_keeps_a_sent_message_for_the_next_calls_history(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    body = "kept between runs"
    args = json.dumps({"messages": [{"to": TEST_NUMBER, "body": body}]})
    sent = run_cli("call", SEND, "--backend", "sandbox", "--sandbox-state", str(state), "--args", args, env=QUIET)
    assert sent.returncode == 0, sent.stderr
    message_id = json.loads(sent.stdout)["data"]["messages"][0]["message_id"]
    assert json.loads(state.read_text())["format"] == "clicksend-mcp-sandbox-state"

    history = run_cli("call", HISTORY, "--backend", "sandbox", env={**QUIET, "CLICKSEND_SANDBOX_STATE": str(state)})
    assert history.returncode == 0, history.stderr
    listed = json.loads(history.stdout)["data"]["data"]
    assert [(m["message_id"], m["body"]) for m in listed] == [(message_id, body)]


def test_without_sandbox_state_each_run_starts_afresh() -> None:
    args = json.dumps({"messages": [{"to": TEST_NUMBER, "body": "gone"}]})
    assert run_cli("call", SEND, "--backend", "sandbox", "--args", args, env=QUIET).returncode == 0
    history = run_cli("call", HISTORY, "--backend", "sandbox", env=QUIET)
    assert json.loads(history.stdout)["data"]["data"] == []


def test_an_unreadable_sandbox_state_file_is_one_line_and_left_alone(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    state.write_text("{ not json")
    done = run_cli("call", "CLICKSEND_GET_ACCOUNT", "--backend", "sandbox", "--sandbox-state", str(state))
    assert done.returncode == 2
    assert done.stderr == (
        f"clicksend-mcp: CLICKSEND_SANDBOX_STATE (--sandbox-state) {state}: cannot be read (JSONDecodeError); "
        "move it away to start afresh\n"
    )
    assert state.read_text() == "{ not json"


def test_the_command_pauses_cyclic_collection_while_starting_and_serves_with_it_on() -> None:
    """Run as the command, the server starts with the collector off and turns it back on (what starting built
    frozen out of its sight) before serving; in a process that only calls main() with arguments it is never off."""
    code = (
        "import gc, clicksend_mcp.cli as cli\n"
        "cli._pause_collection(); assert not gc.isenabled()\n"
        "cli.resume_collection(); assert gc.isenabled() and gc.get_freeze_count() > 0\n"
        "cli.resume_collection(); assert gc.isenabled()\n"
        "gc.disable(); cli._pause_collection(); cli.resume_collection()\n"
        "assert not gc.isenabled(), 'a collector someone else turned off stays off'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def test_main_called_with_arguments_leaves_the_collector_as_it_was(capsys: pytest.CaptureFixture[str]) -> None:
    import gc

    from clicksend_mcp.cli import main

    assert gc.isenabled()
    main(["--backend", "sandbox", "tools"])
    capsys.readouterr()
    assert gc.isenabled()
