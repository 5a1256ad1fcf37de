"""The records the run store keeps: runs, steps, events, metrics, artifacts and cache entries.

Every record is an immutable pydantic v2 model with ``extra="forbid"``: a misspelt field is an
error, and a record read from the store cannot be changed behind the store's back. Change a record
with ``record.model_copy(update=...)`` and write it back. Timestamps are Unix seconds (float).
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, model_validator

from kfjupyter.store.details import Engine, LocalDetails, RunDetails, empty_details

RunKind = Literal["pipeline", "training"]
RunStatus = Literal["pending", "running", "succeeded", "failed", "cancelled", "interrupted"]
StepStatus = Literal[
    "pending",
    "ready",
    "running",
    "succeeded",
    "failed",
    "cached",
    "upstream_failed",
    "cancelled",
    "skipped",
    "interrupted",
]

#: Run states that end a run for good; a run in one of them never changes status again.
TERMINAL_RUN_STATUSES: frozenset[RunStatus] = frozenset({"succeeded", "failed", "cancelled"})
#: Run states whose owner process is expected to be alive.
ACTIVE_RUN_STATUSES: frozenset[RunStatus] = frozenset({"pending", "running"})

_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_NAME_PATTERN = r"^[^/\\\x00]{1,200}$"


def new_run_id(now: float | None = None) -> str:
    """Return a fresh run id: UTC ``yymmdd-hhmmss`` plus 4 random characters (``260115-142233-k3f9``).

    Ids sort by creation second, are short enough to type and safe as a directory name.
    """
    stamp = datetime.fromtimestamp(time.time() if now is None else now, tz=timezone.utc)
    suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(4))
    return f"{stamp:%y%m%d-%H%M%S}-{suffix}"


def _relative_path(value: str) -> str:
    parts = value.split("/")
    if value.startswith("/") or "\\" in value or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"path must be relative to the store home, '/'-separated, without '..': {value!r}")
    return value


def _step_name(value: str) -> str:
    if value in (".", ".."):
        raise ValueError(f"step name {value!r} is reserved")
    return value


RunId = Annotated[str, Field(pattern=_ID_PATTERN, description="Run id (letters, digits, '.', '_', '-').")]
StepName = Annotated[
    str,
    Field(pattern=_NAME_PATTERN, description="Step name; no '/', '\\' or NUL (it names a log file)."),
    AfterValidator(_step_name),
]
RelativePath = Annotated[str, AfterValidator(_relative_path)]
JsonObject = dict[str, JsonValue]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunRecord(_Record):
    """One pipeline or training run, from submission to its final status."""

    id: RunId = Field(default_factory=new_run_id, description="Sortable, typeable run id.")
    kind: RunKind = Field(description="What was run: a notebook pipeline or a training job.")
    name: str = Field(description="Display name (pipeline or job name).")
    notebook: str | None = Field(None, description="Path of the notebook the run came from, if any.")
    backend: Engine = Field(description="Where it runs: 'local', 'kfp' or 'kubernetes'.")
    status: RunStatus = Field("pending", description="Current status.")
    created_at: float = Field(default_factory=time.time, description="When the run was created.")
    started_at: float | None = Field(None, description="When the run started executing.")
    finished_at: float | None = Field(None, description="When the run ended (or was found interrupted).")
    parameters: JsonObject = Field(default_factory=dict, description="Pipeline/job parameters (JSON).")
    error: str | None = Field(None, description="User-safe reason the run failed or stopped.")
    owner_pid: int | None = Field(
        None, description="Pid of the local process driving the run; None when nothing local drives it."
    )
    owner_host: str | None = Field(None, description="Host name of the owner process; None means this host.")
    owner_start: str | None = Field(
        None,
        description="When the owner process started (see kfjupyter.store.liveness.process_start), to tell "
        "it from a later process given the same pid; None when unknown.",
    )
    external_id: str | None = Field(None, description="Id in the remote backend, e.g. the KFP run id.")
    details: RunDetails = Field(
        default_factory=LocalDetails,  # the empty details of ``backend`` are filled in before validation
        description="What the engine keeps about the run (its KFP server, Kubernetes namespace...).",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_details(cls, data: object) -> object:
        """Empty details of the run's engine when none are given."""
        if isinstance(data, dict) and data.get("details") is None and "backend" in data:
            try:
                engine = Engine(data["backend"])
            except ValueError:
                return data  # the backend field says what is wrong
            return {**data, "details": empty_details(engine)}
        return data

    @model_validator(mode="after")
    def _details_of_backend(self) -> RunRecord:
        if self.details.backend != self.backend:
            raise ValueError(f"details of a {self.details.backend} run given for a {self.backend} run")
        return self


class RunUpdate(_Record):
    """A change to a run. Only the fields given explicitly are applied (``None`` clears a field)."""

    status: RunStatus | None = Field(None, description="New status; transitions are checked.")
    started_at: float | None = Field(None, description="Start time; set automatically on 'running'.")
    finished_at: float | None = Field(None, description="End time; set automatically on a final status.")
    error: str | None = Field(None, description="User-safe error text.")
    owner_pid: int | None = Field(None, description="Pid of the process now driving the run.")
    owner_host: str | None = Field(None, description="Host of the process now driving the run.")
    owner_start: str | None = Field(
        None, description="Start time token of that process; cleared when owner_pid changes without one."
    )
    external_id: str | None = Field(None, description="Id in the remote backend.")
    details: RunDetails | None = Field(None, description="Replaces the details (of the run's own engine).")


