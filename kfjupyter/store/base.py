"""The run store interface: the one narrow contract every storage backend implements.

:class:`RunStore` keeps runs, their steps, events, metrics, artifacts and the step cache. Run files
(logs, serialized outputs) live on disk under :attr:`RunStore.home`; the store names them and reads
logs, but executors write them. Implementations: :mod:`kfjupyter.store.sqlite` (the real one,
shared by processes) and :mod:`kfjupyter.store.memory` (tests). Both pass the same contract tests.

Errors (all from :mod:`kfjupyter.errors`): ``NotFound`` for a missing run or artifact,
``Conflict`` for a duplicate run id or a forbidden status change, ``InvalidInput`` for a bad id or
an unusable store file, ``Unavailable`` when the store is busy or unreachable (retry can help).
"""

from __future__ import annotations

import string
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal, TypeVar, get_args

from kfjupyter.errors import InsufficientStorage, InvalidInput, StorageFault, Unavailable
from kfjupyter.store import files
from kfjupyter.store.models import (
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

#: Tells whether a pid is alive on this host; see :func:`kfjupyter.store.liveness.pid_alive`.
AliveCheck = Callable[[int], bool]
_Store = TypeVar("_Store", bound="RunStore")
#: Orders of :meth:`RunStore.list_runs`; see there for what each means.
RunSort = Literal["newest", "oldest", "name", "status", "duration"]
#: Status order of ``sort="status"``: runs that are going or need a look first, successes last.
STATUS_ORDER: tuple[RunStatus, ...] = (
    "running",
    "pending",
    "failed",
    "interrupted",
    "cancelled",
    "succeeded",
)
_STATUS_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}
_ASCII_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def matches_search(run: RunRecord, q: str | None) -> bool:
    """Whether ``q`` is in the run's name, notebook or id, ignoring case (the meaning of ``q``)."""
    if not q:
        return True
    needle = q.lower()
    return any(needle in (text or "").lower() for text in (run.name, run.notebook, run.id))


def run_duration(run: RunRecord) -> float | None:
    """Seconds from start to end, never negative; ``None`` until the run has both times."""
    if run.started_at is None or run.finished_at is None:
        return None
    return max(0.0, run.finished_at - run.started_at)


def sort_runs(runs: list[RunRecord], sort: RunSort) -> None:
    """Sort ``runs`` in place in the ``sort`` order of :meth:`RunStore.list_runs` (the reference)."""
    # Stable sorts, least significant key first: the tie-break, then the key asked for.
    runs.sort(key=lambda r: (r.created_at, r.id), reverse=sort != "oldest")
    if sort == "name":
        runs.sort(key=lambda r: r.name.translate(_ASCII_FOLD))
    elif sort == "status":
        runs.sort(key=lambda r: _STATUS_RANK[r.status])
    elif sort == "duration":
        runs.sort(key=lambda r: (1, 0.0) if (d := run_duration(r)) is None else (0, -d))


def check_page(limit: int | None, offset: int = 0, sort: str = "newest", q: str | None = None) -> None:
    """Raise :class:`InvalidInput` for a negative ``limit`` or ``offset``, an unknown ``sort`` or a NUL in ``q``.

    SQLite's ``LIKE`` stops reading its pattern at a NUL (a pattern ``%`` NUL ``%`` would match every run), so a
    search text with one is refused rather than silently widened.
    """
    if q and "\x00" in q:
        raise InvalidInput("q: the search text contains a NUL character; remove it and search again")
    if (limit is not None and limit < 0) or offset < 0:
        raise InvalidInput(f"limit and offset must be >= 0, got limit={limit}, offset={offset}.")
    if sort not in get_args(RunSort):
        raise InvalidInput(f"sort must be one of {', '.join(get_args(RunSort))}, got {sort!r}.")


def mark_interrupted_for_reading(store: RunStore) -> str | None:
    """Call :meth:`RunStore.mark_interrupted` before a read that must work on a full disk.

    ``None`` when done; when the store cannot be written now, a warning to show with what is read
    (runs whose process died then still read as they were recorded).
    """
    try:
        store.mark_interrupted()
    except (Unavailable, InsufficientStorage, StorageFault) as error:  # a full disk, a read-only store
        return f"runs whose process died could not be marked interrupted: {error.message}"
    return None


