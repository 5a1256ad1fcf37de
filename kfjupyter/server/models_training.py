"""REST models of training jobs (pydantic v2): start, list, describe and cancel.

Part of the committed JSON schema (``rest-schema.json``) with :mod:`kfjupyter.server.models`. Job
statuses use Kubeflow Trainer's words (``Created``, ``Running``, ``Complete``, ``Failed``), as
:class:`kfjupyter.training.job.TrainJob` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

JobStatus = Literal["Created", "Running", "Complete", "Failed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrainingRequest(_Model):
    """Body of ``POST /kfjupyter/api/training``: a script job."""

    script: str = Field(min_length=1, description="Python script (.py) relative to the server's root.")
    args: list[str] = Field(default_factory=list, description="Command-line arguments of the script.")
    num_nodes: int = Field(1, description="Number of nodes (worker groups), 1-1024.")
    procs_per_node: int | None = Field(
        1, description="Worker processes per node, 1-1024; null: one per GPU, else 1."
    )
    gpus_per_node: int = Field(0, description="GPUs each node needs, 0-64.")
    cpu: str | None = Field(None, description="CPU request per node ('4', '500m'); cluster only.")
    memory: str | None = Field(None, description="Memory request per node ('16Gi'); cluster only.")
    image: str | None = Field(None, description="Container image; cluster backends only.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    backend: Literal["local", "kubernetes", "auto"] = Field(
        "local", description="'local' (this server), 'kubernetes', or 'auto' to pick."
    )
    name: str | None = Field(
        None, description="Job name (lower-case letters, digits, '-'); default from the script name."
    )

    @field_validator("args")
    @classmethod
    def _args_fit_a_command_line(cls, value: list[str]) -> list[str]:
        _check_texts("args", dict(enumerate(value)))
        return value

    @field_validator("env")
    @classmethod
    def _env_fits_a_process(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(name for name in value if "\x00" in name)
        if bad:
            raise ValueError(f"environment variable names must not contain NUL characters: {bad!r}")
        _check_texts("env", value)
        return value


#: Most bytes of one argument or environment value (Linux refuses one over 128 KiB at exec).
MAX_TEXT_BYTES = 64 * 1024
#: Most bytes of all arguments or all environment values of a job together.
MAX_TOTAL_BYTES = 512 * 1024


def _check_texts(field: str, texts: Mapping[int, str] | Mapping[str, str]) -> None:
    """``ValueError`` naming the items of ``texts`` that cannot be passed to a process."""
    nul = [key for key, text in texts.items() if "\x00" in text]
    if nul:
        raise ValueError(f"item(s) {nul!r} contain a NUL character; remove it")
    sizes = {key: len(text.encode()) for key, text in texts.items()}
    long = [key for key, size in sizes.items() if size > MAX_TEXT_BYTES]
    if long:
        raise ValueError(f"item(s) {long!r} longer than {MAX_TEXT_BYTES} bytes; pass large data in a file")
    if sum(sizes.values()) > MAX_TOTAL_BYTES:
        raise ValueError(f"{field} together longer than {MAX_TOTAL_BYTES} bytes; pass large data in a file")


class TrainingStarted(_Model):
    """Response of ``POST /kfjupyter/api/training`` (202)."""

    run_id: str = Field(description="Job id, which is its run id in the run store.")
    name: str = Field(description="Job name.")
    backend: str = Field(description="Backend that runs it: 'local' or 'kubernetes'.")
    status: JobStatus = Field(description="Status right after submission.")


class TrainingListQuery(_Model):
    """Query of ``GET /kfjupyter/api/training``."""

    limit: int = Field(50, ge=1, le=200, description="At most this many jobs (1-200), newest first.")


class TrainingSummary(_Model):
    """One training job as the jobs list shows it."""

    id: str = Field(description="Job id (its run id).")
    name: str = Field(description="Job name.")
    backend: str = Field(description="'local' or 'kubernetes'.")
    status: JobStatus = Field(description="Created, Running, Complete or Failed.")
    reason: str | None = Field(description="Why it ended Failed: RankFailed, Cancelled, Interrupted.")
    error: str | None = Field(description="User-safe error, with the failing rank's traceback.")
    created_at: float = Field(description="When the job was submitted (Unix seconds).")
    started_at: float | None = Field(description="When the workers started.")
    finished_at: float | None = Field(description="When the job ended.")
    num_nodes: int = Field(description="Number of nodes.")
    procs_per_node: int = Field(description="Worker processes per node.")
    gpus_per_node: int = Field(description="GPUs per node that were asked for.")


class TrainingList(_Model):
    """Response of ``GET /kfjupyter/api/training``: newest first."""

    jobs: list[TrainingSummary] = Field(description="The jobs, newest first.")


class TrainingRank(_Model):
    """One worker process (rank) of a job."""

    rank: int = Field(description="Global rank (RANK).")
    step: str = Field(description="Its step name in the run store ('rank-N'); names its log.")
    status: JobStatus = Field(description="Status of this rank.")
    exit_code: int | None = Field(description="Exit code, once the process exited.")
    started_at: float | None = Field(description="When the process started.")
    finished_at: float | None = Field(description="When it ended.")
    error: str | None = Field(description="Why this rank failed or was stopped.")


class TrainingDetail(_Model):
    """Response of ``GET /kfjupyter/api/training/{id}``."""

    job: TrainingSummary = Field(description="The job.")
    script: str | None = Field(description="Script path of a script job; null for a function job.")
    args: list[str] = Field(description="Arguments of a script job.")
    ranks: list[TrainingRank] = Field(description="One entry per rank, by rank.")
    metrics: list[str] = Field(description="Names of the metrics the job logged, sorted.")


class TrainingCancelled(_Model):
    """Response of ``POST /kfjupyter/api/training/{id}/cancel`` (202)."""

    run_id: str = Field(description="Job id.")
    status: JobStatus = Field(
        description="Status after the cancel (Failed with reason Cancelled when it stopped)."
    )


MODELS: tuple[type[BaseModel], ...] = (
    TrainingRequest,
    TrainingStarted,
    TrainingListQuery,
    TrainingList,
    TrainingDetail,
    TrainingCancelled,
)
