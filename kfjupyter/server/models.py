"""Request and response models of the REST API (pydantic v2).

Their JSON schema is committed in ``kfjupyter/server/rest-schema.json``; a test fails when the
code and the file drift apart. Regenerate with ``python -m kfjupyter.server.schema --write``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from kfjupyter.notebook.diagnostics import Diagnostic
from kfjupyter.server.models_graph import LintGraph
from kfjupyter.server.models_pipelines import checked_parameters, checked_step
from kfjupyter.store.base import RunSort

RunKind = Literal["pipeline", "training"]
RunStatus = Literal["pending", "running", "succeeded", "failed", "cancelled", "interrupted"]
#: Most runs one comparison takes.
MAX_COMPARED = 50
#: Largest ``offset`` of a runs page (keeps it within SQLite's 64-bit integers).
MAX_PAGE_OFFSET = 1_000_000_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(_Model):
    """A response: every field is sent, defaults included, so the schema lists them all as required."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class Backend(_Response):
    """An execution backend the server is configured with."""

    name: str = Field(description="Backend name, e.g. 'local' or 'kfp'.")
    kind: Literal["pipelines", "training"] = Field(description="What the backend runs.")
    available: bool = Field(description="Whether the backend can take work right now.")
    detail: str = Field("", description="Endpoint or reason it is unavailable.")


class Health(_Response):
    """Response of ``GET /kfjupyter/api/health``."""

    version: str = Field(description="kfjupyter version running on the server.")
    user: str = Field(description="Name of the authenticated user.")
    backends: list[Backend] = Field(description="Configured pipeline and training backends.")
    kfp_image: str | None = Field(
        None,
        description="The container image compiled steps get by default: c.KfJupyterApp.kfp_image, "
        "else $KFJUPYTER_IMAGE; null when neither is set.",
    )


class ErrorBody(_Response):
    """Body of every error response."""

    message: str = Field(description="What went wrong and what to do, safe to show to the user.")
    reason: str | None = Field(None, description="Short machine-readable reason.")


class RunListQuery(_Model):
    """Query of ``GET /kfjupyter/api/runs``."""

    kind: RunKind | None = Field(None, description="Only runs of this kind.")
    status: RunStatus | None = Field(None, description="Only runs with this status.")
    limit: int = Field(50, ge=1, le=200, description="At most this many runs (1-200).")
    offset: int = Field(0, ge=0, le=MAX_PAGE_OFFSET, description="Skip this many runs of the sorted list.")
    q: str | None = Field(
        None, max_length=200, description="Only runs whose name, notebook or id contains this (any case)."
    )
    backend: str | None = Field(
        None, pattern=r"^[a-z0-9_-]{1,32}$", description="Only runs of this backend: 'local', 'kfp', ..."
    )
    notebook: str | None = Field(
        None, min_length=1, max_length=1000, description="Only runs of the notebook at this exact path."
    )
    sort: RunSort = Field(
        "newest",
        description="Order: 'newest' (created last first, the default) or 'oldest' first; 'name' A-Z, "
        "ignoring ASCII case; 'status': running, pending, failed, interrupted, cancelled, succeeded; "
        "'duration': longest first, then the runs without a duration (not started or still running, "
        "whose elapsed time would move them between pages), newest first. Ties go newest first, then "
        "by id, so paging with offset never repeats or skips a run.",
    )

    @field_validator("q")
    @classmethod
    def _blank_means_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


class RunSummary(_Model):
    """One run as the runs list shows it."""

    id: str = Field(description="Run id.")
    kind: RunKind = Field(description="A notebook pipeline or a training job.")
    name: str = Field(description="Display name (pipeline or job name).")
    notebook: str | None = Field(description="Path of the notebook the run came from, if any.")
    backend: str = Field(description="Where it runs: 'local', 'kfp', ...")
    status: RunStatus = Field(description="Current status.")
    created_at: float = Field(description="When the run was created (Unix seconds).")
    started_at: float | None = Field(description="When it started executing.")
    finished_at: float | None = Field(description="When it ended.")
    duration_s: float | None = Field(description="Seconds from start to end; None until it ended.")
    error: str | None = Field(description="User-safe reason the run failed or stopped.")


class RunList(_Model):
    """Response of ``GET /kfjupyter/api/runs``: one page, in the order of ``sort``."""

    runs: list[RunSummary] = Field(description="The runs of this page, in the order asked (``sort``).")
    limit: int = Field(description="Page size that was applied.")
    offset: int = Field(description="Offset that was applied.")
    has_more: bool = Field(description="Whether more runs match after this page.")


