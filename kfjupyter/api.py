"""The Python API: run a notebook as a pipeline and get a run object back.

``kfjupyter.run_notebook(path, parameters={...})`` compiles the notebook, refuses it with a clear
error when lint finds errors, and runs it locally with caching. The command line and the server
call these same functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kfjupyter.compiler.ir import JsonValue, Pipeline
from kfjupyter.compiler.lint import compile_notebook, raise_on_errors
from kfjupyter.compiler.parameters import resolve_parameters
from kfjupyter.errors import Conflict, InvalidInput
from kfjupyter.notebook.diagnostics import Diagnostic
from kfjupyter.notebook.reader import notebook_path
from kfjupyter.runner import forkserver, reuse
from kfjupyter.runner.forkserver import ForkServer
from kfjupyter.runner.loading import StepValues, describe
from kfjupyter.runner.local import EventCallback, LocalOptions, LocalRun
from kfjupyter.runner.reuse import PlannedStep
from kfjupyter.runner.selection import EVERYTHING, Selection, select
from kfjupyter.store import Engine, MetricRecord, RunRecord, RunStore, StepRecord, open_store, pid_alive


@dataclass
class Run:
    """A finished (or interrupted) run as the caller sees it."""

    record: RunRecord
    steps: list[StepRecord]
    metrics: list[MetricRecord] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # lint's warnings and infos, when compiled

    @property
    def id(self) -> str:
        """The run id."""
        return self.record.id

    @property
    def status(self) -> str:
        """Final status: succeeded, failed, cancelled or interrupted."""
        return self.record.status

    def last_metrics(self) -> dict[str, float]:
        """The last value of every metric the run logged."""
        return {m.name: m.value for m in sorted(self.metrics, key=lambda m: (m.ts, m.index))}

    def to_json(self) -> dict[str, Any]:
        """The run as the CLI's ``--json`` object."""
        steps = []
        for s in self.steps:
            started, finished = s.started_at or 0.0, s.finished_at or 0.0
            steps.append(
                {
                    "name": s.name,
                    "status": s.status,
                    "cached": s.cached,
                    "started_at": started,
                    "finished_at": finished,
                    "duration_s": max(0.0, finished - started) if s.started_at and s.finished_at else 0.0,
                    "error": s.error,
                }
            )
        return {"run_id": self.id, "status": self.status, "steps": steps, "metrics": self.last_metrics()}


def load_run(store: RunStore, run_id: str) -> Run:
    """Read a run, its steps and metrics from the store."""
    return Run(store.get_run(run_id), store.get_steps(run_id), store.list_metrics(run_id))


def run_notebook(
    notebook: str | Path,
    parameters: Mapping[str, JsonValue] | None = None,
    *,
    overrides: Sequence[str] = (),
    cache: bool = True,
    max_parallel: int | None = None,
    store: RunStore | None = None,
    on_event: EventCallback | None = None,
    run_id: str | None = None,
    from_step: str | None = None,
    only: str | None = None,
    reuse_run: str | None = None,
) -> Run:
    """Run ``notebook`` as a pipeline on this machine and return the finished run.

    ``run_id`` lets a caller (a widget, the server) know the run's id before it starts.
    ``from_step`` runs that step and all below it again, ``only`` runs one step alone; the steps
    they need come from the cache or, with ``reuse_run``, from that run (see
    :mod:`kfjupyter.runner.selection`); one found in neither is an ``InvalidInput`` before anything runs.
    """
    path = notebook_path(notebook)
    # Take a warm step process server (or start one: it warms up while we compile).
    server = forkserver.acquire()
    own = store is None
    try:
        pipeline, diagnostics = compile_notebook(path)
        raise_on_errors(diagnostics)
        values = resolve_parameters(pipeline, parameters, overrides)
        store = store or open_store()
        store.mark_interrupted()
        chosen = select(pipeline, from_step=from_step, only=only, reuse=reuse_run, store=store)
        if chosen.partial:  # refuse before the run exists when a needed step cannot be taken as it is
            _plan(store, pipeline, values, cache, path, chosen)
        fields: dict[str, Any] = {"id": run_id} if run_id is not None else {}
        try:
            record = RunRecord(
                kind="pipeline",
                name=pipeline.name,
                notebook=str(path),
                backend=Engine.LOCAL,
                parameters=values,
                **fields,
            )
        except ValidationError:
            raise InvalidInput(
                f"run id {run_id!r} is not valid: use letters, digits, '.', '_' and '-'"
            ) from None
        store.create_run(record)
        run = _execute(
            store, record, pipeline, values, path.parent, cache, max_parallel, on_event, server, chosen
        )
        run.diagnostics = diagnostics
        return run
    finally:
        forkserver.release(server)
        if own and store is not None:
            store.close()


