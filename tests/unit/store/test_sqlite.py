"""SQLite specifics: file layout, WAL, persistence, clear errors for bad files, threads, speed."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from kfjupyter.errors import Conflict, StorageFault, Unavailable
from kfjupyter.store import CacheEntry, EventRecord, RunUpdate, SqliteRunStore, default_home, open_store
from kfjupyter.store.migrations import load_migrations

from .helpers import make_run, make_steps


def test_layout_and_pragmas(sqlite_store: SqliteRunStore, tmp_path: Path) -> None:
    assert sqlite_store.db_path == tmp_path / "runs.db"
    assert sqlite_store.schema_version == len(load_migrations())
    conn = sqlite3.connect(sqlite_store.db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        rows = conn.execute("SELECT version, name FROM schema_version").fetchall()
    finally:
        conn.close()
    assert rows == [(m.version, m.name) for m in load_migrations()]


def test_data_survives_reopen(tmp_path: Path) -> None:
    with SqliteRunStore(tmp_path) as first:
        run = first.create_run(make_run(parameters={"x": [1, 2.5, None]}))
        first.upsert_steps(make_steps(run.id, 3))
    with SqliteRunStore(tmp_path) as second:
        assert second.get_run(run.id) == run
        assert [s.name for s in second.get_steps(run.id)] == ["s0", "s1", "s2"]


def test_open_store_uses_kfjupyter_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFJUPYTER_HOME", str(tmp_path / "home"))
    assert default_home() == tmp_path / "home"
    with open_store() as store:
        assert store.home == tmp_path / "home"
        assert (tmp_path / "home" / "runs.db").is_file()
    monkeypatch.delenv("KFJUPYTER_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_home() == tmp_path / "xdg" / "kfjupyter"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_home() == Path.home() / ".local" / "share" / "kfjupyter"


def _assert_one_clear_line(exc: pytest.ExceptionInfo[Exception], path: Path) -> None:
    message = str(exc.value)
    assert "\n" not in message
    assert str(path) in message
    assert exc.value.__cause__ is None
    assert exc.value.__context__ is None or exc.value.__suppress_context__  # no sqlite3 traceback shown


@pytest.mark.parametrize(
    "content", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 5000]
)
def test_corrupt_file_is_refused_clearly(tmp_path: Path, content: bytes) -> None:
    db = tmp_path / "runs.db"
    db.write_bytes(content)
    with pytest.raises(StorageFault) as exc:
        SqliteRunStore(tmp_path)
    _assert_one_clear_line(exc, db)
    assert "move it aside" in str(exc.value)
    assert db.read_bytes() == content


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "runs.db")
    conn.execute("CREATE TABLE something_else (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StorageFault, match="not a kfjupyter run store") as exc:
        SqliteRunStore(tmp_path)
    _assert_one_clear_line(exc, tmp_path / "runs.db")


def test_uncreatable_home_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StorageFault, match="KFJUPYTER_HOME"):
        SqliteRunStore(blocker / "home")


def test_database_path_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "runs.db").mkdir()
    with pytest.raises(StorageFault, match="Cannot open run store") as exc:
        SqliteRunStore(tmp_path)
    _assert_one_clear_line(exc, tmp_path / "runs.db")


def test_locked_store_is_unavailable(tmp_path: Path) -> None:
    with SqliteRunStore(tmp_path, timeout=0.05) as store:
        run = store.create_run(make_run())
        other = sqlite3.connect(store.db_path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(Unavailable, match="busy") as exc:
                store.update_run(run.id, RunUpdate(status="running"))
            assert exc.value.temporary
            assert store.get_run(run.id).status == "pending"  # reads still work under a writer
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert store.update_run(run.id, RunUpdate(status="running")).status == "running"


def test_closed_store_says_so(tmp_path: Path) -> None:
    store = SqliteRunStore(tmp_path)
    store.close()
    with pytest.raises(Conflict, match="closed"):
        store.list_runs()


def test_threads_share_one_store(sqlite_store: SqliteRunStore) -> None:
    run = sqlite_store.create_run(make_run())
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                sqlite_store.add_event(EventRecord(run_id=run.id, type="tick", payload={"t": n, "i": i}))
                sqlite_store.list_events(run.id)
        except BaseException as exc:  # collected and re-raised by the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    events = sqlite_store.list_events(run.id)
    assert len(events) == 160
    assert [e.id for e in events] == sorted(e.id for e in events)


def _hot_path(store: SqliteRunStore) -> float:
    start = time.perf_counter()
    run = store.create_run(make_run())
    for step in make_steps(run.id, 10):
        store.upsert_step(step)
    for i in range(10):
        store.get_cache(f"key-{i}")
    return time.perf_counter() - start


def test_runner_hot_path_is_fast(sqlite_store: SqliteRunStore) -> None:
    """Create a run, upsert 10 steps one by one and look up 10 cache keys: well under 20 ms."""
    run = sqlite_store.create_run(make_run())
    for i in range(10):
        sqlite_store.put_cache(CacheEntry(cache_key=f"key-{i}", run_id=run.id, step=f"s{i}"))
    best = min(_hot_path(sqlite_store) for _ in range(5))
    assert best < 0.010, f"hot path took {best * 1000:.1f} ms"
