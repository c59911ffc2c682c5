"""A process that ends at once (flows/commands/common.py ``end_at_once_when_done``, as `xxgk run --prefect` and the
benchmark's run do) still delivers everything of its Prefect flow run: every log line, the task runs' final states,
the artifacts, an event emitted last; and a buffered logging handler is written out. Only the interpreter's teardown is
skipped."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import atexit, logging, logging.handlers, os, sys

    atexit.register(os.mkdir, sys.argv[1])  # registered before: runs after the handler that ends the process
    from flows.commands.common import done, end_at_once_when_done

    end_at_once_when_done()
    from prefect import flow, get_run_logger, task
    from prefect.artifacts import create_markdown_artifact

    buffered = logging.handlers.MemoryHandler(capacity=1000, target=logging.FileHandler(sys.argv[2]))
    logging.getLogger("xxgk.exit-test").addHandler(buffered)

    @task(name="last-step")
    def last_step():
        get_run_logger().info("the task's own line")

    @flow(name="xxgk-exit-test")
    def one_run():
        last_step()
        create_markdown_artifact(markdown="# the run's artifact", key="xxgk-exit-test")
        get_run_logger().info("the flow's last line")

    state = one_run(return_state=True)
    run_id = str(state.state_details.flow_run_id)
    print(run_id, flush=True)
    from prefect.events import emit_event

    emit_event(event="xxgk.exit-test.ended", resource={"prefect.resource.id": "xxgk.exit-test." + run_id})
    logging.getLogger("xxgk.exit-test").warning("written by logging.shutdown")
    if sys.argv[3] == "at-once":
        done(0)
""")


async def _seen(flow_run_id: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    async with get_client() as client:
        run = await client.read_flow_run(flow_run_id)
        tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        logs = await client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
        events = []
        for _ in range(60):  # the server stores the events it received a little later
            events = (await client.read_events(filter=EventFilter(
                event=EventNameFilter(name=["xxgk.exit-test.ended"]),
                resource=EventResourceFilter(id=[f"xxgk.exit-test.{flow_run_id}"])), limit=10)).events
            if events:
                break
            await asyncio.sleep(0.5)
    return run, tasks, [log.message for log in logs], [a.key for a in artifacts], events


@pytest.mark.parametrize("ending", ["at-once", "teardown"])
def test_a_run_that_ends_at_once_loses_nothing_the_ui_shows(prefect_harness, tmp_path, ending):
    from prefect.settings import PREFECT_API_URL

    script = tmp_path / "child.py"
    script.write_text(CHILD)
    marker, log_file = tmp_path / "teardown.txt", tmp_path / "log.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "XXGK_"))}
    env.update(PYTHONPATH=str(ROOT), PREFECT_API_URL=PREFECT_API_URL.value(), PREFECT_HOME=str(tmp_path / "prefect"),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    r = subprocess.run([sys.executable, str(script), str(marker), str(log_file), ending], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    assert marker.exists() == (ending == "teardown")  # at once: nothing after it ran
    assert "written by logging.shutdown" in log_file.read_text()  # a buffered handler is written out either way

    run, tasks, logs, artifacts, events = asyncio.run(_seen(r.stdout.split()[-1]))
    assert run.state.is_completed()
    assert [(t.name.rsplit("-", 1)[0], t.state.type.value) for t in tasks] == [("last-step", "COMPLETED")]
    for line in ("the task's own line", "the flow's last line"):
        assert line in logs
    assert logs.count("Finished in state Completed()") == 2  # the task's and the flow's, sent at exit
    assert artifacts == ["xxgk-exit-test"]
    assert len(events) == 1  # an event emitted just before the end: sent by Prefect's events worker at exit
