"""What each step of a local run was given, and what changed since a step last ran.

When a step starts (or is taken from the cache or from an earlier run), the runner records one
``step_inputs`` event for it: the values of the parameters it reads, and for every input variable
the step that produced it and the saved file (path under the store home, serializer, sha256).
With them go the parts its cache key is made of (a hash per cell, the parameters, the inputs'
hashes, the environment). ``%kf load`` reads the former back; the plan compares the latter with
the step's last recorded run of the same notebook to say which cell, input, parameter or
environment changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from kfjupyter.compiler.ir import Pipeline, Step
from kfjupyter.errors import NotFound
from kfjupyter.runner import planning
from kfjupyter.runner.cache import environment_fingerprint
from kfjupyter.runner.job import SavedOutput
from kfjupyter.store import Engine, EventRecord, RunStore

EVENT = "step_inputs"
#: How many earlier runs of a notebook the plan looks through for a step's last recorded run.
BASELINE_RUNS = 5


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputRef(_Model):
    """One value a step was given: who produced it and where it was saved."""

    step: str = Field(description="The upstream step that produced the value.")
    path: str = Field(description="The saved file: relative to the store home, or absolute outside it.")
    serializer: str = Field("", description="Serializer that wrote it ('': tell by its extension).")
    sha256: str = Field("", description="Hex SHA-256 of the file.")


class CellHash(_Model):
    """One cell a step runs, by its index and the hash of its source."""

    cell: int
    sha256: str


class KeyParts(_Model):
    """What a step's cache key is made of, kept apart so two runs can be compared."""

    code: list[CellHash] = Field(default_factory=list, description="The step's own cells.")
    setup: list[CellHash] = Field(default_factory=list, description="The set-up cells it runs first.")
    parameters: dict[str, JsonValue] = Field(default_factory=dict, description="Parameters it reads.")
    inputs: dict[str, str] = Field(default_factory=dict, description="Input variable -> content hash.")
    producers: dict[str, str] = Field(default_factory=dict, description="Input variable -> producing step.")
    env: str = Field("", description="Fingerprint of Python and the installed distributions.")
    declared: dict[str, JsonValue] = Field(default_factory=dict, description="Declared files and variables.")


class StepInputs(_Model):
    """The ``step_inputs`` event's payload."""

    parameters: dict[str, JsonValue] = Field(default_factory=dict)
    inputs: dict[str, InputRef] = Field(default_factory=dict)
    parts: KeyParts = Field(default_factory=KeyParts)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def key_parts(
    pipeline: Pipeline,
    step: Step,
    parameters: Mapping[str, JsonValue],
    produced: Mapping[str, Mapping[str, SavedOutput]],
    *,
    workdir: Path,
    environ: Mapping[str, str] | None = None,
) -> KeyParts:
    """The parts of ``step``'s cache key (see :func:`kfjupyter.runner.planning.cache_key`)."""
    return KeyParts(
        code=[CellHash(cell=b.cell, sha256=_hash(b.source)) for b in step.blocks],
        setup=[CellHash(cell=b.cell, sha256=_hash(b.source)) for b in planning.setup_blocks(pipeline, step)],
        parameters=planning.step_parameters(step, parameters),
        inputs={
            name: produced[p][name].sha256 for name, p in step.inputs.items() if name in produced.get(p, {})
        },
        producers=dict(step.inputs),
        env=environment_fingerprint(),
        declared=planning.declared_inputs(step, workdir, os.environ if environ is None else environ),
    )


def record(
    store: RunStore,
    run_id: str,
    step: Step,
    parameters: Mapping[str, JsonValue],
    produced: Mapping[str, Mapping[str, SavedOutput]],
    parts: KeyParts,
) -> None:
    """Record what ``step`` is given in run ``run_id``: its parameters and its inputs' files."""
    home = store.home.resolve()
    inputs = {}
    for name, producer in step.inputs.items():
        out = produced.get(producer, {}).get(name)
        if out is None:
            continue
        path = Path(out.path).resolve()
        shown = path.relative_to(home).as_posix() if path.is_relative_to(home) else str(path)
        inputs[name] = InputRef(step=producer, path=shown, serializer=out.serializer, sha256=out.sha256)
    payload = StepInputs(parameters=planning.step_parameters(step, parameters), inputs=inputs, parts=parts)
    store.add_event(
        EventRecord(run_id=run_id, step=step.name, type=EVENT, payload=payload.model_dump(mode="json"))
    )


def recorded(store: RunStore, run_id: str) -> dict[str, StepInputs]:
    """The last ``step_inputs`` record of each step of run ``run_id`` (none for runs made before them)."""
    found: dict[str, StepInputs] = {}
    for event in store.list_events(run_id):
        if event.type != EVENT or event.step is None:
            continue
        with contextlib.suppress(ValidationError):
            found[event.step] = StepInputs.model_validate(event.payload)
    return found


def baseline(
    store: RunStore, notebook: str, steps: Iterable[str], *, exclude: str | None = None
) -> dict[str, tuple[str, str, StepInputs]]:
    """For each step, its last recorded run of ``notebook``: (run id, its status there, what it was given).

    ``exclude``: a run not to look at (the run being made).
    """
    wanted = set(steps)
    found: dict[str, tuple[str, str, StepInputs]] = {}
    for run in store.list_runs(kind="pipeline", notebook=notebook, limit=BASELINE_RUNS + 1):
        if run.backend is not Engine.LOCAL or run.id == exclude:
            continue
        with contextlib.suppress(NotFound):  # deleted meanwhile
            statuses = {s.name: s.status for s in store.get_steps(run.id)}
            for name, given in recorded(store, run.id).items():
                if name in wanted and name not in found:
                    found[name] = (run.id, statuses.get(name, "unknown"), given)
        if wanted <= set(found):
            break
    return found


def _cells(kind: str, before: list[CellHash], now: list[CellHash]) -> list[str]:
    old = {c.sha256 for c in before}
    changed = [c.cell for c in now if c.sha256 not in old]
    reasons = [f"{kind} {n} changed" for n in changed]
    if not reasons and [c.sha256 for c in before] != [c.sha256 for c in now]:
        reasons.append(f"{kind}s were removed or reordered")
    return reasons


def explain(before: KeyParts, now: KeyParts) -> list[str]:
    """What differs between two runs of a step: which cell, input, parameter or environment."""
    reasons = _cells("cell", before.code, now.code) + _cells("set-up cell", before.setup, now.setup)
    for name in sorted(set(before.parameters) | set(now.parameters)):
        if name not in now.parameters:
            reasons.append(f"it no longer reads parameter '{name}'")
        elif name not in before.parameters:
            reasons.append(f"it now reads parameter '{name}'")
        elif before.parameters[name] != now.parameters[name]:
            reasons.append(
                f"parameter '{name}' changed ({_short(before.parameters[name])} -> {_short(now.parameters[name])})"
            )
    for name in sorted(set(before.inputs) | set(now.inputs)):
        producer = now.producers.get(name) or before.producers.get(name, "?")
        if name not in now.inputs:
            reasons.append(f"it no longer takes input '{name}' (from step '{producer}')")
        elif name not in before.inputs:
            reasons.append(f"it now takes input '{name}' from step '{producer}'")
        elif before.inputs[name] != now.inputs[name]:
            reasons.append(f"input '{name}' from step '{producer}' changed")
    if before.env != now.env:
        reasons.append("the environment changed (Python, kfjupyter or installed packages)")
    if before.declared != now.declared:
        reasons.append("files or environment variables it declares (depends-on) changed")
    return reasons


def _short(value: JsonValue) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
