"""What a step process is given and what it hands back.

The executor writes a :class:`StepJob` for each attempt; the step process (see
:mod:`kfjupyter.runner.child`) runs it and writes a :class:`StepResult` next to it. Both are plain
JSON files in the step's directory, so a crashed process leaves a readable trail. They are plain
dataclasses on purpose: the step process starts on every attempt, and importing pydantic there
would cost more than most steps take to run.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kfjupyter.errors import InvalidInput

JsonValue = Any
T = TypeVar("T")


def _build(cls: type[T], data: Any, where: str) -> T:
    """Build dataclass ``cls`` from decoded JSON, refusing unknown or missing fields."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: expected an object, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - names
    if unknown:
        raise InvalidInput(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    try:
        return cls(**data)
    except TypeError as error:
        raise InvalidInput(f"{where}: {error}") from None


class _Json:
    """JSON round-trip for the dataclasses below."""

    def to_json(self) -> str:
        """Serialise to JSON text."""
        return json.dumps(dataclasses.asdict(self))  # type: ignore[call-overload]


@dataclass
class ValueRef(_Json):
    """A value saved by an upstream step."""

    path: str
    serializer: str
    sha256: str


@dataclass
class Source(_Json):
    """Code to run, with where it came from (for error messages)."""

    cell: int
    code: str
    first_line: int = 1
    origin: str | None = None  # "prep.ipynb cell 3": code a step runs from another notebook


@dataclass
class TrackedRead(_Json):
    """A local module, file or folder a step read, as it was when the step ended."""

    kind: str  # "module", "file" or "dir"
    path: str  # absolute
    size: int  # bytes (0 for a folder; -1: it changed while the step ran, never reuse)
    mtime_ns: int  # 0: too recent to trust, hash it at the next check
    sha256: str  # of the content (a folder: of its sorted entry names)
    name: str = ""  # the module's name


@dataclass
class StepJob(_Json):
    """Everything one attempt of one step needs, and nothing more."""

    run_id: str
    step: str
    workdir: str
    step_dir: str
    log_path: str
    kind: str = "step"
    setup: list[Source] = field(default_factory=list)
    code: list[Source] = field(default_factory=list)
    parameters: dict[str, JsonValue] = field(default_factory=dict)
    inputs: dict[str, ValueRef] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)  # names a metrics step records
    scratch_dir: str | None = None  # RAM-backed place to save outputs first (None: step_dir/outputs)
    track_reads: bool = True  # record the local modules and files the step reads (for the cache)
    private_dirs: list[str] = field(default_factory=list)  # the run's own folders: reads not recorded
    relink: dict[str, list[str]] = field(default_factory=dict)  # container -> objects it holds (guard.relink)
    unchanged: dict[str, list[str]] = field(
        default_factory=dict
    )  # input taken as only read -> [producer, later reader]

    @classmethod
    def from_json(cls, text: str) -> StepJob:
        """Parse a job file."""
        data = json.loads(text)
        job = _build(cls, data, "step job")
        job.setup = [_build(Source, s, "step job setup") for s in job.setup]
        job.code = [_build(Source, s, "step job code") for s in job.code]
        job.inputs = {k: _build(ValueRef, v, f"step job input {k}") for k, v in job.inputs.items()}
        return job


@dataclass
class SavedOutput(_Json):
    """One value the step saved for its downstream steps."""

    name: str
    path: str
    serializer: str
    size: int
    sha256: str
    preview: dict[str, JsonValue] = field(default_factory=dict)


@dataclass
class StepResult(_Json):
    """What the step process reports back."""

    ok: bool
    outputs: list[SavedOutput] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    error: str | None = None
    error_cell: int | None = None
    reads: list[TrackedRead] | None = None  # None: not recorded

    @classmethod
    def from_json(cls, text: str) -> StepResult:
        """Parse a result file."""
        result = _build(cls, json.loads(text), "step result")
        result.outputs = [_build(SavedOutput, o, "step output") for o in result.outputs]
        if result.reads is not None:
            result.reads = [_build(TrackedRead, r, "step read") for r in result.reads]
        return result
