"""The handle :func:`kfjupyter.train` returns: status, wait, logs, metrics and cancel for one job.

A handle holds only a job id and its backend; every property reads fresh state from the backend,
so handles are cheap and a handle made from :func:`kfjupyter.training.get_job` in a new process
behaves like the original one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from kfjupyter.training.backends.base import TrainingBackend
from kfjupyter.training.job import JobStatus, MetricPoint, TrainingFailed, TrainJob, WaitTimeout

_WAIT_FIRST_S = 0.02
_WAIT_MAX_S = 0.25


class TrainingJob:
    """A live view of one training job."""

    def __init__(self, backend: TrainingBackend, job: TrainJob) -> None:
        self._backend = backend
        self._last = job

    @property
    def id(self) -> str:
        """The job id (its run id in the run store)."""
        return self._last.id

    @property
    def name(self) -> str:
        """The job name."""
        return self._last.name

    @property
    def job(self) -> TrainJob:
        """A fresh snapshot of the job (status, per-rank steps, error)."""
        self._last = self._backend.get_job(self._last.id)
        return self._last

    @property
    def status(self) -> JobStatus:
        """``Created``, ``Running``, ``Complete`` or ``Failed``."""
        return self.job.status

    def wait(self, timeout: float | None = None, *, raise_on_failure: bool = True) -> TrainJob:
        """Wait until the job ends and return it; raise ``TrainingFailed`` if it failed.

        Raises ``WaitTimeout`` (the job keeps running) if it has not ended within ``timeout`` s.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = _WAIT_FIRST_S
        while True:
            job = self.job
            if job.finished:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(f"Job {job.name!r} is still {job.status} after {timeout} s.")
            time.sleep(pause)
            pause = min(pause * 1.5, _WAIT_MAX_S)
        if job.status == "Failed" and raise_on_failure:
            raise TrainingFailed(
                f"Training job {job.name!r} ({job.id}) failed ({job.reason}): {job.error}",
                reason=(job.reason or "failed").lower(),
            )
        return job

    def logs(self, rank: int | None = None, follow: bool = False, tail: int | None = None) -> Iterator[str]:
        """Yield log lines of one rank, or of every rank merged by time and prefixed ``[rank-N]``.

        With ``tail`` only the last lines; with ``follow`` keep yielding until the job ends.
        """
        return self._backend.logs(self._last.id, rank, follow, tail)

    def metrics(self, rank: int | None = None) -> dict[str, list[MetricPoint]]:
        """Return each metric's full history (every rank, or one), keyed by metric name."""
        series: dict[str, list[MetricPoint]] = {}
        for point in self._backend.metrics(self._last.id, rank):
            series.setdefault(point.name, []).append(point)
        return series

    def cancel(self) -> TrainJob:
        """Stop every rank; return the final snapshot."""
        self._last = self._backend.cancel(self._last.id)
        return self._last

    def __repr__(self) -> str:
        job = self._last
        return f"<TrainingJob {job.name!r} id={job.id} backend={job.backend} status={job.status}>"