class StepSummary(_Model):
    """One step of a run."""

    name: str = Field(description="Step name, unique within the run.")
    status: str = Field(description="Step status, e.g. 'running', 'succeeded', 'cached'.")
    cached: bool = Field(description="Whether the outputs were reused from an earlier run.")
    started_at: float | None = Field(description="When the current attempt started.")
    finished_at: float | None = Field(description="When the step reached its final status.")
    duration_s: float | None = Field(description="Seconds from start to end; None until it ended.")
    error: str | None = Field(description="User-safe error text for a failed step.")
    upstream: list[str] = Field(description="Names of the steps this one waits for (the DAG edges).")


class RunDetail(_Response):
    """Response of ``GET /kfjupyter/api/runs/{id}``."""

    run: RunSummary = Field(description="The run.")
    parameters: dict[str, JsonValue] = Field(description="Parameter values the run used.")
    steps: list[StepSummary] = Field(description="Steps in the order they were first stored.")
    metrics: dict[str, float] = Field(description="Last value of every metric the run logged.")
    notebook_path: str | None = Field(
        description="What the run ran, relative to the server's root directory, to open in JupyterLab: a "
        "pipeline's notebook or a script training job's script; None when it lies outside the root, "
        "is gone, or there is none (a training job of a Python function)."
    )
    external_id: str | None = Field(
        None, description="The run's id in the engine it was submitted to (a Kubeflow Pipelines run id)."
    )
    external_url: str | None = Field(
        None, description="An http(s) link to the run in that engine's UI, when known."
    )


class LogText(_Model):
    """Response of ``GET /kfjupyter/api/runs/{id}/logs/{step}?offset=N``."""

    run_id: str = Field(description="Run id.")
    step: str = Field(description="Step name.")
    text: str = Field(description="Whole log lines from the requested offset.")
    next_offset: int = Field(description="Offset to ask for next to follow the log.")
    exists: bool = Field(description="Whether the step has written a log yet.")


class MetricPoint(_Model):
    """One logged metric value."""

    step: str | None = Field(description="Pipeline step that logged it, if any.")
    name: str = Field(description="Metric name.")
    value: float = Field(description="The value.")
    index: int = Field(description="Position in the series, e.g. the epoch.")
    ts: float = Field(description="When it was logged (Unix seconds).")


class MetricChart(_Model):
    """One metric drawn as ``%kf metrics`` draws it in a notebook (built by ``kfjupyter.charts``)."""

    metric: str = Field(description="Metric name.")
    single: bool = Field(
        description="Logged at one position only: show the value as a number; there is no spec."
    )
    spec: dict[str, JsonValue] | None = Field(
        description="Vega-Lite v5 spec of the chart (one line per step, rank or run), or null when single."
    )


class MetricHistory(_Model):
    """Response of ``GET /kfjupyter/api/runs/{id}/metrics``: every value, by name then index."""

    run_id: str = Field(description="Run id.")
    metrics: list[MetricPoint] = Field(description="Every stored value.")
    charts: list[MetricChart] = Field(description="One chart per metric name, sorted by name.")


class ArtifactSummary(_Model):
    """One artifact a step produced."""

    step: str = Field(description="Step that produced it.")
    name: str = Field(description="Artifact name, unique within the step.")
    kind: str = Field(description="Artifact kind, e.g. 'log', 'dataset', 'model'.")
    path: str = Field(description="Path relative to the run store home.")
    media_type: str = Field(description="MIME type of the file.")
    size: int = Field(description="File size in bytes.")
    created_at: float = Field(description="When it was recorded (Unix seconds).")
    preview: dict[str, JsonValue] = Field(
        description="Small summary of a saved value: type, shape, dtype, a DataFrame's first rows."
    )


class ArtifactList(_Model):
    """Response of ``GET /kfjupyter/api/runs/{id}/artifacts``."""

    run_id: str = Field(description="Run id.")
    artifacts: list[ArtifactSummary] = Field(description="Artifacts ordered by step then name.")


class CompareQuery(_Model):
    """Query of ``GET /kfjupyter/api/runs/compare?ids=a,b,c``."""

    ids: str = Field(min_length=1, description="2 to 50 distinct run ids, comma-separated.")

    @field_validator("ids")
    @classmethod
    def _two_to_fifty(cls, value: str) -> str:
        ids = [part.strip() for part in value.split(",") if part.strip()]
        if len(set(ids)) != len(ids):
            raise ValueError("run ids must be distinct")
        if not 2 <= len(ids) <= MAX_COMPARED:
            raise ValueError(f"compare 2 to {MAX_COMPARED} runs, got {len(ids)}")
        return ",".join(ids)

    @property
    def run_ids(self) -> list[str]:
        """The ids, in the order given."""
        return self.ids.split(",")


