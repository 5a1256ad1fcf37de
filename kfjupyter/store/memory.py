"""In-memory run store: the :class:`RunStore` contract held in dicts, for tests and fakes.

It keeps nothing across processes or restarts. Records are immutable, so they are shared, not
copied. A lock makes it safe to use from several threads. Without a ``home`` the run files go to a
temporary directory created on first use and removed by :meth:`MemoryRunStore.close`.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from kfjupyter.errors import Conflict, NotFound
from kfjupyter.store import files
from kfjupyter.store.base import AliveCheck, RunSort, RunStore, check_page, matches_search, sort_runs
from kfjupyter.store.liveness import pid_alive, same_process, this_host
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


class MemoryRunStore(RunStore):
    """A :class:`RunStore` in process memory."""

    def __init__(self, home: Path | None = None) -> None:
        """Create an empty store; run files go under ``home`` (default: a private temp dir)."""
        super().__init__(home or Path(tempfile.gettempdir()))
        self._own_home = home is None
        self._home_made = False
        self._lock = threading.RLock()
        self._runs: dict[str, RunRecord] = {}
        self._steps: dict[str, dict[str, StepRecord]] = {}
        self._events: list[EventRecord] = []
        self._event_ids = itertools.count(1)
        self._metrics: dict[str, list[tuple[int, MetricRecord]]] = {}
        self._metric_seq = itertools.count()
        self._artifacts: dict[str, dict[tuple[str, str], ArtifactRecord]] = {}
        self._cache: dict[str, CacheEntry] = {}

    @property
    def home(self) -> Path:
        """Root directory of the store's files (a temp dir made on first use if none was given)."""
        with self._lock:
            if self._own_home and not self._home_made:
                self._home = Path(tempfile.mkdtemp(prefix="kfjupyter-memstore-"))
                self._home_made = True
            return self._home

    def _run(self, run_id: str) -> RunRecord:
        try:
            return self._runs[run_id]
        except KeyError:
            raise NotFound(f"Run {run_id} does not exist.", reason="run_not_found") from None

    def create_run(self, run: RunRecord) -> RunRecord:
        """Store a new run and return it; raise ``Conflict`` if the id is taken."""
        with self._lock:
            if run.id in self._runs:
                raise Conflict(f"Run {run.id} already exists.", reason="run_exists")
            self._runs[run.id] = run
            self._steps[run.id] = {}
            self._metrics[run.id] = []
            self._artifacts[run.id] = {}
            return run

    def update_run(self, run_id: str, update: RunUpdate) -> RunRecord:
        """Apply ``update`` atomically and return the new record."""
        with self._lock:
            new = apply_run_update(self._run(run_id), update, time.time())
            self._runs[run_id] = new
            return new

    def get_run(self, run_id: str) -> RunRecord:
        """Return one run; raise ``NotFound`` if there is none with this id."""
        with self._lock:
            return self._run(run_id)

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
        """Return one page of runs, filtered and sorted as :meth:`RunStore.list_runs` says."""
        check_page(limit, offset, sort, q)
        with self._lock:
            runs = [
                r
                for r in self._runs.values()
                if (kind is None or r.kind == kind)
                and (status is None or r.status == status)
                and (backend is None or r.backend == backend)
                and (notebook is None or r.notebook == notebook)
                and matches_search(r, q)
            ]
        sort_runs(runs, sort)
        return runs[offset : offset + limit]

    def delete_run(self, run_id: str) -> None:
        """Delete a run with everything recorded about it and its files."""
        with self._lock:
            run = self._run(run_id)
            if run.status in ACTIVE_RUN_STATUSES:
                raise Conflict(
                    f"Run {run_id} is {run.status}; cancel it before deleting.", reason="run_active"
                )
            for table in (self._runs, self._steps, self._metrics, self._artifacts):
                del table[run_id]
            self._events = [e for e in self._events if e.run_id != run_id]
            self._cache = {k: c for k, c in self._cache.items() if c.run_id != run_id}
        if not self._own_home or self._home_made:
            files.remove_run_dir(self._home, run_id)

    def mark_interrupted(self, alive: AliveCheck | None = None) -> list[str]:
        """Mark runs whose local owner process is dead ``interrupted``; return their ids."""
        check = alive or pid_alive
        host = this_host()
        now = time.time()
        marked: list[str] = []
        with self._lock:
            for run in list(self._runs.values()):
                if (
                    run.status in ACTIVE_RUN_STATUSES
                    and run.owner_pid is not None
                    and run.owner_host in (None, host)
                    and not (check(run.owner_pid) and same_process(run.owner_pid, run.owner_start))
                ):
                    error = f"The process driving this run (pid {run.owner_pid}) exited before it finished."
                    self._runs[run.id] = apply_run_update(
                        run, RunUpdate(status="interrupted", error=error), now
                    )
                    steps = self._steps[run.id]
                    for name, step in steps.items():
                        if step.status == "running":
                            steps[name] = step.model_copy(
                                update={"status": "interrupted", "finished_at": now}
                            )
                    marked.append(run.id)
        return sorted(marked)

    def upsert_steps(self, steps: Sequence[StepRecord]) -> None:
        """Insert or replace steps (keyed by run id and name) in one transaction."""
        with self._lock:
            for step in steps:
                self._run(step.run_id)
            for step in steps:
                self._steps[step.run_id][step.name] = step

    def get_steps(self, run_id: str) -> list[StepRecord]:
        """Return a run's steps in the order they were first stored."""
        with self._lock:
            self._run(run_id)
            return list(self._steps[run_id].values())

    def add_event(self, event: EventRecord) -> EventRecord:
        """Store an event and return it with its new id."""
        with self._lock:
            self._run(event.run_id)
            stored = event.model_copy(update={"id": next(self._event_ids)})
            self._events.append(stored)
            return stored

    def list_events(
        self, run_id: str | None = None, *, since_id: int = 0, limit: int | None = None
    ) -> list[EventRecord]:
        """Return events with ``id > since_id`` in id order, of one run or of all runs."""
        check_page(limit)
        with self._lock:
            events = [e for e in self._events if e.id > since_id and run_id in (None, e.run_id)]
        return events if limit is None else events[:limit]

    def add_metrics(self, metrics: Sequence[MetricRecord]) -> None:
        """Append metric values in one transaction."""
        with self._lock:
            for metric in metrics:
                self._run(metric.run_id)
            for metric in metrics:
                self._metrics[metric.run_id].append((next(self._metric_seq), metric))

    def list_metrics(self, run_id: str, name: str | None = None) -> list[MetricRecord]:
        """Return every stored value, ordered by name, index, then order written."""
        with self._lock:
            self._run(run_id)
            rows = [(m.name, m.index, seq, m) for seq, m in self._metrics[run_id] if name in (None, m.name)]
        return [row[3] for row in sorted(rows, key=lambda row: row[:3])]

    def add_artifact(self, artifact: ArtifactRecord) -> None:
        """Store an artifact, replacing one with the same run, step and name."""
        with self._lock:
            self._run(artifact.run_id)
            self._artifacts[artifact.run_id][(artifact.step, artifact.name)] = artifact

    def list_artifacts(self, run_id: str, step: str | None = None) -> list[ArtifactRecord]:
        """Return a run's artifacts (of one step if given), ordered by step then name."""
        with self._lock:
            self._run(run_id)
            items = sorted(self._artifacts[run_id].items())
        return [a for (s, _), a in items if step in (None, s)]

    def get_artifact(self, run_id: str, step: str, name: str) -> ArtifactRecord:
        """Return one artifact; raise ``NotFound`` if there is none."""
        with self._lock:
            self._run(run_id)
            try:
                return self._artifacts[run_id][(step, name)]
            except KeyError:
                raise NotFound(
                    f"Run {run_id} has no artifact {name!r} from step {step!r}.", reason="artifact_not_found"
                ) from None

    def put_cache(self, entry: CacheEntry) -> None:
        """Store a cache entry, replacing any with the same key."""
        with self._lock:
            self._run(entry.run_id)
            self._cache[entry.cache_key] = entry

    def get_cache(self, cache_key: str) -> CacheEntry | None:
        """Return the entry for ``cache_key``, or ``None``."""
        with self._lock:
            return self._cache.get(cache_key)

    def close(self) -> None:
        """Forget everything and remove the private temp dir, if one was made."""
        with self._lock:
            if self._own_home and self._home_made:
                shutil.rmtree(self._home, ignore_errors=True)
                self._home_made = False
            self._runs.clear()
            self._steps.clear()
            self._events.clear()
            self._metrics.clear()
            self._artifacts.clear()
            self._cache.clear()