def plan_notebook(
    notebook: str | Path,
    parameters: Mapping[str, JsonValue] | None = None,
    *,
    overrides: Sequence[str] = (),
    cache: bool = True,
    store: RunStore | None = None,
    from_step: str | None = None,
    only: str | None = None,
    reuse_run: str | None = None,
) -> list[PlannedStep]:
    """What ``run_notebook`` would do now with each step (run it or reuse its cached outputs), and why.

    Runs nothing: the decisions are the runner's own (:func:`kfjupyter.runner.reuse.decide`).
    Steps ``from_step``/``only`` leave out are not listed.
    """
    path = notebook_path(notebook)
    pipeline, diagnostics = compile_notebook(path)
    raise_on_errors(diagnostics)
    values = resolve_parameters(pipeline, parameters, overrides)
    own = store is None
    store = store or open_store()
    try:
        chosen = select(pipeline, from_step=from_step, only=only, reuse=reuse_run, store=store)
        return _plan(store, pipeline, values, cache, path, chosen)
    finally:
        if own:
            store.close()


def resume_run(
    run_id: str,
    *,
    max_parallel: int | None = None,
    store: RunStore | None = None,
    on_event: EventCallback | None = None,
) -> Run:
    """Finish an interrupted or failed run: steps whose outputs are cached are not run again."""
    own = store is None
    store = store or open_store()
    try:
        store.mark_interrupted()
        record = store.get_run(run_id)
        if record.status in ("running", "pending") and record.owner_pid and pid_alive(record.owner_pid):
            raise Conflict(
                f"run {run_id} is still running (process {record.owner_pid}); wait or cancel it first"
            )
        if record.notebook is None:
            raise InvalidInput(f"run {run_id} was not made from a notebook and cannot be resumed here")
        if record.status in ("succeeded", "failed", "cancelled"):
            raise Conflict(
                f"run {run_id} already ended ({record.status}); start a new run, the cache skips unchanged steps"
            )
        path = Path(record.notebook)
        pipeline, diagnostics = compile_notebook(path)
        raise_on_errors(diagnostics)
        return _execute(
            store, record, pipeline, dict(record.parameters), path.parent, True, max_parallel, on_event
        )
    finally:
        if own:
            store.close()


def _plan(
    store: RunStore,
    pipeline: Pipeline,
    values: Mapping[str, JsonValue],
    cache: bool,
    path: Path,
    chosen: Selection,
) -> list[PlannedStep]:
    """The runner's decision for each chosen step of the notebook at ``path``; raises when one cannot be taken."""
    return reuse.plan(
        store, pipeline, values, use_cache=cache, workdir=path.parent, selection=chosen, notebook=str(path)
    )


def _execute(
    store: RunStore,
    record: RunRecord,
    pipeline: Pipeline,
    values: Mapping[str, JsonValue],
    workdir: Path,
    cache: bool,
    max_parallel: int | None,
    on_event: EventCallback | None,
    server: ForkServer | None = None,
    selection: Selection = EVERYTHING,
) -> Run:
    options = LocalOptions(use_cache=cache, on_event=on_event, selection=selection)
    if max_parallel is not None:  # else LocalOptions' default: one step per CPU
        if max_parallel < 1:
            raise InvalidInput(f"--max-parallel must be at least 1, got {max_parallel}")
        options.max_parallel = max_parallel
    LocalRun(store, record, pipeline, values, workdir, options, server).execute()
    return load_run(store, record.id)


def step_values(
    run_id: str, step: str, *, outputs: bool = False, store: RunStore | None = None
) -> StepValues:
    """What ``%kf load RUN STEP`` defines: the step's recorded inputs and parameters (or its outputs).

    A local run's values are files of the run store; a Kubeflow Pipelines run's are artifacts in its
    pipeline root, read where this machine can (:mod:`kfjupyter.kfp.stepvalues`).

    ``.load()`` on the result reads the values, memory-mapped where the serializer allows.
    """
    own = store is None
    store = store or open_store()
    try:
        if store.get_run(run_id).backend is Engine.KFP:
            from kfjupyter.kfp.stepvalues import describe_kfp

            return describe_kfp(store, run_id, step, outputs=outputs)
        return describe(store, run_id, step, outputs=outputs)
    finally:
        if own:
            store.close()