class RunStore(ABC):
    """Narrow storage interface for runs, steps, events, metrics, artifacts and cache entries."""

    def __init__(self, home: Path) -> None:
        """Use ``home`` as the root of the run files."""
        self._home = home

    @property
    def home(self) -> Path:
        """Root directory of the store's files."""
        return self._home

    # -- runs ---------------------------------------------------------------------------------

    @abstractmethod
    def create_run(self, run: RunRecord) -> RunRecord:
        """Store a new run and return it; raise ``Conflict`` if the id is taken."""

    @abstractmethod
    def update_run(self, run_id: str, update: RunUpdate) -> RunRecord:
        """Apply ``update`` atomically and return the new record.

        Status changes follow :mod:`kfjupyter.store.transitions`. Raises ``NotFound`` or
        ``Conflict`` (forbidden transition).
        """

    @abstractmethod
    def get_run(self, run_id: str) -> RunRecord:
        """Return one run; raise ``NotFound`` if there is none with this id."""

    @abstractmethod
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
        """Return one page of runs, optionally only of one kind, status, backend and/or notebook.

        ``q`` keeps runs whose name, notebook or id contains it, ignoring (ASCII) case. ``sort``:
        ``newest`` (by creation time, the default) or ``oldest`` first; ``name`` A to Z ignoring
        ASCII case; ``status`` in :data:`STATUS_ORDER`; ``duration`` longest first, then the runs
        without one (not started or not ended yet, see :func:`run_duration`). Ties are broken
        newest first (``oldest``: oldest first), then by id, so pages never repeat or skip a run.
        """

    @abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Delete a run with its steps, events, metrics, artifacts, cache entries and files.

        Raises ``NotFound``, or ``Conflict`` while the run is pending or running.
        """

    @abstractmethod
    def mark_interrupted(self, alive: AliveCheck | None = None) -> list[str]:
        """Mark orphaned runs ``interrupted`` and return their ids.

        A pending or running run whose ``owner_pid`` is set, whose ``owner_host`` is this host (or
        unset) and whose owner is not ``alive`` (default: :func:`~kfjupyter.store.liveness.pid_alive`)
        or whose pid now names another process (its start time differs from ``owner_start``,
        :func:`~kfjupyter.store.liveness.same_process`) becomes interrupted, and so do its running
        steps. Nothing is deleted.
        """

    # -- steps --------------------------------------------------------------------------------

    @abstractmethod
    def upsert_steps(self, steps: Sequence[StepRecord]) -> None:
        """Insert or replace steps (keyed by run id and name) in one transaction.

        Raises ``NotFound`` if a step's run does not exist; then nothing is written.
        """

    def upsert_step(self, step: StepRecord) -> None:
        """Insert or replace one step; see :meth:`upsert_steps`."""
        self.upsert_steps([step])

    @abstractmethod
    def get_steps(self, run_id: str) -> list[StepRecord]:
        """Return a run's steps in the order they were first stored; ``NotFound`` if no such run."""

    # -- events and metrics -------------------------------------------------------------------

    @abstractmethod
    def add_event(self, event: EventRecord) -> EventRecord:
        """Store an event and return it with its new id; ``NotFound`` if its run does not exist."""

    @abstractmethod
    def list_events(
        self, run_id: str | None = None, *, since_id: int = 0, limit: int | None = None
    ) -> list[EventRecord]:
        """Return events with ``id > since_id`` in id order, of one run or (``None``) of all runs."""

    @abstractmethod
    def add_metrics(self, metrics: Sequence[MetricRecord]) -> None:
        """Append metric values in one transaction; ``NotFound`` if a run does not exist."""

    def add_metric(self, metric: MetricRecord) -> None:
        """Append one metric value; see :meth:`add_metrics`."""
        self.add_metrics([metric])

    @abstractmethod
    def list_metrics(self, run_id: str, name: str | None = None) -> list[MetricRecord]:
        """Return every stored value, ordered by name, index, then order written."""

    # -- artifacts and cache ------------------------------------------------------------------

    @abstractmethod
    def add_artifact(self, artifact: ArtifactRecord) -> None:
        """Store an artifact, replacing one with the same run, step and name."""

    @abstractmethod
    def list_artifacts(self, run_id: str, step: str | None = None) -> list[ArtifactRecord]:
        """Return a run's artifacts (of one step if given), ordered by step then name."""

    @abstractmethod
    def get_artifact(self, run_id: str, step: str, name: str) -> ArtifactRecord:
        """Return one artifact; raise ``NotFound`` if there is none."""

    @abstractmethod
    def put_cache(self, entry: CacheEntry) -> None:
        """Store a cache entry, replacing any with the same key; ``NotFound`` if its run is gone."""

    @abstractmethod
    def get_cache(self, cache_key: str) -> CacheEntry | None:
        """Return the entry for ``cache_key``, or ``None``. Entries go away with their run."""

    # -- lifecycle ----------------------------------------------------------------------------

    @abstractmethod
    def close(self) -> None:
        """Release connections and other resources; the store is unusable afterwards."""

    def __enter__(self: _Store) -> _Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- files (shared by every implementation) -----------------------------------------------

    def run_dir(self, run_id: str, *, create: bool = False) -> Path:
        """Return ``<home>/runs/<run_id>``, creating it if asked."""
        path = files.run_dir(self.home, run_id)
        if create:
            path.mkdir(parents=True, exist_ok=True)
        return path

    def log_path(self, run_id: str, step: str, *, create_dir: bool = False) -> Path:
        """Return the log file of one step; with ``create_dir`` its directory is created."""
        path = files.log_path(self.home, run_id, step)
        if create_dir:
            path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def resolve(self, relative: str) -> Path:
        """Return the absolute path of a store-relative path (e.g. ``ArtifactRecord.path``)."""
        return files.resolve(self.home, relative)

    def read_log(self, run_id: str, step: str, offset: int = 0, max_bytes: int = 1 << 20) -> files.LogChunk:
        """Read whole log lines from byte ``offset``; pass ``next_offset`` back to follow the log."""
        return files.read_log(self.log_path(run_id, step), offset, max_bytes)

    def tail_log(self, run_id: str, step: str, lines: int = 100) -> files.LogChunk:
        """Return the last ``lines`` log lines and the offset to follow from."""
        return files.tail_log(self.log_path(run_id, step), lines)
