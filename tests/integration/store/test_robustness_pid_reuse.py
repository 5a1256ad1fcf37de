"""A run whose owner pid now names an unrelated live process: it counts as dead and is never signalled."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfjupyter.errors import Conflict
from kfjupyter.server.cancel import cancel_local_run
from kfjupyter.store import RunRecord, RunStore, SqliteRunStore
from kfjupyter.store.liveness import owner_alive, process_start, this_host
from kfjupyter.training.backends.local import LocalBackend

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
