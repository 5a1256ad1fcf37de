"""The job model every training backend returns: a job, its per-rank steps and metric points.

Status vocabulary is Kubeflow Trainer's: ``Created``, ``Running``, ``Complete``, ``Failed``, for
the job and for each rank. Why a job stopped is in ``reason`` (``RankFailed``, ``Cancelled``,
``Interrupted``) and ``error`` (user-safe text, with the failing rank's traceback). Local jobs are
run-store records (kind ``training``, one step per rank); :func:`job_from_records` maps them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kfjupyter.errors import KfJupyterError
from kfjupyter.store import KfpDetails, MetricRecord, RunRecord, RunStatus, StepRecord, StepStatus

JobStatus = Literal["Created", "Running", "Complete", "Failed"]
TERMINAL_STATUSES: frozenset[JobStatus] = frozenset({"Complete", "Failed"})
STEP_PREFIX = "rank-"

_RUN_STATUS: dict[RunStatus, JobStatus] = {
    "pending": "Created",
    "running": "Running",
    "succeeded": "Complete",
    "failed": "Failed",
    "cancelled": "Failed",
    "interrupted": "Failed",
}
_RUN_REASON: dict[RunStatus, str] = {"cancelled": "Cancelled", "interrupted": "Interrupted"}
_STEP_STATUS: dict[StepStatus, JobStatus] = {
    "pending": "Created",
    "ready": "Created",
    "running": "Running",
    "succeeded": "Complete",
    "cached": "Complete",
    "skipped": "Complete",
}


class TrainingFailed(KfJupyterError):
    """A training job ended ``Failed``: a rank failed, it was cancelled, or its supervisor died."""

    reason = "training_failed"


class WaitTimeout(KfJupyterError):
    """A job did not finish within the time given to ``wait``; it keeps running."""

    reason = "timeout"
    temporary = True


class BackendNotAvailable(KfJupyterError):
    """The requested training backend cannot be used here (missing support or cluster access)."""

    reason = "backend_not_available"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrainStep(_Model):
    """One worker process (rank) of a job."""

    name: str = Field(description="Step name, 'rank-<global rank>'.")
    rank: int = Field(ge=0, description="Global rank (RANK).")
    status: JobStatus = Field(description="Status of this rank.")
    exit_code: int | None = Field(None, description="Exit code, once the process exited.")
    signal: int | None = Field(None, description="Signal that killed the process, if any.")
    started_at: float | None = Field(None, description="When the process started (Unix seconds).")
    finished_at: float | None = Field(None, description="When it ended.")
    error: str | None = Field(None, description="Why this rank failed or was stopped.")


class TrainJob(_Model):
    """A snapshot of one training job; the same model on every backend."""

    id: str = Field(description="Job id (the run id in the run store).")
    name: str = Field(description="Job name.")
    backend: str = Field(description="Backend that runs it: 'local' or 'kubernetes'.")
    status: JobStatus = Field(description="Created, Running, Complete or Failed.")
    reason: str | None = Field(None, description="Why it ended Failed: RankFailed, Cancelled, Interrupted.")
    error: str | None = Field(None, description="User-safe error, with the failing rank's traceback.")
    num_nodes: int = Field(1, ge=1, description="Number of nodes.")
    procs_per_node: int = Field(1, ge=1, description="Worker processes per node.")
    created_at: float = Field(description="When the job was submitted.")
    started_at: float | None = Field(None, description="When the workers started.")
    finished_at: float | None = Field(None, description="When the job ended.")
    steps: list[TrainStep] = Field(default_factory=list, description="One step per rank, by rank.")

    @property
    def finished(self) -> bool:
        """Whether the job reached Complete or Failed."""
        return self.status in TERMINAL_STATUSES

    @property
    def world_size(self) -> int:
        """Total number of worker processes."""
        return self.num_nodes * self.procs_per_node


class MetricPoint(_Model):
    """One logged value of one metric on one rank."""

    name: str = Field(description="Metric name.")
    value: float = Field(description="The value.")
    index: int = Field(description="Position in the series (training step, or order logged).")
    ts: float = Field(description="When it was logged (Unix seconds).")
    rank: int = Field(ge=0, description="Rank that logged it.")


def step_name(rank: int) -> str:
    """Return the step name of a rank (``rank-3``)."""
    return f"{STEP_PREFIX}{rank}"


def rank_of(step: str | None) -> int | None:
    """Return the rank encoded in a step name, or ``None`` if it is not a rank step."""
    if step is None or not step.startswith(STEP_PREFIX) or not step[len(STEP_PREFIX) :].isdigit():
        return None
    return int(step[len(STEP_PREFIX) :])


def _step(record: StepRecord) -> TrainStep | None:
    rank = rank_of(record.name)
    if rank is None:
        return None
    return TrainStep(
        name=record.name,
        rank=rank,
        status=_STEP_STATUS.get(record.status, "Failed"),
        exit_code=record.exit_code,
        signal=record.signal,
        started_at=record.started_at,
        finished_at=record.finished_at,
        error=record.error,
    )


def job_from_records(run: RunRecord, steps: list[StepRecord]) -> TrainJob:
    """Map a training run and its rank steps from the run store onto the job model."""
    layout = run.parameters.get("layout")
    nodes, procs = 1, 1
    if isinstance(layout, dict):
        nodes_value, procs_value = layout.get("num_nodes"), layout.get("procs_per_node")
        nodes = nodes_value if isinstance(nodes_value, int) else 1
        procs = procs_value if isinstance(procs_value, int) else 1
    reason = _RUN_REASON.get(run.status)
    if run.status == "failed":
        recorded = None if isinstance(run.details, KfpDetails) else run.details.reason
        reason = recorded or "RankFailed"
    ranked = sorted((s for s in map(_step, steps) if s is not None), key=lambda s: s.rank)
    return TrainJob(
        id=run.id,
        name=run.name,
        backend=run.backend,
        status=_RUN_STATUS[run.status],
        reason=reason,
        error=run.error,
        num_nodes=nodes,
        procs_per_node=procs,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        steps=ranked,
    )


def points_from_records(records: list[MetricRecord]) -> list[MetricPoint]:
    """Map stored metric values (of rank steps) onto metric points."""
    points = []
    for record in records:
        rank = rank_of(record.step)
        if rank is not None:
            points.append(
                MetricPoint(name=record.name, value=record.value, index=record.index, ts=record.ts, rank=rank)
            )
    return points
