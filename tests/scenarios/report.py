"""Print calls per task of the task suite, in the default selection and in discovery mode (over every tool).

    python tests/scenarios/report.py

A task that cannot be done (a tool not served, a refusal, a wrong outcome) is reported with why, not counted."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import anyio  # noqa: E402
from agent import session  # noqa: E402
from tasks import TASKS, Task  # noqa: E402

from clicksend_mcp.assembly import load_tools  # noqa: E402
from fake_clicksend import FakeClickSend  # noqa: E402


async def attempt(task: Task, tools: dict, discovery: bool) -> str:
    fake = FakeClickSend()
    if task.setup:
        task.setup(fake)
    settings = {"toolsets": "all"} if discovery else {}
    calls = 0
    try:
        async with session(tools, fake, discovery=discovery, **settings) as agent:
            try:
                await task.run(agent, fake)
            finally:
                calls = agent.calls
    except BaseException as exc:  # a report, not a test: say why and go on
        while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]
        reason = str(exc).splitlines()[0][:70] if str(exc) else type(exc).__name__
        return f"failed after {calls}: {reason}"
    return str(calls)


async def main() -> None:
    tools = load_tools()
    print("| task | default selection | discovery mode |\n|---|---|---|")
    totals = [0, 0]
    for task in TASKS:
        cells = [await attempt(task, tools, False), await attempt(task, tools, True)]
        for i, cell in enumerate(cells):
            totals[i] += int(cell) if cell.isdigit() else 0
        print(f"| {task.name} | {cells[0]} | {cells[1]} |")
    print(f"| total (tasks done) | {totals[0]} | {totals[1]} |")


if __name__ == "__main__":
    anyio.run(main)
