"""A training job started through :mod:`kfjupyter.runs` lives in the caller's store, never the default one.

The default store is ``$KFJUPYTER_HOME`` (the ``home`` fixture); the caller's is another folder.
Starting, following, cancelling and re-running a local script job through the run operations
must all find the job in the caller's store.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfjupyter.runs.backend import Rerun, RunContext, ScriptStart
from kfjupyter.runs.operations import cancel_run, rerun_run, run_status, start_run
from kfjupyter.runs.training import cancel_job
from kfjupyter.store import RunRecord, RunStore, open_store
from kfjupyter.store.models import ACTIVE_RUN_STATUSES

from .conftest import gone

pytestmark = pytest.mark.integration


@pytest.fixture
def elsewhere(tmp_path: Path, store: RunStore) -> Iterator[RunStore]:
    """A store that is not the default one; no job of it leaves a process behind."""
    with open_store(tmp_path / "elsewhere") as other:
        yield other
        for run in other.list_runs(kind="training", limit=100):
            assert run.owner_pid is None or gone(run.owner_pid), f"job {run.name} left its supervisor"


def _ended(ctx: RunContext, run_id: str, within: float = 60.0) -> RunRecord:
    deadline = time.monotonic() + within
    while True:
        run = run_status(ctx, run_id)
        if run.status not in ACTIVE_RUN_STATUSES or time.monotonic() > deadline:
            return run
        time.sleep(0.1)


def test_a_script_job_runs_and_runs_again_in_the_callers_store(
    tmp_path: Path, home: Path, store: RunStore, elsewhere: RunStore
) -> None:
    script = tmp_path / "fit.py"
    script.write_text("import sys\nprint('args', sys.argv[1:])\nprint('loss=0.25')\n")
    ctx = RunContext(elsewhere)
    run = start_run(ctx, ScriptStart(script, args=["--epochs", "2"], target="local")).wait()
    assert (run.kind, run.backend) == ("training", "local")
    assert (tmp_path / "elsewhere" / "runs" / run.id / "launch.json").is_file()

    done = _ended(ctx, run.id)
    assert done.status == "succeeded", done.error
    assert "args ['--epochs', '2']" in elsewhere.read_log(run.id, "rank-0").text
    assert [(m.name, m.value) for m in elsewhere.list_metrics(run.id)] == [("loss", 0.25)]

    again = rerun_run(ctx, run.id, Rerun()).wait()
    assert again.id != run.id and _ended(ctx, again.id).status == "succeeded"
    assert {r.id for r in elsewhere.list_runs()} == {run.id, again.id}
    assert store.list_runs() == [] and not (home / "runs" / run.id).exists()


def test_cancelling_through_the_core_stops_the_job_of_the_callers_store(
    tmp_path: Path, store: RunStore, elsewhere: RunStore
) -> None:
    script = tmp_path / "slow.py"
    script.write_text("import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    ctx = RunContext(elsewhere)
    first = start_run(ctx, ScriptStart(script, target="local")).wait()
    second = start_run(ctx, ScriptStart(script, target="local", name="second")).wait()
    for run in (first, second):
        deadline = time.monotonic() + 30
        while run_status(ctx, run.id).status != "running" and time.monotonic() < deadline:
            time.sleep(0.05)

    cancelled = cancel_run(ctx, first.id)
    assert cancelled.run.status == "cancelled" and elsewhere.get_run(first.id).status == "cancelled"
    assert cancel_job(elsewhere, "second").status == "Failed"  # by name, as the REST API cancels
    assert elsewhere.get_run(second.id).status == "cancelled"
    assert store.list_runs() == []
