"""Owner start times: a pid reused by another process is not the run's owner."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kfjupyter.store import RunStore, RunUpdate, SqliteRunStore, current_owner
from kfjupyter.store.liveness import owner_alive, process_start, same_process
from kfjupyter.store.migrations import load_migrations

from .helpers import make_run

linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@linux_only
def test_start_time_of_this_process_is_stable() -> None:
    start = process_start(os.getpid())
    assert start is not None and re.fullmatch(r"\d+@[0-9a-f-]*", start)
    assert process_start(os.getpid()) == start
    assert same_process(os.getpid(), start) and owner_alive(os.getpid(), start)


@linux_only
def test_start_time_of_a_child_that_exited_is_unknown() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        start = process_start(child.pid)
        assert start is not None and start != "" and owner_alive(child.pid, start)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
    assert process_start(child.pid) is None
    assert not owner_alive(child.pid, start)


def test_unknown_start_times_fall_back_to_the_pid() -> None:
    assert same_process(os.getpid(), None)
    assert owner_alive(os.getpid(), None)
    assert process_start(0) is None and process_start(-1) is None
    assert not owner_alive(0, None)


@linux_only
def test_a_different_start_time_is_another_process() -> None:
    assert not same_process(os.getpid(), "1@not-this-boot")
    assert not owner_alive(os.getpid(), "1@not-this-boot")


@linux_only
def test_a_run_whose_pid_was_reused_is_interrupted(store: RunStore) -> None:
    pid, host = current_owner()
    start = process_start(pid)
    store.create_run(make_run(id="reused", owner_pid=pid, owner_host=host, owner_start="1@old-boot"))
    store.create_run(make_run(id="mine", owner_pid=pid, owner_host=host, owner_start=start))
    store.create_run(make_run(id="old-row", owner_pid=pid, owner_host=host))  # no start time recorded
    for run_id in ("reused", "mine", "old-row"):
        store.update_run(run_id, RunUpdate(status="running"))
    assert store.mark_interrupted() == ["reused"]
    assert store.get_run("reused").status == "interrupted"
    assert {store.get_run(r).status for r in ("mine", "old-row")} == {"running"}


def test_owner_start_round_trips_and_a_new_owner_clears_it(store: RunStore) -> None:
    run = store.create_run(make_run(owner_pid=10, owner_start="5@boot"))
    assert store.get_run(run.id).owner_start == "5@boot"
    claimed = store.update_run(run.id, RunUpdate(status="running", owner_pid=11, owner_start="7@boot"))
    assert (claimed.owner_pid, claimed.owner_start) == (11, "7@boot")
    assert store.get_run(run.id).owner_start == "7@boot"
    moved = store.update_run(run.id, RunUpdate(owner_pid=12))
    assert (moved.owner_pid, moved.owner_start) == (12, None)
    assert store.update_run(run.id, RunUpdate(error="x")).owner_start is None


def test_a_version_1_database_gains_the_owner_start_column(tmp_path: Path) -> None:
    with SqliteRunStore(tmp_path, migrations=load_migrations()[:1]) as old:
        assert old.schema_version == 1
    conn = sqlite3.connect(tmp_path / "runs.db")
    try:
        assert "owner_start" not in [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
        conn.execute(
            "INSERT INTO runs (id, kind, name, backend, status, created_at, owner_pid) "
            "VALUES ('old', 'pipeline', 'demo', 'local', 'running', 1.0, 4)"
        )
        conn.commit()
    finally:
        conn.close()
    with SqliteRunStore(tmp_path) as new:
        assert new.schema_version == len(load_migrations()) >= 2
        run = new.get_run("old")
        assert (run.owner_pid, run.owner_start, run.status) == (4, None, "running")
