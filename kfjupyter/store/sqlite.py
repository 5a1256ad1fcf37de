"""SQLite run store: the :class:`RunStore` contract on one file, shared safely by many processes.

The database is ``<home>/runs.db`` (schema in :mod:`kfjupyter.store.migrations`), run files live in
``<home>/runs/<run_id>/``. WAL mode lets the UI and the CLI read while a runner process writes;
each write is one short ``BEGIN IMMEDIATE`` transaction, batched where the runner writes many rows
(:meth:`SqliteRunStore.upsert_steps`, :meth:`SqliteRunStore.add_metrics`). JSON is stored as TEXT.
A row damaged outside kfjupyter (bad JSON, a value out of range) is skipped by list reads and
logged; reading that one record raises :class:`~kfjupyter.errors.StorageFault`.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from kfjupyter.errors import Conflict, NotFound, StorageFault
from kfjupyter.store import files
from kfjupyter.store._sqlite_db import Database
from kfjupyter.store.base import STATUS_ORDER, AliveCheck, RunSort, RunStore, check_page
from kfjupyter.store.details import details_from_labels, details_to_labels
from kfjupyter.store.liveness import pid_alive, same_process, this_host
from kfjupyter.store.migrations import Migration
from kfjupyter.store.models import (
    ACTIVE_RUN_STATUSES,
    ArtifactRecord,
    CacheEntry,
    EventRecord,
    MetricRecord,
    RunKind,
    RunRecord,
    RunStatus,
    RunUpdate,
    StepRecord,
)
from kfjupyter.store.transitions import apply_run_update

_RUN_COLS = (
    "id, kind, name, notebook, backend, status, created_at, started_at, finished_at, "
    "parameters, error, owner_pid, owner_host, owner_start, external_id, labels"
)
_RUN_FIELDS = tuple(_RUN_COLS.split(", "))
_STEP_COLS = (
    "run_id, name, status, cached, attempt, started_at, finished_at, error, cache_key, exit_code, "
    "signal, upstream"
)
_STEP_FIELDS = tuple(_STEP_COLS.split(", "))
_ARTIFACT_COLS = "run_id, step, name, kind, path, media_type, size, sha256, preview, serializer, created_at"
_ARTIFACT_FIELDS = tuple(_ARTIFACT_COLS.split(", "))

_INSERT_RUN = f"INSERT INTO runs ({_RUN_COLS}) VALUES ({', '.join('?' * len(_RUN_FIELDS))})"  # noqa: S608
_UPDATE_RUN = (
    "UPDATE runs SET status=?, started_at=?, finished_at=?, error=?, owner_pid=?, owner_host=?, "
    "owner_start=?, external_id=?, labels=? WHERE id=?"
)
_SELECT_RUN = f"SELECT {_RUN_COLS} FROM runs WHERE id=?"  # noqa: S608
_LIST_RUNS = (
    f"SELECT {_RUN_COLS} FROM runs WHERE (?1 IS NULL OR kind=?1) AND (?2 IS NULL OR status=?2) "  # noqa: S608
    "AND (?5 IS NULL OR backend=?5) AND (?6 IS NULL OR notebook=?6) AND (?7 IS NULL OR "
    r"name LIKE ?7 ESCAPE '\' OR notebook LIKE ?7 ESCAPE '\' OR id LIKE ?7 ESCAPE '\') "
)
_SQL_INT_MAX = 2**63 - 1
_NEWEST = "created_at DESC, id DESC"  # the order of index runs_by_created (0001)
_DURATION = "MAX(0.0, finished_at - started_at)"  # NULL unless both are set, like run_duration
_STATUS_RANK = " ".join(f"WHEN '{status}' THEN {rank}" for rank, status in enumerate(STATUS_ORDER))
#: ``ORDER BY`` of each :data:`RunSort`, as :func:`kfjupyter.store.base.sort_runs` defines it.
_ORDER_BY: dict[RunSort, str] = {
    "newest": _NEWEST,
    "oldest": "created_at ASC, id ASC",  # runs_by_created, read backwards
    "name": f"name COLLATE NOCASE ASC, {_NEWEST}",  # NOCASE folds ASCII only, like sort_runs
    "status": f"CASE status {_STATUS_RANK} END ASC, {_NEWEST}",
    "duration": f"{_DURATION} IS NULL, {_DURATION} DESC, {_NEWEST}",
}
_LIST_RUNS_BY = {sort: f"{_LIST_RUNS}ORDER BY {by} LIMIT ?3 OFFSET ?4" for sort, by in _ORDER_BY.items()}
_UPSERT_STEP = (
    f"INSERT INTO steps ({_STEP_COLS}) VALUES ({', '.join('?' * len(_STEP_FIELDS))}) "  # noqa: S608
    "ON CONFLICT (run_id, name) DO UPDATE SET status=excluded.status, cached=excluded.cached, "
    "attempt=excluded.attempt, started_at=excluded.started_at, finished_at=excluded.finished_at, "
    "error=excluded.error, cache_key=excluded.cache_key, exit_code=excluded.exit_code, "
    "signal=excluded.signal, upstream=excluded.upstream"
)
_SELECT_STEPS = f"SELECT {_STEP_COLS} FROM steps WHERE run_id=? ORDER BY rowid"  # noqa: S608
_LIST_EVENTS = (
    "SELECT id, run_id, step, ts, type, payload FROM events "
    "WHERE id > ?1 AND (?2 IS NULL OR run_id=?2) ORDER BY id LIMIT ?3"
)
_LIST_METRICS = (
    "SELECT run_id, step, name, value, idx, ts FROM metrics "
    "WHERE run_id=?1 AND (?2 IS NULL OR name=?2) ORDER BY name, idx, id"
)
_PUT_ARTIFACT = (
    f"INSERT OR REPLACE INTO artifacts ({_ARTIFACT_COLS}) "  # noqa: S608
    f"VALUES ({', '.join('?' * len(_ARTIFACT_FIELDS))})"
)
_LIST_ARTIFACTS = (
    f"SELECT {_ARTIFACT_COLS} FROM artifacts WHERE run_id=?1 AND (?2 IS NULL OR step=?2) "  # noqa: S608
    "ORDER BY step, name"
)
_GET_ARTIFACT = f"SELECT {_ARTIFACT_COLS} FROM artifacts WHERE run_id=? AND step=? AND name=?"  # noqa: S608


_log = logging.getLogger(__name__)
R = TypeVar("R")
#: What a damaged row raises while it is read: bad JSON, a NULL, a value its model refuses.
_DAMAGED = (ValueError, TypeError)


def _parsed(rows: Iterable[Sequence[Any]], parse: Callable[[Sequence[Any]], R], what: str) -> list[R]:
    """``parse`` of every row; a damaged row is logged and skipped, so one bad row hides only itself."""
    out: list[R] = []
    for row in rows:
        try:
            out.append(parse(row))
        except _DAMAGED as exc:
            _log.warning("kfjupyter run store: skipped a damaged %s row %r: %s", what, tuple(row[:3]), exc)
    return out


def _damaged(what: str, exc: Exception) -> StorageFault:
    return StorageFault(
        f"The {what} in the run store is damaged and cannot be read ({str(exc).splitlines()[0]}); "
        "delete it or restore the store from a backup.",
        detail=repr(exc),
        reason="store_damaged_row",
    )


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _run_from_row(row: Sequence[Any]) -> RunRecord:
    data = dict(zip(_RUN_FIELDS, row, strict=True))
    data["parameters"] = json.loads(data["parameters"])
    data["details"] = details_from_labels(data["backend"], json.loads(data.pop("labels")))
    return RunRecord.model_validate(data)


def _step_from_row(row: Sequence[Any]) -> StepRecord:
    data = dict(zip(_STEP_FIELDS, row, strict=True))
    data["cached"] = bool(data["cached"])
    data["upstream"] = json.loads(data["upstream"])
    return StepRecord.model_validate(data)


def _artifact_from_row(row: Sequence[Any]) -> ArtifactRecord:
    data = dict(zip(_ARTIFACT_FIELDS, row, strict=True))
    data["preview"] = json.loads(data["preview"])
    return ArtifactRecord.model_validate(data)


def _not_found(run_id: str) -> NotFound:
    return NotFound(f"Run {run_id} does not exist.", reason="run_not_found")


class SqliteRunStore(RunStore):
    """A :class:`RunStore` in ``<home>/runs.db``, safe to share between threads and processes."""

    def __init__(
        self, home: Path, *, timeout: float = 5.0, migrations: Sequence[Migration] | None = None
    ) -> None:
        """Open or create the store under ``home``; ``timeout`` is how long to wait for a lock."""
        super().__init__(home)
        self._db = Database(home / "runs.db", timeout=timeout, migrations=migrations)

    @property
    def db_path(self) -> Path:
        """The SQLite database file."""
        return self._db.path

    @property
    def schema_version(self) -> int:
        """Schema version of the database (the newest migration applied)."""
        return self._db.version

    def _require_runs(self, conn: sqlite3.Connection, run_ids: Iterable[str]) -> None:
        for run_id in dict.fromkeys(run_ids):
            if conn.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone() is None:
                raise _not_found(run_id)

    def _get(self, conn: sqlite3.Connection, run_id: str) -> RunRecord:
        row = conn.execute(_SELECT_RUN, (run_id,)).fetchone()
        if row is None:
            raise _not_found(run_id)
        try:
            return _run_from_row(row)
        except _DAMAGED as exc:
            raise _damaged(f"record of run {run_id}", exc) from None

    def _write_run(self, conn: sqlite3.Connection, run: RunRecord) -> None:
        conn.execute(
            _UPDATE_RUN,
            (
                run.status,
                run.started_at,
                run.finished_at,
                run.error,
                run.owner_pid,
                run.owner_host,
                run.owner_start,
                run.external_id,
                _dumps(details_to_labels(run.details)),
                run.id,
            ),
        )

    def create_run(self, run: RunRecord) -> RunRecord:
        """Store a new run and return it; raise ``Conflict`` if the id is taken."""
        values = [getattr(run, field, None) for field in _RUN_FIELDS]
        values[_RUN_FIELDS.index("backend")] = run.backend.value
        values[_RUN_FIELDS.index("parameters")] = _dumps(run.parameters)
        values[_RUN_FIELDS.index("labels")] = _dumps(details_to_labels(run.details))
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE id=?", (run.id,)).fetchone() is not None:
                raise Conflict(f"Run {run.id} already exists.", reason="run_exists")
            conn.execute(_INSERT_RUN, values)
        return run

    def update_run(self, run_id: str, update: RunUpdate) -> RunRecord:
        """Apply ``update`` atomically and return the new record."""
        with self._db.write() as conn:
            new = apply_run_update(self._get(conn, run_id), update, time.time())
            self._write_run(conn, new)
        return new

    def get_run(self, run_id: str) -> RunRecord:
        """Return one run; raise ``NotFound`` if there is none with this id."""
        with self._db.read() as conn:
            return self._get(conn, run_id)

    def list_runs(
        self,
        *,
        kind: RunKind | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
        offset: int = 0,
        q: str | None = None,
        backend: str | None = None,
        notebook: str | None = None,
        sort: RunSort = "newest",
    ) -> list[RunRecord]:
        """Return one page of runs, filtered and sorted as :meth:`RunStore.list_runs` says (``q``: LIKE)."""
        check_page(limit, offset, sort, q)
        like = None if not q else "%" + re.sub(r"([\\%_])", r"\\\1", q) + "%"
        # SQLite integers have 64 bits; no store holds more rows, so a larger page is the same page.
        limit, offset = min(limit, _SQL_INT_MAX), min(offset, _SQL_INT_MAX)
        params = (kind, status, limit, offset, backend, notebook, like)
        with self._db.read() as conn:
            rows = conn.execute(_LIST_RUNS_BY[sort], params).fetchall()
        return _parsed(rows, _run_from_row, "run")

    def delete_run(self, run_id: str) -> None:
        """Delete a run with everything recorded about it (rows cascade) and its files."""
        with self._db.write() as conn:
            run = self._get(conn, run_id)
            if run.status in ACTIVE_RUN_STATUSES:
                raise Conflict(
                    f"Run {run_id} is {run.status}; cancel it before deleting.", reason="run_active"
                )
            conn.execute("DELETE FROM runs WHERE id=?", (run_id,))
        files.remove_run_dir(self.home, run_id)

    def mark_interrupted(self, alive: AliveCheck | None = None) -> list[str]:
        """Mark runs whose local owner process is dead ``interrupted``; return their ids."""
        check = alive or pid_alive
        host = this_host()
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT id, owner_pid, owner_host, owner_start FROM runs "
                "WHERE status IN ('pending', 'running') AND owner_pid IS NOT NULL"
            ).fetchall()
        dead = {
            rid: (pid, start)
            for rid, pid, owner, start in rows
            if owner in (None, host) and not (check(pid) and same_process(pid, start))
        }
        marked: list[str] = []
        if not dead:
            return marked
        now = time.time()
        with self._db.write() as conn:
            for run_id, (pid, start) in sorted(dead.items()):
                row = conn.execute(_SELECT_RUN, (run_id,)).fetchone()
                found = _parsed([row] if row is not None else [], _run_from_row, "run")
                run = found[0] if found else None
                if (
                    run is None
                    or run.status not in ACTIVE_RUN_STATUSES
                    or (run.owner_pid, run.owner_start) != (pid, start)
                ):
                    continue  # deleted, finished or resumed by another process meanwhile
                error = f"The process driving this run (pid {pid}) exited before it finished."
                self._write_run(
                    conn, apply_run_update(run, RunUpdate(status="interrupted", error=error), now)
                )
                conn.execute(
                    "UPDATE steps SET status='interrupted', finished_at=?1 "
                    "WHERE run_id=?2 AND status='running'",
                    (now, run_id),
                )
                marked.append(run_id)
        return marked

    def upsert_steps(self, steps: Sequence[StepRecord]) -> None:
        """Insert or replace steps (keyed by run id and name) in one transaction."""
        if not steps:
            return
        rows = [
            (
                s.run_id,
                s.name,
                s.status,
                int(s.cached),
                s.attempt,
                s.started_at,
                s.finished_at,
                s.error,
                s.cache_key,
                s.exit_code,
                s.signal,
                _dumps(s.upstream),
            )
            for s in steps
        ]
        with self._db.write() as conn:
            self._require_runs(conn, (s.run_id for s in steps))
            conn.executemany(_UPSERT_STEP, rows)

    def get_steps(self, run_id: str) -> list[StepRecord]:
        """Return a run's steps in the order they were first stored."""
        with self._db.read() as conn:
            rows = conn.execute(_SELECT_STEPS, (run_id,)).fetchall()
            if not rows:
                self._require_runs(conn, [run_id])
        return _parsed(rows, _step_from_row, "step")

    def add_event(self, event: EventRecord) -> EventRecord:
        """Store an event and return it with its new id."""
        with self._db.write() as conn:
            self._require_runs(conn, [event.run_id])
            cursor = conn.execute(
                "INSERT INTO events (run_id, step, ts, type, payload) VALUES (?, ?, ?, ?, ?)",
                (event.run_id, event.step, event.ts, event.type, _dumps(event.payload)),
            )
            event_id = cursor.lastrowid
        return event.model_copy(update={"id": event_id})

    def list_events(
        self, run_id: str | None = None, *, since_id: int = 0, limit: int | None = None
    ) -> list[EventRecord]:
        """Return events with ``id > since_id`` in id order, of one run or of all runs."""
        check_page(limit)
        with self._db.read() as conn:
            page = -1 if limit is None else min(limit, _SQL_INT_MAX)
            rows = conn.execute(_LIST_EVENTS, (min(since_id, _SQL_INT_MAX), run_id, page)).fetchall()
        return _parsed(
            rows,
            lambda row: EventRecord(
                id=row[0], run_id=row[1], step=row[2], ts=row[3], type=row[4], payload=json.loads(row[5])
            ),
            "event",
        )

    def add_metrics(self, metrics: Sequence[MetricRecord]) -> None:
        """Append metric values in one transaction (NaN is stored as NULL and read back as NaN)."""
        if not metrics:
            return
        rows = [
            (m.run_id, m.step, m.name, None if math.isnan(m.value) else m.value, m.index, m.ts)
            for m in metrics
        ]
        with self._db.write() as conn:
            self._require_runs(conn, (m.run_id for m in metrics))
            conn.executemany(
                "INSERT INTO metrics (run_id, step, name, value, idx, ts) VALUES (?, ?, ?, ?, ?, ?)", rows
            )

    def list_metrics(self, run_id: str, name: str | None = None) -> list[MetricRecord]:
        """Return every stored value, ordered by name, index, then order written."""
        with self._db.read() as conn:
            rows = conn.execute(_LIST_METRICS, (run_id, name)).fetchall()
            if not rows:
                self._require_runs(conn, [run_id])
        return _parsed(
            rows,
            lambda row: MetricRecord(
                run_id=row[0],
                step=row[1],
                name=row[2],
                value=math.nan if row[3] is None else row[3],
                index=row[4],
                ts=row[5],
            ),
            "metric",
        )

    def add_artifact(self, artifact: ArtifactRecord) -> None:
        """Store an artifact, replacing one with the same run, step and name."""
        values = [getattr(artifact, field) for field in _ARTIFACT_FIELDS]
        values[_ARTIFACT_FIELDS.index("preview")] = _dumps(artifact.preview)
        with self._db.write() as conn:
            self._require_runs(conn, [artifact.run_id])
            conn.execute(_PUT_ARTIFACT, values)

    def list_artifacts(self, run_id: str, step: str | None = None) -> list[ArtifactRecord]:
        """Return a run's artifacts (of one step if given), ordered by step then name."""
        with self._db.read() as conn:
            rows = conn.execute(_LIST_ARTIFACTS, (run_id, step)).fetchall()
            if not rows:
                self._require_runs(conn, [run_id])
        return _parsed(rows, _artifact_from_row, "artifact")

    def get_artifact(self, run_id: str, step: str, name: str) -> ArtifactRecord:
        """Return one artifact; raise ``NotFound`` if there is none."""
        with self._db.read() as conn:
            row = conn.execute(_GET_ARTIFACT, (run_id, step, name)).fetchone()
            if row is None:
                self._require_runs(conn, [run_id])
                raise NotFound(
                    f"Run {run_id} has no artifact {name!r} from step {step!r}.", reason="artifact_not_found"
                )
        try:
            return _artifact_from_row(row)
        except _DAMAGED as exc:
            raise _damaged(f"record of artifact {name!r} of run {run_id}", exc) from None

    def put_cache(self, entry: CacheEntry) -> None:
        """Store a cache entry, replacing any with the same key."""
        outputs = _dumps([o.model_dump() for o in entry.outputs])
        reads = None if entry.reads is None else _dumps([r.model_dump() for r in entry.reads])
        with self._db.write() as conn:
            self._require_runs(conn, [entry.run_id])
            conn.execute(
                "INSERT OR REPLACE INTO cache (cache_key, run_id, step, created_at, outputs, reads) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (entry.cache_key, entry.run_id, entry.step, entry.created_at, outputs, reads),
            )

    def get_cache(self, cache_key: str) -> CacheEntry | None:
        """Return the entry for ``cache_key``, or ``None``."""
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT cache_key, run_id, step, created_at, outputs, reads FROM cache WHERE cache_key=?",
                (cache_key,),
            ).fetchone()
        if row is None:
            return None
        key, run_id, step, created_at, outputs, reads = row
        return CacheEntry(
            cache_key=key,
            run_id=run_id,
            step=step,
            created_at=created_at,
            outputs=json.loads(outputs),
            reads=None if reads is None else json.loads(reads),
        )

    def close(self) -> None:
        """Close every connection this store opened."""
        self._db.close()