class ComparedRun(_Model):
    """One run of a comparison: what it is, its parameters, last metrics and metric history."""

    run: RunSummary = Field(description="The run.")
    parameters: dict[str, JsonValue] = Field(description="Parameter values the run used.")
    metrics: dict[str, float] = Field(description="Last value of every metric (highest index).")
    history: list[MetricPoint] = Field(
        description="Metric values by name then index; one per index, thinned to at most 500 per name."
    )


class RunComparison(_Model):
    """Response of ``GET /kfjupyter/api/runs/compare``: runs side by side, in the order asked."""

    runs: list[ComparedRun] = Field(description="The compared runs, in the order of ``ids``.")
    parameters: list[str] = Field(description="Every parameter name any run used, sorted.")
    differing: list[str] = Field(description="Parameter names whose values are not all equal.")
    metrics: list[str] = Field(description="Every metric name any run logged, sorted.")
    best: dict[str, str] = Field(
        description="Per metric, the id of the run with the best last value (lowest for names like "
        "loss/error, else highest); left out when fewer than two runs logged it or all tie."
    )
    charts: list[MetricChart] = Field(
        description="Per metric name (sorted), the runs' histories overlaid, one line per run."
    )


class RunNotebookRequest(_Model):
    """Body of ``POST /kfjupyter/api/notebooks/run``."""

    path: str = Field(min_length=1, description="Notebook path relative to the server's root directory.")
    parameters: dict[str, str] = Field(
        default_factory=dict, description="NAME=VALUE overrides of the notebook's parameters."
    )
    no_cache: bool = Field(False, description="Run every step even when cached outputs fit.")
    from_step: str | None = Field(
        None, min_length=1, description="Run this step and the steps below it again (--from)."
    )
    only: str | None = Field(None, min_length=1, description="Run this step alone (--only).")
    reuse: str | None = Field(
        None, min_length=1, description="With from_step/only: take the steps above from this run (--reuse)."
    )

    @field_validator("parameters")
    @classmethod
    def _names_are_identifiers(cls, value: dict[str, str]) -> dict[str, str]:
        return checked_parameters(value)

    @field_validator("from_step", "only", "reuse")
    @classmethod
    def _step_fits_a_command_line(cls, value: str | None) -> str | None:
        return checked_step(value)


class PlanRequest(RunNotebookRequest):
    """Body of ``POST /kfjupyter/api/notebooks/plan``: the run to plan, as ``notebooks/run`` takes it."""


class RunStarted(_Model):
    """Response of ``POST /kfjupyter/api/notebooks/run`` (202): the run that was started."""

    run_id: str = Field(description="Id of the new run; follow it with ``GET runs/{id}``.")
    notebook: str = Field(description="The notebook path, relative to the server root.")


class CancelRequested(_Model):
    """Response of ``POST /kfjupyter/api/runs/{id}/cancel`` (202): the run's process was told to stop."""

    run_id: str = Field(description="Run id; poll ``GET runs/{id}`` until it is 'cancelled'.")
    pid: int = Field(description="Process that was sent SIGINT (the local process driving the run).")


class LintRequest(_Model):
    """Body of ``POST /kfjupyter/api/notebooks/lint``: a notebook as the editor holds it (unsaved)."""

    notebook: dict[str, JsonValue] = Field(description="The notebook's nbformat v4 JSON document.")
    target: Literal["local", "cluster"] = Field(
        "local", description="Where it would run: 'local' adds the settings a local run ignores."
    )
    path: str | None = Field(
        None,
        description="Where the notebook is saved, relative to the server's root: the folder in which "
        "the notebooks its steps run are found. Without it (or outside the root) those steps cannot "
        "be checked.",
    )


class LintResult(_Model):
    """Response of ``POST /kfjupyter/api/notebooks/lint``: findings and the step graph."""

    diagnostics: list[Diagnostic] = Field(description="Findings ordered by cell, then line.")
    graph: LintGraph = Field(description="The pipeline graph: parameters, steps and the edges between them.")


RESPONSE_MODELS: tuple[type[BaseModel], ...] = (
    Health,
    ErrorBody,
    RunListQuery,
    RunList,
    RunDetail,
    LogText,
    MetricHistory,
    ArtifactList,
    CompareQuery,
    RunComparison,
    RunNotebookRequest,
    PlanRequest,
    RunStarted,
    CancelRequested,
    LintRequest,
    LintResult,
)
