"""What a user can do to runs, for every front door: start, status, cancel, re-run, delete, sync, compare.

Each function takes the front door's :class:`~kfjupyter.runs.backend.RunContext`, reads the run,
and hands it to its backend from :mod:`kfjupyter.runs.registry`. Calls block (a start waits on the
returned :class:`~kfjupyter.runs.backend.Starting`); the server runs them in worker threads.
"""

from __future__ import annotations

from collections.abc import Sequence

from kfjupyter.errors import Conflict
from kfjupyter.runs import registry
from kfjupyter.runs.backend import Cancelled, NotebookStart, Rerun, RunContext, ScriptStart, Starting
from kfjupyter.runs.compare import Comparison, compare_runs
from kfjupyter.store import RunRecord
from kfjupyter.store.models import ACTIVE_RUN_STATUSES


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
