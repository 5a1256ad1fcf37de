"""Load what a step of a recorded run was given (or produced) back into Python objects.

``%kf load RUN STEP`` uses it to put a step's real inputs and parameters into a kernel, so the
step's cells can be run again by hand on the data that failed. Values are loaded by the
serializer that saved them, memory-mapped where it allows (NumPy ``.npy`` maps the file
copy-on-write, Arrow files are mapped by Arrow); nothing is copied until used.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from kfjupyter.compiler.ir import JsonValue
from kfjupyter.errors import InvalidInput, NotFound
from kfjupyter.runner import stepinputs
from kfjupyter.runner.selection import run_outputs
from kfjupyter.serializers import load_value
from kfjupyter.store import Engine, RunRecord, RunStore


@dataclass
class LoadedValue:
    """One name to define: a parameter's value, or a saved value and where it came from."""

    name: str
    kind: str  # "parameter", "input" or "output"
    source: str  # the producing step (inputs), this step (outputs), "" for parameters
    path: str = ""
    serializer: str = ""


@dataclass
class StepValues:
    """What loading one step defines, described; :meth:`load` reads the values."""

    run_id: str
    step: str
    outputs: bool
    entries: list[LoadedValue] = field(default_factory=list)
    parameters: dict[str, JsonValue] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """The names it defines, in order: parameters first, then values."""
        return [e.name for e in self.entries]

    def load(self) -> dict[str, object]:
        """The values by name: parameters as recorded, saved values loaded (memory-mapped where possible)."""
        values: dict[str, object] = {}
        for entry in self.entries:
            if entry.kind == "parameter":
                values[entry.name] = self.parameters[entry.name]
            else:
                values[entry.name] = load_value(Path(entry.path), entry.serializer or None)
        return values


def check_step(store: RunStore, run_id: str, step: str) -> RunRecord:
    """The run of a step to load: ``InvalidInput`` for a training run, ``NotFound`` for an unknown step."""
    run = store.get_run(run_id)
    if run.kind != "pipeline":
        raise InvalidInput(f"run {run_id} is a training run; only pipeline steps can be loaded")
    names = [s.name for s in store.get_steps(run_id)]
    if step not in names:
        raise NotFound(f"run {run_id} has no step {step!r}; its steps are: {', '.join(names) or 'none'}")
    return run


def describe(store: RunStore, run_id: str, step: str, *, outputs: bool = False) -> StepValues:
    """What ``load`` of ``step`` in local run ``run_id`` defines: its recorded inputs and parameters, or its outputs.

    A Kubeflow Pipelines run's values are artifacts in its pipeline root: see
    :func:`kfjupyter.kfp.stepvalues.describe_kfp`.
    """
    run = check_step(store, run_id, step)
    if run.backend is not Engine.LOCAL:
        raise InvalidInput(
            f"run {run_id} ran on {run.backend}, not on this machine: its files are not in the run store"
        )
    found = StepValues(run_id, step, outputs)
    if outputs:
        values = run_outputs(store, run_id, step)
        if values is None:
            status = next(s.status for s in store.get_steps(run_id) if s.name == step)
            raise InvalidInput(
                f"step {step!r} of run {run_id} has no outputs to load: it {status_words(status)}; "
                f"load its inputs instead (`%kf load {run_id} {step}`)"
            )
        for name, out in values.items():
            found.entries.append(LoadedValue(name, "output", step, out.path, out.serializer))
        return found
    given = stepinputs.recorded(store, run_id).get(step)
    if given is None:
        raise InvalidInput(
            f"run {run_id} has no record of what step {step!r} was given: the step never started, or the "
            "run was made by an older kfjupyter; run the notebook again, or load the outputs of its "
            f"upstream steps (`%kf load {run_id} STEP --outputs`)"
        )
    found.parameters = dict(given.parameters)
    for name in given.parameters:
        found.entries.append(LoadedValue(name, "parameter", ""))
    for name, ref in given.inputs.items():
        path = Path(ref.path) if Path(ref.path).is_absolute() else store.resolve(ref.path)
        if not path.is_file():
            raise NotFound(
                f"input {name!r} of step {step!r} (from step '{ref.step}') is gone: {path} was deleted, "
                "probably with the run that made it; run the notebook again"
            )
        found.entries.append(LoadedValue(name, "input", ref.step, str(path), ref.serializer))
    return found


def status_words(status: str) -> str:
    """A step status as the end of a sentence."""
    return {
        "failed": "failed",
        "upstream_failed": "did not run (an upstream step failed)",
        "skipped": "was skipped",
        "cancelled": "was cancelled",
        "pending": "has not run",
        "running": "is still running",
        "interrupted": "was interrupted",
    }.get(status, f"is {status}")


def load_code(run_id: str, step: str, *, outputs: bool = False) -> str:
    """Python for an IPython kernel that runs ``%kf load`` of the step (the extension loaded first).

    The magic's line is a Python string literal, so no run id or step name can break out of it.
    """
    line = f"load {shlex.quote(run_id)} {shlex.quote(step)}" + (" --outputs" if outputs else "")
    return (
        'get_ipython().extension_manager.load_extension("kfjupyter")\n'
        f'get_ipython().run_line_magic("kf", {line!r})\n'
    )
