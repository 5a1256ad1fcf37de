"""Numbered schema migrations of the SQLite run store, and the code that applies them.

Each migration is a file ``NNNN_<name>.sql`` in this package, applied once, in order, inside the
same write transaction that records it in the ``schema_version`` table. Never edit a released
migration: add the next number. A database whose version is newer than the newest file here was
written by a newer kfjupyter and is refused, never modified.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from kfjupyter.errors import StorageFault

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
)

_FOREIGN_TABLES = "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' LIMIT 1"


@dataclass(frozen=True)
class Migration:
    """One schema step: its number, a short name and the SQL statements to run."""

    version: int
    name: str
    sql: str


@functools.cache
def load_migrations() -> tuple[Migration, ...]:
    """Return the migrations shipped in this package, ordered by number (checked contiguous)."""
    found: list[Migration] = []
    for entry in resources.files(__package__).iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps: {[m.version for m in found]}")
    return tuple(found)


def split_statements(sql: str) -> list[str]:
    """Split a script into complete SQL statements (``executescript`` would commit midway)."""
    statements: list[str] = []
    current = ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip() and not current.strip().startswith("--"):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {current.strip()[:60]!r}")
    return statements


def current_version(conn: sqlite3.Connection) -> int:
    """Return the highest applied version, 0 for a database without a ``schema_version`` table."""
    row = conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_version'"
    ).fetchone()
    if row is None:
        return 0
    (version,) = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    return int(version)


def _apply(conn: sqlite3.Connection, db_path: str, step: Migration) -> None:
    try:
        for statement in split_statements(step.sql):
            conn.execute(statement)
    except sqlite3.OperationalError as exc:
        raise StorageFault(
            f"Could not upgrade run store {db_path} to schema version {step.version} ({step.name}): {exc}; "
            "the database was left unchanged.",
            detail=repr(exc),
            reason="store_migration_failed",
        ) from None


def too_new(db_path: str, found: int, known: int) -> StorageFault:
    """Return the error for a database written by a newer kfjupyter."""
    return StorageFault(
        f"Run store {db_path} has schema version {found}, but this kfjupyter knows only up to {known}; "
        "upgrade kfjupyter (pip install -U kfjupyter) or set KFJUPYTER_HOME to another directory.",
        reason="store_too_new",
    )


def migrate(conn: sqlite3.Connection, db_path: str, migrations: Sequence[Migration] | None = None) -> int:
    """Bring the database at ``db_path`` to the newest version and return that version.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Migrations run under
    ``BEGIN IMMEDIATE`` so two processes opening a new store at once apply each exactly once.
    Raises :class:`StorageFault` for a database from a newer release, leaving it untouched.
    """
    steps = load_migrations() if migrations is None else migrations
    latest = steps[-1].version if steps else 0
    version = current_version(conn)
    if version > latest:
        raise too_new(db_path, version, latest)
    if version == latest:
        return latest
    if version == 0 and conn.execute(_FOREIGN_TABLES).fetchone() is not None:
        raise StorageFault(
            f"{db_path} is an SQLite database but not a kfjupyter run store; "
            "move it aside or set KFJUPYTER_HOME to another directory.",
            reason="store_foreign",
        )
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = current_version(conn)
        if version > latest:
            raise too_new(db_path, version, latest)
        conn.execute(_VERSION_TABLE)
        for step in steps:
            if step.version > version:
                _apply(conn, db_path, step)
                conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (step.version, step.name, time.time()),
                )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return latest
