"""Cancel and liveness of local runs over REST, on a server started the way scripts start one.

The server runs with SIGINT ignored (``trap '' INT``, as a background job of a script), which
every process it starts inherits: cancelling a run must still stop it. A run whose driving
process died must read ``interrupted``, not ``running`` for ever.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kfjupyter.server.models import RunDetail, RunList
from tests.support.jupyter import LabServer, running_lab
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import start_notebook_run, wait_for_end

pytestmark = pytest.mark.integration

SLEEPY = "import time\nprint('sleeping', flush=True)\ntime.sleep(300)"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    with running_lab(tmp_path_factory.mktemp("lifecycle"), ignore_sigint=True) as server:
        write_notebook(server.root / "sleepy.ipynb", [cell(SLEEPY, "step:sleepy")])
        yield server


def call(lab: LabServer, path: str, method: str = "GET") -> tuple[int, Any]:
    return lab.request(f"/kfjupyter/api/{path}", token=lab.token, method=method)


def detail(lab: LabServer, run_id: str) -> RunDetail:
    status, body = call(lab, f"runs/{run_id}")
    assert status == 200, body
    return RunDetail.model_validate(body)


def wait_for(lab: LabServer, run_id: str, ok: Callable[[RunDetail], bool], timeout: float = 60) -> RunDetail:
    deadline = time.monotonic() + timeout
    while not ok(current := detail(lab, run_id)):
        assert time.monotonic() < deadline, current
        time.sleep(0.2)
    return current


def step_running(d: RunDetail) -> bool:
    return any(s.status == "running" for s in d.steps)


def owner_pid(lab: LabServer, run_id: str) -> int:
    from kfjupyter.store import open_store

    with open_store(lab.root.parent / "kfjupyter") as store:
        pid = store.get_run(run_id).owner_pid
    assert pid is not None
    return pid


def test_the_runs_driver_does_not_inherit_an_ignored_sigint(lab: LabServer) -> None:
    run_id = start_notebook_run(lab, "sleepy.ipynb")
    wait_for(lab, run_id, step_running)
    with open(f"/proc/{owner_pid(lab, run_id)}/status") as status:
        ignored = int(next(line for line in status if line.startswith("SigIgn:")).split()[1], 16)
    assert not ignored & (1 << (signal.SIGINT - 1))
    assert call(lab, f"runs/{run_id}/cancel", "POST")[0] == 202
    wait_for_end(lab, run_id, timeout=30)


def test_cancel_stops_a_run_even_when_the_server_ignores_sigint(lab: LabServer) -> None:
    run_id = start_notebook_run(lab, "sleepy.ipynb")
    wait_for(lab, run_id, step_running)
    status, body = call(lab, f"runs/{run_id}/cancel", "POST")
    assert status == 202, body
    ended = wait_for_end(lab, run_id, timeout=30)
    assert ended.run.status == "cancelled", ended
    assert ended.steps[0].status == "cancelled", ended.steps


def test_a_run_whose_driver_died_reads_interrupted(lab: LabServer) -> None:
    run_id = start_notebook_run(lab, "sleepy.ipynb")
    wait_for(lab, run_id, step_running)
    os.kill(owner_pid(lab, run_id), signal.SIGKILL)
    # No other request (no list, no cancel) marks it first: the detail itself must tell.
    ended = wait_for(lab, run_id, lambda d: d.run.status != "running", timeout=10)
    assert ended.run.status == "interrupted", ended
    assert "exited before it finished" in (ended.run.error or "")
    assert ended.steps[0].status == "interrupted", ended.steps


def test_the_runs_list_marks_a_dead_drivers_run_interrupted(lab: LabServer) -> None:
    run_id = start_notebook_run(lab, "sleepy.ipynb")
    wait_for(lab, run_id, step_running)
    os.kill(owner_pid(lab, run_id), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while True:
        status, body = call(lab, "runs?limit=200")
        assert status == 200, body
        listed = {r.id: r.status for r in RunList.model_validate(body).runs}
        if listed[run_id] != "running":
            break
        assert time.monotonic() < deadline, listed[run_id]
        time.sleep(0.2)
    assert listed[run_id] == "interrupted"
