"""The task suite: twelve multi-step tasks, through the real MCP client against the sandbox, in the default
selection and in discovery mode over every tool; each succeeds, changes the sandbox as asked, and takes the
expected number of calls."""

from __future__ import annotations

import pytest
from agent import session
from tasks import TASKS, Task

from clicksend_mcp.compiler import CompiledTool
from fake_clicksend import FakeClickSend

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
async def test_the_task_succeeds_in_the_default_selection(
    task: Task, tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    if task.setup:
        task.setup(fake)
    async with session(tools, fake, discovery=False) as agent:
        await task.run(agent, fake)
    assert agent.calls == task.calls


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
async def test_the_task_succeeds_in_discovery_mode(
    task: Task, tools: dict[str, CompiledTool], fake: FakeClickSend
) -> None:
    if task.setup:
        task.setup(fake)
    async with session(tools, fake, discovery=True, toolsets="all") as agent:
        await task.run(agent, fake)
    assert agent.calls == task.discovery_calls
