"""The interface every training backend implements; the facade and job handles only use this.

A backend submits a validated :class:`~kfjupyter.training.spec.TrainingSpec` (plus, for a
function, its cloudpickle payload) and answers questions about jobs by id: a snapshot of the job,
its per-rank logs, its metric history, and cancellation. Backends raise errors from
:mod:`kfjupyter.errors` (``NotFound`` for an unknown job) and
:class:`~kfjupyter.training.job.BackendNotAvailable` when they cannot be used here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping

from kfjupyter.store import Engine
from kfjupyter.training.job import MetricPoint, TrainJob
from kfjupyter.training.spec import TrainingSpec


class TrainingBackend(ABC):
    """Runs training jobs somewhere and reports on them with the shared job model."""

    #: The engine recorded on every job it runs (local or kubernetes).
    name: Engine = Engine.LOCAL

    @abstractmethod
    def submit(
        self, spec: TrainingSpec, payload: bytes | None, files: Mapping[str, bytes] | None = None
    ) -> TrainJob:
        """Start a job; ``payload`` is the pickled ``(function, args, kwargs)`` of a function job.

        ``files``: local modules and files to take along (relative path -> content), where the job
        runs somewhere else than here.
        """

    @abstractmethod
    def get_job(self, job_id: str) -> TrainJob:
        """Return a snapshot of a job; raise ``NotFound`` if there is none with this id."""

    @abstractmethod
    def find_job(self, name: str) -> TrainJob:
        """Return the job with this id, else the newest job with this name; ``NotFound`` if none."""

    @abstractmethod
    def list_jobs(self, limit: int = 50) -> list[TrainJob]:
        """Return jobs, newest first."""

    @abstractmethod
    def logs(self, job_id: str, rank: int | None, follow: bool, tail: int | None) -> Iterator[str]:
        """Yield log lines of one rank (or all ranks, prefixed ``[rank-N]``), following if asked."""

    @abstractmethod
    def metrics(self, job_id: str, rank: int | None) -> list[MetricPoint]:
        """Return every logged metric value of one rank (or all ranks), in series order."""

    @abstractmethod
    def cancel(self, job_id: str) -> TrainJob:
        """Stop every rank of a job and return its final snapshot (no-op on a finished job)."""
