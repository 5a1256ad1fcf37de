"""A run whose owner pid now names an unrelated live process: it counts as dead and is never signalled."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfjupyter.errors import Conflict
from kfjupyter.runs.local_cancel import cancel_local_run
from kfjupyter.store import RunRecord, RunStore, SqliteRunStore
from kfjupyter.store.liveness import owner_alive, process_start, this_host
from kfjupyter.training.backends.local import LocalBackend
from kfjupyter.training.supervisor import WORKERS_FILE, worker_entries

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc"),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with SqliteRunStore(tmp_path) as impl:
        yield impl


@pytest.fixture
def unrelated() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that has nothing to do with any run (its pid plays a reused pid)."""
    proc = subprocess.Popen(["sleep", "30"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _claim(store: RunStore, pid: int, start: str | None, *, kind: str = "pipeline") -> RunRecord:
    return store.create_run(
        RunRecord.model_validate(
            {
                "kind": kind,
                "name": "reused",
                "backend": "local",
                "status": "running",
                "owner_pid": pid,
                "owner_host": this_host(),
                "owner_start": start,
            }
        )
    )


def _wrong_start(pid: int) -> str:
    start = process_start(pid)
    assert start is not None
    ticks, boot = start.split("@", 1)
    return f"{int(ticks) - 1}@{boot}"  # the process that had this pid before


def test_liveness_takes_a_reused_pid_for_dead(store: RunStore, unrelated: subprocess.Popen[bytes]) -> None:
    run = _claim(store, unrelated.pid, _wrong_start(unrelated.pid))
    assert not owner_alive(unrelated.pid, run.owner_start)
    assert store.mark_interrupted() == [run.id]
    assert store.get_run(run.id).status == "interrupted"
    assert unrelated.poll() is None


def test_cancel_refuses_to_signal_a_reused_pid(store: RunStore, unrelated: subprocess.Popen[bytes]) -> None:
    run = _claim(store, unrelated.pid, _wrong_start(unrelated.pid))
    with pytest.raises(Conflict, match=f"the process of run {run.id} is gone"):
        cancel_local_run(store, run.id)
    assert store.get_run(run.id).status == "interrupted"
    with pytest.raises(subprocess.TimeoutExpired):
        unrelated.wait(timeout=0.5)  # not interrupted: still sleeping


def test_cancel_still_signals_the_recorded_process(
    store: RunStore, unrelated: subprocess.Popen[bytes]
) -> None:
    run = _claim(store, unrelated.pid, process_start(unrelated.pid))
    assert cancel_local_run(store, run.id) == unrelated.pid
    assert unrelated.wait(timeout=10) != 0  # SIGINT ended it


def test_cancel_without_a_recorded_start_time_behaves_as_before(
    store: RunStore, unrelated: subprocess.Popen[bytes]
) -> None:
    run = _claim(store, unrelated.pid, None)
    assert cancel_local_run(store, run.id) == unrelated.pid
    assert unrelated.wait(timeout=10) != 0


def test_a_training_job_with_a_reused_supervisor_pid_is_over_and_not_signalled(
    store: RunStore, unrelated: subprocess.Popen[bytes]
) -> None:
    run = _claim(store, unrelated.pid, _wrong_start(unrelated.pid), kind="training")
    backend = LocalBackend(store)
    job = backend.get_job(run.id)
    assert (job.status, job.reason) == ("Failed", "Interrupted")
    assert backend.cancel(run.id).finished
    with pytest.raises(subprocess.TimeoutExpired):
        unrelated.wait(timeout=0.5)


@pytest.fixture
def group_leader() -> Iterator[subprocess.Popen[bytes]]:
    """A live process leading its own process group, as a training rank does."""
    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _workers(store: RunStore, run_id: str, entries: object) -> None:
    store.run_dir(run_id, create=True).joinpath(WORKERS_FILE).write_text(json.dumps(entries))


def test_a_dead_jobs_reused_worker_pid_is_not_signalled(
    store: RunStore, unrelated: subprocess.Popen[bytes], group_leader: subprocess.Popen[bytes]
) -> None:
    # The job's supervisor is gone and so is its rank; the rank's pid now names another process.
    run = _claim(store, unrelated.pid, _wrong_start(unrelated.pid), kind="training")
    _workers(store, run.id, [{"pid": group_leader.pid, "start": _wrong_start(group_leader.pid)}])
    assert LocalBackend(store).get_job(run.id).finished
    with pytest.raises(subprocess.TimeoutExpired):
        group_leader.wait(timeout=0.5)  # not killed: still sleeping


def test_a_dead_jobs_own_orphaned_worker_is_killed(
    store: RunStore, unrelated: subprocess.Popen[bytes], group_leader: subprocess.Popen[bytes]
) -> None:
    run = _claim(store, unrelated.pid, _wrong_start(unrelated.pid), kind="training")
    _workers(store, run.id, [{"pid": group_leader.pid, "start": process_start(group_leader.pid)}])
    assert LocalBackend(store).get_job(run.id).finished
    assert group_leader.wait(timeout=10) == -9


def test_the_supervisor_records_each_worker_with_its_start_time(tmp_path: Path) -> None:
    assert worker_entries([os.getpid()]) == [{"pid": os.getpid(), "start": process_start(os.getpid())}]
