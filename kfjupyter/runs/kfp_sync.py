"""Bringing Kubeflow Pipelines runs up to date: one sync and one watch for every front door.

A KFP run is refreshed from the server it was submitted to (``KfpDetails.host``; a front door may
name another) with the front door's credentials (:attr:`RunContext.kfp_token`, ``kfp_cookie``, else
the environment's), its steps' pods and logs read where the front door gives a pod source
(:attr:`RunContext.kfp_pods`). A server that cannot be reached leaves its runs as they were and is
one line of :attr:`~kfjupyter.kfp.sync.SyncReport.errors`, never an exception. ``kfjupyter runs
sync``, the refresh before ``runs list`` / ``runs show``, the Lab's runs list and a run's status
all come here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kfjupyter.runs.backend import RunContext
from kfjupyter.store import RunRecord, StepRecord

if TYPE_CHECKING:
    from kfjupyter.kfp.sync import SyncReport

#: How long a run's status waits for its KFP server.
SYNC_TIMEOUT_S = 5.0


def unfinished_kfp_runs(ctx: RunContext, run_id: str | None = None) -> list[str]:
    """The ids of the store's KFP runs that are not final yet (only ``run_id``, when given), newest first."""
    from kfjupyter.kfp.sync import unfinished_kfp_runs as unfinished

    return [r.id for r in unfinished(ctx.store) if run_id in (None, r.id)]


def sync_kfp(
    ctx: RunContext, run_ids: Sequence[str] | None = None, *, host: str | None = None, timeout_s: float = 10.0
) -> SyncReport:
    """Sync the given KFP runs (None: every unfinished one) with their servers, each request bounded.

    ``host`` replaces each run's recorded server. ``InvalidInput`` for a run that is not a KFP run,
    ``NotFound`` for an unknown one; what the servers answer (or not) is in the report.
    """
    from kfjupyter.kfp.sync import SyncReport, sync_kfp_runs

    if run_ids is not None and not run_ids:
        return SyncReport()
    return sync_kfp_runs(
        ctx.store,
        list(run_ids) if run_ids is not None else None,
        host=host,
        token=ctx.kfp_token,
        cookie=ctx.kfp_cookie,
        pod_logs=ctx.kfp_pods,
        timeout_s=timeout_s,
    )


def watch_kfp(
    ctx: RunContext,
    run_id: str,
    on_change: Callable[[RunRecord, list[StepRecord]], None] | None = None,
) -> RunRecord:
    """Sync one KFP run through the front door's connection until it ends (backing off while nothing changes).

    ``on_change`` is called with the run and its steps whenever a state changed. Blocking.
    """
    from kfjupyter.kfp.connection import run_service
    from kfjupyter.kfp.tracking import watch_run

    with run_service(ctx.connection()) as service:
        return watch_run(ctx.store, run_id, service, pod_logs=ctx.kfp_pods, on_change=on_change)
