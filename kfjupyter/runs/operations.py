"""What a user can do to runs, for every front door: start, status, cancel, re-run, delete, sync, compare.

Each function takes the front door's :class:`~kfjupyter.runs.backend.RunContext`, reads the run,
and hands it to its backend from :mod:`kfjupyter.runs.registry`. Calls block (a start waits on the
returned :class:`~kfjupyter.runs.backend.Starting`); the server runs them in worker threads.
Kubeflow Pipelines runs have three more: a submit that answers the KFP run's ids and link, a sync
of many runs that reports each server that could not be reached, and a watch until the run ends
(:mod:`kfjupyter.runs.kfp_submit`, :mod:`kfjupyter.runs.kfp_sync`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kfjupyter.errors import Conflict, InvalidInput
from kfjupyter.runs import kfp_submit, kfp_sync, registry
from kfjupyter.runs.backend import Cancelled, NotebookStart, Rerun, RunContext, ScriptStart, Starting
from kfjupyter.runs.compare import Comparison, compare_runs
from kfjupyter.store import Engine, RunRecord, StepRecord
from kfjupyter.store.models import ACTIVE_RUN_STATUSES

if TYPE_CHECKING:
    from kfjupyter.kfp.submit import Submitted
    from kfjupyter.kfp.sync import SyncReport


def start_run(ctx: RunContext, request: NotebookStart | ScriptStart) -> Starting:
    """Start a notebook pipeline (here or on KFP) or a training job; wait on the result for the run."""
    return registry.backend_for_start(request).start(ctx, request)


def run_status(ctx: RunContext, run_id: str) -> RunRecord:
    """The run as its engine sees it now: an active run is synced (bounded), a finished one is as stored."""
    ctx.store.mark_interrupted()
    run = ctx.store.get_run(run_id)
    if run.status not in ACTIVE_RUN_STATUSES:
        return run
    return registry.backend_of(run).status(ctx, run)


def cancel_run(ctx: RunContext, run_id: str) -> Cancelled:
    """Ask the run to stop; ``Conflict`` when it is not pending or running, ``NotFound`` when unknown."""
    run = ctx.store.get_run(run_id)
    return registry.backend_of(run).cancel(ctx, run)


def rerun_run(ctx: RunContext, run_id: str, request: Rerun) -> Starting:
    """Start a finished run again; ``Conflict`` while it is still active (after a sync)."""
    run = run_status(ctx, run_id)
    if run.status in ACTIVE_RUN_STATUSES:
        raise Conflict(f"run {run_id} is still {run.status}; wait for it to end or cancel it first")
    return registry.backend_of(run).rerun(ctx, run, request)


def delete_run(ctx: RunContext, run_id: str) -> None:
    """Delete a finished run with its files; ``Conflict`` while it is active, ``NotFound`` when unknown."""
    run = ctx.store.get_run(run_id)
    registry.backend_of(run).delete(ctx, run)


def sync_run(ctx: RunContext, run_id: str) -> RunRecord:
    """Bring one run up to date with its engine and return it."""
    run = ctx.store.get_run(run_id)
    return registry.backend_of(run).sync(ctx, run)


def compare(ctx: RunContext, run_ids: Sequence[str]) -> Comparison:
    """2 to 50 runs side by side (see :mod:`kfjupyter.runs.compare`)."""
    return compare_runs(ctx.store, run_ids)


def submit_to_kfp(ctx: RunContext, request: NotebookStart) -> Submitted:
    """Start a notebook on Kubeflow Pipelines as :func:`start_run` does, answering the KFP ids and link too."""
    if request.engine is not Engine.KFP:
        raise InvalidInput(f"backend: a submit goes to Kubeflow Pipelines, not to {request.engine}")
    return kfp_submit.submit(ctx, request)


def sync_kfp_runs(
    ctx: RunContext, run_ids: Sequence[str] | None = None, *, host: str | None = None, timeout_s: float = 10.0
) -> SyncReport:
    """Refresh Kubeflow Pipelines runs (None: every unfinished one); servers away are lines of the report."""
    return kfp_sync.sync_kfp(ctx, run_ids, host=host, timeout_s=timeout_s)


def refresh_kfp_runs(ctx: RunContext, run_id: str | None = None, *, timeout_s: float = 10.0) -> SyncReport:
    """Refresh the unfinished Kubeflow Pipelines runs (only ``run_id``, when given and one of them)."""
    return kfp_sync.sync_kfp(ctx, kfp_sync.unfinished_kfp_runs(ctx, run_id), timeout_s=timeout_s)


def watch_kfp_run(
    ctx: RunContext, run_id: str, on_change: Callable[[RunRecord, list[StepRecord]], None] | None = None
) -> RunRecord:
    """Follow a Kubeflow Pipelines run through the front door's connection until it ends; the last record."""
    return kfp_sync.watch_kfp(ctx, run_id, on_change)
