"""Run-store records mapped onto the shared job model; the process layout the local backend picks."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfjupyter.store import LocalDetails, MetricRecord, RunRecord, StepRecord
from kfjupyter.training.backends.kubernetes import kubernetes_backend
from kfjupyter.training.backends.local import resolve_procs
from kfjupyter.training.job import (
    BackendNotAvailable,
    job_from_records,
    points_from_records,
    rank_of,
    step_name,
)
from kfjupyter.training.spec import FunctionEntrypoint, TrainingSpec


def run(status: str, **extra: object) -> RunRecord:
    return RunRecord.model_validate(
        {
            "id": "r1",
            "kind": "training",
            "name": "fit",
            "backend": "local",
            "status": status,
            "parameters": {"layout": {"num_nodes": 2, "procs_per_node": 3}},
            **extra,
        }
    )


@pytest.mark.parametrize(
    ("status", "job_status", "reason"),
    [
        ("pending", "Created", None),
        ("running", "Running", None),
        ("succeeded", "Complete", None),
        ("failed", "Failed", "RankFailed"),
        ("cancelled", "Failed", "Cancelled"),
        ("interrupted", "Failed", "Interrupted"),
    ],
)
def test_status_vocabulary(status: str, job_status: str, reason: str | None) -> None:
    job = job_from_records(run(status), [])
    assert (job.status, job.reason) == (job_status, reason)
    assert job.world_size == 6 and job.finished == (job_status in ("Complete", "Failed"))


def test_steps_are_ranks_in_order() -> None:
    steps = [
        StepRecord(run_id="r1", name="rank-10", status="running"),
        StepRecord(run_id="r1", name="rank-2", status="failed", exit_code=1, error="boom"),
        StepRecord(run_id="r1", name="rank-0", status="cancelled", signal=15),
        StepRecord(run_id="r1", name="not-a-rank", status="succeeded"),
    ]
    job = job_from_records(run("failed", details=LocalDetails(reason="RankFailed")), steps)
    assert [(s.rank, s.status) for s in job.steps] == [(0, "Failed"), (2, "Failed"), (10, "Running")]
    assert job.steps[1].error == "boom" and job.steps[0].signal == 15


def test_rank_names() -> None:
    assert step_name(7) == "rank-7" and rank_of("rank-7") == 7
    assert rank_of("rank-") is None and rank_of("node-0") is None and rank_of(None) is None
    points = points_from_records(
        [
            MetricRecord(run_id="r1", step="rank-1", name="loss", value=0.5, index=3, ts=1.0),
            MetricRecord(run_id="r1", step=None, name="loss", value=0.1, index=0, ts=1.0),
        ]
    )
    assert [(p.rank, p.index, p.value) for p in points] == [(1, 3, 0.5)]


@pytest.mark.parametrize(
    ("procs", "gpus_asked", "visible", "expected"),
    [(None, 0, 0, 1), (None, 0, 4, 4), (None, 2, 4, 2), (3, 0, 8, 3), (2, 2, 2, 2)],
)
def test_procs_per_node(procs: int | None, gpus_asked: int, visible: int, expected: int) -> None:
    spec = TrainingSpec(
        name="p", entrypoint=FunctionEntrypoint(function="f"), procs_per_node=procs, gpus_per_node=gpus_asked
    )
    assert resolve_procs(spec, visible) == expected


def test_kubernetes_backend_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(BackendNotAvailable, match="no cluster access was found") as caught:
        kubernetes_backend({"HOME": str(tmp_path)})
    assert "backend='local'" in str(caught.value)
    assert "in-cluster service account" in str(caught.value) and "KUBECONFIG" in str(caught.value)