class StepRecord(_Record):
    """The state of one step of a run; written by the runner on every transition."""

    run_id: RunId = Field(description="Run this step belongs to.")
    name: StepName = Field(description="Step name, unique within the run.")
    status: StepStatus = Field("pending", description="Current status.")
    cached: bool = Field(False, description="Whether the outputs were reused from an earlier run.")
    attempt: int = Field(
        0, ge=0, description="How many times the step has been started (0 before the first)."
    )
    started_at: float | None = Field(None, description="When the current attempt started.")
    finished_at: float | None = Field(None, description="When the step reached its final status.")
    error: str | None = Field(None, description="User-safe error text for a failed step.")
    cache_key: str | None = Field(None, description="Cache key of the step's inputs and code.")
    exit_code: int | None = Field(None, description="Exit code of the step process, if it exited.")
    signal: int | None = Field(None, description="Signal that killed the step process, if any.")
    upstream: list[str] = Field(default_factory=list, description="Names of the steps this one waits for.")


class EventRecord(_Record):
    """Something that happened during a run, in the order it was recorded."""

    id: int = Field(0, ge=0, description="Store-assigned, increasing id; 0 before the event is stored.")
    run_id: RunId = Field(description="Run the event belongs to.")
    step: str | None = Field(None, description="Step the event is about, if any.")
    ts: float = Field(default_factory=time.time, description="When it happened.")
    type: str = Field(min_length=1, description="Event type, e.g. 'step_started'.")
    payload: JsonObject = Field(default_factory=dict, description="Event details (JSON).")


class MetricRecord(_Record):
    """One value of a metric; the store keeps every value, so a series is its full history."""

    run_id: RunId = Field(description="Run the metric belongs to.")
    step: str | None = Field(None, description="Pipeline step that logged it, if any.")
    name: str = Field(min_length=1, description="Metric name, e.g. 'loss'.")
    value: float = Field(description="The value (NaN and infinities are kept).")
    index: int = Field(0, description="Position in the series, e.g. the training step or epoch.")
    ts: float = Field(default_factory=time.time, description="When it was logged.")


class ArtifactRecord(_Record):
    """A file a step produced (a serialized value, a figure, a log...), stored under the store home."""

    run_id: RunId = Field(description="Run the artifact belongs to.")
    step: str = Field(description="Step that produced it.")
    name: str = Field(min_length=1, description="Artifact name, unique within the step.")
    kind: str = Field(
        pattern=r"^[a-z][a-z0-9_-]*$", description="'value', 'figure', 'file', 'log', 'dataframe', ..."
    )
    path: RelativePath = Field(description="File path relative to the store home, '/'-separated.")
    media_type: str = Field("application/octet-stream", description="MIME type of the file.")
    size: int = Field(0, ge=0, description="File size in bytes.")
    sha256: str = Field("", pattern=r"^([0-9a-f]{64})?$", description="Hex SHA-256 of the file.")
    preview: JsonObject = Field(default_factory=dict, description="Small summary: shape, dtype, head...")
    serializer: str | None = Field(None, description="Name of the serializer that wrote the file.")
    created_at: float = Field(default_factory=time.time, description="When it was recorded.")


class CachedOutput(_Record):
    """One output of a cached step: enough to find and verify the file again."""

    name: str = Field(min_length=1, description="Output (artifact) name.")
    path: RelativePath = Field(description="File path relative to the store home.")
    sha256: str = Field("", pattern=r"^([0-9a-f]{64})?$", description="Hex SHA-256 of the file.")


class CachedRead(_Record):
    """A local module, file or folder a cached step read, to check before its outputs are reused."""

    kind: Literal["module", "file", "dir"] = Field(description="What was read.")
    path: str = Field(min_length=1, description="Absolute path of the module's file, the file or folder.")
    name: str = Field("", description="The module's name (modules only).")
    size: int = Field(ge=-1, description="Size in bytes (0 for a folder; -1: it changed while the step ran).")
    mtime_ns: int = Field(ge=0, description="Modification time, ns (0: hash it at the next check).")
    sha256: str = Field(
        pattern=r"^([0-9a-f]{64})?$", description="Hex SHA-256 of the content (a folder: of its entry names)."
    )


class CacheEntry(_Record):
    """Where the outputs of a step with a given cache key were stored."""

    cache_key: str = Field(min_length=1, description="Hash of the step's code, inputs and settings.")
    run_id: RunId = Field(description="Run that produced the outputs.")
    step: str = Field(description="Step that produced the outputs.")
    created_at: float = Field(default_factory=time.time, description="When the entry was written.")
    outputs: list[CachedOutput] = Field(default_factory=list, description="The step's outputs.")
    reads: list[CachedRead] | None = Field(
        None, description="What the step read while it ran; None: not recorded (never reused)."
    )
