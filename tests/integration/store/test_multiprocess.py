"""The SQLite store shared by real processes: readers and writers never wait on each other."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kfjupyter.store import EventRecord, RunRecord, SqliteRunStore
from kfjupyter.store.migrations import load_migrations

pytestmark = pytest.mark.integration

_WRITER = """
import sys, time
from pathlib import Path
from kfjupyter.store import EventRecord, SqliteRunStore, StepRecord
home, run_id, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with SqliteRunStore(home, timeout=float(sys.argv[4])) as store:
    for i in range(count):
        store.add_event(EventRecord(run_id=run_id, type="tick", payload={"i": i}))
        store.upsert_step(StepRecord(run_id=run_id, name=f"s{i % 10}", status="running", attempt=i))
"""


def _python(code: str, *args: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _finish(proc: subprocess.Popen[bytes], timeout: float = 60) -> bytes:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode()
    return out


def _new_run(home: Path, **fields: object) -> RunRecord:
    with SqliteRunStore(home) as store:
        return store.create_run(
            RunRecord.model_validate({"kind": "pipeline", "name": "mp", "backend": "local", **fields})
        )


def test_reads_while_another_process_writes(tmp_path: Path) -> None:
    run = _new_run(tmp_path)
    writer = _python(_WRITER, tmp_path, run.id, 400, 5.0)
    seen: list[int] = []
    slowest = 0.0
    with SqliteRunStore(tmp_path) as store:
        while writer.poll() is None:
            start = time.perf_counter()
            seen.append(len(store.list_events(run.id)))
            store.get_steps(run.id)
            slowest = max(slowest, time.perf_counter() - start)
        _finish(writer)
        assert len(store.list_events(run.id)) == 400
    assert seen == sorted(seen)
    assert slowest < 0.5


def test_open_reader_snapshot_does_not_block_writer(tmp_path: Path) -> None:
    run = _new_run(tmp_path)
    reader = sqlite3.connect(tmp_path / "runs.db", isolation_level=None)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT COUNT(*) FROM events").fetchone() == (0,)
        start = time.monotonic()
        _finish(_python(_WRITER, tmp_path, run.id, 50, 0.5))
        assert time.monotonic() - start < 30
        assert reader.execute("SELECT COUNT(*) FROM events").fetchone() == (0,)  # still its snapshot
        reader.execute("COMMIT")
        assert reader.execute("SELECT COUNT(*) FROM events").fetchone() == (50,)
    finally:
        reader.close()


def test_processes_racing_to_create_the_store(tmp_path: Path) -> None:
    code = """
    import sys
    from pathlib import Path
    from kfjupyter.store import RunRecord, SqliteRunStore
    with SqliteRunStore(Path(sys.argv[1])) as store:
        store.create_run(RunRecord(kind="pipeline", name="race", backend="local"))
    """
    procs = [_python(code, tmp_path) for _ in range(6)]
    for proc in procs:
        _finish(proc)
    with SqliteRunStore(tmp_path) as store:
        assert len(store.list_runs()) == 6
    conn = sqlite3.connect(tmp_path / "runs.db")
    try:
        versions = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        assert versions == [(m.version,) for m in load_migrations()]
    finally:
        conn.close()


def test_killed_owner_leaves_an_interrupted_run(tmp_path: Path) -> None:
    code = """
    import os, sys, time
    from pathlib import Path
    from kfjupyter.store import RunRecord, RunUpdate, SqliteRunStore, StepRecord, current_owner
    pid, host = current_owner()
    with SqliteRunStore(Path(sys.argv[1])) as store:
        run = store.create_run(RunRecord(kind="training", name="job", backend="local", owner_pid=pid, owner_host=host))
        store.update_run(run.id, RunUpdate(status="running"))
        store.upsert_step(StepRecord(run_id=run.id, name="train", status="running", attempt=1))
        print(run.id, flush=True)
        time.sleep(600)
    """
    owner = _python(code, tmp_path)
    assert owner.stdout is not None
    run_id = owner.stdout.readline().decode().strip()
    with SqliteRunStore(tmp_path) as store:
        assert store.mark_interrupted() == []
        os.kill(owner.pid, signal.SIGKILL)
        owner.communicate(timeout=30)
        assert store.mark_interrupted() == [run_id]
        run = store.get_run(run_id)
        assert run.status == "interrupted" and run.started_at is not None
        assert [s.status for s in store.get_steps(run_id)] == ["interrupted"]
        store.add_event(EventRecord(run_id=run_id, type="noted"))  # the store stays writable


def _write_from_fork(store: SqliteRunStore, run_id: str) -> None:
    store.add_event(EventRecord(run_id=run_id, type="from_child"))
    store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    with SqliteRunStore(tmp_path) as store:
        run = store.create_run(RunRecord(kind="pipeline", name="fork", backend="local"))
        store.list_runs()  # the parent's connection exists before the fork
        child = multiprocessing.get_context("fork").Process(target=_write_from_fork, args=(store, run.id))
        child.start()
        child.join(30)
        assert child.exitcode == 0
        assert [e.type for e in store.list_events(run.id)] == ["from_child"]
        store.add_event(EventRecord(run_id=run.id, type="from_parent"))
        assert len(store.list_events(run.id)) == 2
