"""Numbered migrations: shipped files are contiguous, old databases upgrade, future ones are refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kfjupyter.errors import StorageFault
from kfjupyter.store import RunUpdate, SqliteRunStore
from kfjupyter.store.migrations import Migration, current_version, load_migrations, split_statements

from .helpers import make_run

SHIPPED = len(load_migrations())
NEXT = SHIPPED + 1
ADD_PRIORITY = Migration(
    NEXT, "run_priority", "ALTER TABLE runs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;"
)


def _columns(db: Path, table: str) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


def test_shipped_migrations_are_numbered_from_one() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert migrations[0].name == "initial"
    for migration in migrations:
        assert split_statements(migration.sql)


def test_split_statements_handles_comments_and_quotes() -> None:
    sql = "-- header\nCREATE TABLE a (x TEXT DEFAULT ';');\n\nCREATE INDEX i ON a (x); -- trailing\n"
    assert split_statements(sql) == [
        "-- header\nCREATE TABLE a (x TEXT DEFAULT ';');",
        "CREATE INDEX i ON a (x); -- trailing",
    ]
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE b (x")


def test_old_database_is_upgraded_in_place(tmp_path: Path) -> None:
    shipped = list(load_migrations())
    with SqliteRunStore(tmp_path, migrations=shipped) as old:
        run = old.create_run(make_run(parameters={"a": 1}))
        assert old.schema_version == len(shipped)
    with SqliteRunStore(tmp_path, migrations=[*shipped, ADD_PRIORITY]) as new:
        assert new.schema_version == len(shipped) + 1
        assert new.get_run(run.id) == run
        assert new.update_run(run.id, RunUpdate(status="running")).status == "running"
    assert "priority" in _columns(tmp_path / "runs.db", "runs")
    conn = sqlite3.connect(tmp_path / "runs.db")
    try:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        assert versions == list(range(1, NEXT + 1))
    finally:
        conn.close()


def test_failed_migration_leaves_database_unchanged(tmp_path: Path) -> None:
    broken = Migration(
        NEXT, "broken", "ALTER TABLE runs ADD COLUMN z INTEGER;\nALTER TABLE nope ADD COLUMN y;"
    )
    with SqliteRunStore(tmp_path):
        pass
    with pytest.raises(
        StorageFault, match=rf"to schema version {NEXT} \(broken\): no such table: nope"
    ) as exc:
        SqliteRunStore(tmp_path, migrations=[*load_migrations(), broken])
    assert exc.value.reason == "store_migration_failed"
    assert "z" not in _columns(tmp_path / "runs.db", "runs")
    with SqliteRunStore(tmp_path) as store:
        assert store.schema_version == SHIPPED


def test_database_from_the_future_is_refused(tmp_path: Path) -> None:
    with SqliteRunStore(tmp_path, migrations=[*load_migrations(), ADD_PRIORITY]):
        pass
    before = (tmp_path / "runs.db").read_bytes()
    with pytest.raises(StorageFault) as exc:
        SqliteRunStore(tmp_path)
    message = str(exc.value)
    assert f"schema version {NEXT}" in message and f"only up to {SHIPPED}" in message
    assert str(tmp_path / "runs.db") in message and "upgrade kfjupyter" in message
    assert exc.value.reason == "store_too_new"
    conn = sqlite3.connect(tmp_path / "runs.db")
    try:
        assert current_version(conn) == NEXT
    finally:
        conn.close()
    assert (tmp_path / "runs.db").read_bytes() == before
