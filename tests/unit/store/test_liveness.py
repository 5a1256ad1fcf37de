"""Owner liveness with real processes: a run whose owner exited becomes interrupted."""

from __future__ import annotations

import os
import subprocess
import sys

from kfjupyter.store import RunStore, RunUpdate, StepRecord, current_owner, pid_alive

from .helpers import make_run


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(_dead_pid())
    assert not pid_alive(0) and not pid_alive(-1)


def test_current_owner() -> None:
    pid, host = current_owner()
    assert pid == os.getpid() and host


def test_run_of_exited_process_is_interrupted(store: RunStore) -> None:
    pid, host = current_owner()
    dead = _dead_pid()
    orphan = store.create_run(make_run(id="orphan", owner_pid=dead, owner_host=host))
    store.update_run(orphan.id, RunUpdate(status="running"))
    store.upsert_step(StepRecord(run_id=orphan.id, name="train", status="running", attempt=1))
    store.create_run(make_run(id="mine", owner_pid=pid, owner_host=host, status="running"))
    assert store.mark_interrupted() == ["orphan"]
    assert store.get_run("orphan").status == "interrupted"
    assert store.get_steps("orphan")[0].status == "interrupted"
    assert store.get_run("mine").status == "running"
    assert store.mark_interrupted() == []
