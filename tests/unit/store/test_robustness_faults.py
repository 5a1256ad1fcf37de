"""Faults of the store itself are told apart from the caller's mistakes, and never lose data silently.

A corrupt or unopenable store is a ``StorageFault``, a full store an ``InsufficientStorage`` (real
SQLite ``SQLITE_FULL``, through ``max_page_count``), one damaged row hides only itself, and a
store file cut to 0 bytes is moved aside with a warning instead of silently becoming a new store.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from kfjupyter.errors import InsufficientStorage, StorageFault
from kfjupyter.store import ArtifactRecord, EventRecord, SqliteRunStore

from .helpers import make_run, make_steps


def test_a_corrupt_store_is_a_storage_fault(tmp_path: Path) -> None:
    (tmp_path / "runs.db").write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StorageFault) as exc:
        SqliteRunStore(tmp_path)
    assert exc.value.reason == "store_corrupt" and "move it aside" in exc.value.message


def test_a_full_store_is_insufficient_storage(tmp_path: Path) -> None:
    with SqliteRunStore(tmp_path) as store:
        run = store.create_run(make_run())
        conn = store._db.connection()
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        conn.execute(f"PRAGMA max_page_count={pages + 1}")  # SQLite's own "database or disk is full"
        with pytest.raises(InsufficientStorage) as exc:
            for i in range(200):
                store.add_event(EventRecord(run_id=run.id, type="log", payload={"i": i, "pad": "x" * 4000}))
        assert exc.value.temporary and exc.value.reason == "store_full"
        assert "disk is full" in exc.value.message and "runs.db" in exc.value.message
        assert store.get_run(run.id) == run  # reads still work


def _artifact(run_id: str, name: str) -> ArtifactRecord:
    return ArtifactRecord(run_id=run_id, step="s0", name=name, kind="value", path=f"runs/{run_id}/{name}")


def test_one_damaged_row_is_skipped_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with SqliteRunStore(tmp_path) as store:
        run = store.create_run(make_run())
        other = store.create_run(make_run())
        store.upsert_steps(make_steps(run.id, 2))
        for name in ("a", "b", "c"):
            store.add_artifact(_artifact(run.id, name))
        raw = sqlite3.connect(store.db_path)
        raw.execute("UPDATE artifacts SET preview='{not json' WHERE name='b'")
        raw.execute("UPDATE steps SET upstream='[1' WHERE name='s1'")
        raw.execute("UPDATE runs SET status='exploded' WHERE id=?", (other.id,))
        raw.commit()
        raw.close()
        with caplog.at_level(logging.WARNING, logger="kfjupyter.store"):
            assert [a.name for a in store.list_artifacts(run.id)] == ["a", "c"]
            assert [s.name for s in store.get_steps(run.id)] == ["s0"]
            assert [r.id for r in store.list_runs()] == [run.id]
        assert "damaged artifact row" in caplog.text and "damaged step row" in caplog.text
        with pytest.raises(StorageFault, match=f"record of run {other.id} in the run store is damaged"):
            store.get_run(other.id)
        with pytest.raises(StorageFault, match="record of artifact 'b'"):
            store.get_artifact(run.id, "s0", "b")


def test_a_store_cut_to_zero_bytes_is_kept_aside_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with SqliteRunStore(tmp_path) as store:
        store.create_run(make_run())
    db = tmp_path / "runs.db"
    db.write_bytes(b"")
    (tmp_path / "runs.db-wal").write_bytes(b"frames that may still hold runs")
    with caplog.at_level(logging.WARNING, logger="kfjupyter.store"), SqliteRunStore(tmp_path) as store:
        assert store.list_runs() == []
    (aside,) = tmp_path.glob("runs.db.empty-*[0-9]")
    assert aside.read_bytes() == b""
    assert Path(f"{aside}-wal").read_bytes() == b"frames that may still hold runs"
    assert "was empty (0 bytes)" in caplog.text and str(aside) in caplog.text
    assert db.stat().st_size > 0  # the new store


def test_a_new_store_sets_nothing_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="kfjupyter.store"):
        for _ in range(3):
            with SqliteRunStore(tmp_path) as store:
                store.create_run(make_run())
    assert list(tmp_path.glob("runs.db.empty-*")) == []
    assert caplog.text == ""
