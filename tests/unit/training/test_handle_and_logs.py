"""The job handle (wait, metrics, cancel) over a fake backend, and reading per-rank logs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.store import MemoryRunStore, RunRecord
from kfjupyter.training.backends.base import TrainingBackend
from kfjupyter.training.handle import TrainingJob
from kfjupyter.training.job import JobStatus, MetricPoint, TrainingFailed, TrainJob, WaitTimeout
from kfjupyter.training.logs import RankLogs
from kfjupyter.training.spec import TrainingSpec


def snapshot(status: JobStatus, **extra: object) -> TrainJob:
    return TrainJob.model_validate(
        {"id": "j1", "name": "fit", "backend": "fake", "status": status, "created_at": 0.0, **extra}
    )


class FakeBackend(TrainingBackend):
    name = "fake"

    def __init__(self, statuses: list[TrainJob]) -> None:
        self.statuses = itertools.chain(statuses, itertools.repeat(statuses[-1]))
        self.cancelled = False

    def submit(self, spec: TrainingSpec, payload: bytes | None, files: Any = None) -> TrainJob:
        return next(self.statuses)

    def get_job(self, job_id: str) -> TrainJob:
        return next(self.statuses)

    def find_job(self, name: str) -> TrainJob:
        return next(self.statuses)

    def list_jobs(self, limit: int = 50) -> list[TrainJob]:
        return [next(self.statuses)]

    def logs(self, job_id: str, rank: int | None, follow: bool, tail: int | None) -> Iterator[str]:
        yield f"logs rank={rank} follow={follow} tail={tail}"

    def metrics(self, job_id: str, rank: int | None) -> list[MetricPoint]:
        return [
            MetricPoint(name="loss", value=v, index=i, ts=0.0, rank=0) for i, v in enumerate([0.9, 0.5])
        ] + [MetricPoint(name="acc", value=0.7, index=0, ts=0.0, rank=1)]

    def cancel(self, job_id: str) -> TrainJob:
        self.cancelled = True
        return snapshot("Failed", reason="Cancelled")


def test_wait_polls_until_the_job_ends() -> None:
    backend = FakeBackend(
        [snapshot("Created"), snapshot("Running"), snapshot("Running"), snapshot("Complete")]
    )
    job = TrainingJob(backend, snapshot("Created"))
    assert job.wait(timeout=5).status == "Complete"
    assert job.status == "Complete"


def test_wait_raises_on_failure_with_the_error() -> None:
    failed = snapshot("Failed", reason="RankFailed", error="Rank 1 exited with 1.\nValueError: boom")
    job = TrainingJob(FakeBackend([failed]), failed)
    with pytest.raises(TrainingFailed, match="ValueError: boom") as caught:
        job.wait()
    assert caught.value.reason == "rankfailed"
    assert job.wait(raise_on_failure=False).status == "Failed"


def test_wait_times_out_without_stopping_the_job() -> None:
    job = TrainingJob(FakeBackend([snapshot("Running")]), snapshot("Running"))
    with pytest.raises(WaitTimeout):
        job.wait(timeout=0.05)


def test_metrics_logs_cancel_and_repr() -> None:
    backend = FakeBackend([snapshot("Running")])
    job = TrainingJob(backend, snapshot("Running"))
    series = job.metrics()
    assert [p.value for p in series["loss"]] == [0.9, 0.5] and list(series) == ["loss", "acc"]
    assert list(job.logs(rank=1, follow=True, tail=5)) == ["logs rank=1 follow=True tail=5"]
    assert job.cancel().reason == "Cancelled" and backend.cancelled
    assert repr(job) == "<TrainingJob 'fit' id=j1 backend=fake status=Failed>"


def write_log(store: MemoryRunStore, step: str, lines: list[str]) -> None:
    path = store.log_path("r1", step, create_dir=True)
    with path.open("a") as fh:
        fh.writelines(line + "\n" for line in lines)


def test_rank_logs_merge_by_time_tail_and_read_only_new_lines(tmp_path: Path) -> None:
    store = MemoryRunStore(tmp_path)
    store.create_run(RunRecord(id="r1", kind="training", name="fit", backend="local"))
    write_log(store, "rank-0", ["2026-01-01T00:00:00.100 stdout a", "2026-01-01T00:00:00.300 stdout c"])
    write_log(store, "rank-1", ["2026-01-01T00:00:00.200 stderr b"])
    logs = RankLogs(store, "r1", ["rank-0", "rank-1"])
    assert [line.rsplit(" ", 1)[1] for line in logs.read_new()] == ["a", "b", "c"]
    assert logs.read_new() == []
    write_log(store, "rank-1", ["2026-01-01T00:00:00.400 stdout d"])
    assert logs.read_new() == ["[rank-1] 2026-01-01T00:00:00.400 stdout d"]
    single = RankLogs(store, "r1", ["rank-0"])
    assert single.read_tail(1) == ["2026-01-01T00:00:00.300 stdout c"]


def test_follow_stops_once_the_job_is_done(tmp_path: Path) -> None:
    store = MemoryRunStore(tmp_path)
    store.create_run(RunRecord(id="r1", kind="training", name="fit", backend="local"))
    write_log(store, "rank-0", ["2026-01-01T00:00:00.100 stdout a"])
    calls = iter([False, True])

    def finished() -> bool:
        done = next(calls, None)
        if done:  # the last line lands just as the job ends
            write_log(store, "rank-0", ["2026-01-01T00:00:00.200 stdout last"])
        return done is not False

    lines = list(RankLogs(store, "r1", ["rank-0"]).iterate(None, True, finished))
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["a", "last"]
