"""``POST runs/{id}/cancel``: stop a local run by interrupting the process that drives it.

The local runner (``kfjupyter run``, or a kernel running a notebook) treats SIGINT like Ctrl-C: it
kills the step process groups, marks unfinished steps and the run ``cancelled`` and exits. The
server only sends the signal; the runner records the outcome, so the client polls the run.

A run submitted to Kubeflow Pipelines is terminated through the server's KFP connection
(``c.KfJupyterApp.kfp_host``); KFP ends it failed, and the note left on the run makes the
refresh record it cancelled. A training run (kind ``training``) is stopped through its training backend instead, as
``POST training/{id}/cancel`` does, so one Cancel button works for pipelines and jobs.
"""

from __future__ import annotations

import asyncio
import os
import signal

from kfjupyter.errors import Conflict, Forbidden, KfJupyterError
from kfjupyter.kfp.tracking import BACKEND as KFP_BACKEND
from kfjupyter.server import models
from kfjupyter.server.errors import UpstreamFailed
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.kfp_handlers import KfpOptions
from kfjupyter.server.runs_handlers import RUN_ID, opened_store
from kfjupyter.server.training_handlers import cancel_job
from kfjupyter.store import RunRecord, RunStore
from kfjupyter.store.liveness import same_process, this_host
from kfjupyter.store.models import ACTIVE_RUN_STATUSES


def cancel_local_run(store: RunStore, run_id: str) -> int:
    """Send SIGINT to the local process driving ``run_id`` and return its pid.

    Raises ``NotFound`` for an unknown run and ``Conflict`` when there is nothing to interrupt here:
    the run has ended, is not local, has no owner process yet, belongs to another host or its
    process is gone (then the run is marked interrupted). A pid whose start time differs from the
    recorded ``owner_start`` was reused by another process: it counts as gone and is never
    signalled. ``Forbidden`` when the process belongs to another user.
    """
    run = store.get_run(run_id)
    if run.status not in ACTIVE_RUN_STATUSES:
        raise Conflict(f"run {run_id} is {run.status}; only a pending or running run can be cancelled")
    if run.backend != "local":
        raise Conflict(f"run {run_id} runs on {run.backend!r}; cancel it there")
    if run.owner_pid is None or run.owner_pid <= 0:
        raise Conflict(f"run {run_id} has not started its process yet; try again in a moment")
    if run.owner_host not in (None, this_host()):
        raise Conflict(f"run {run_id} is driven from host {run.owner_host}; cancel it there")
    if run.owner_pid == os.getpid():  # a stale pid now reused by this server: never interrupt ourselves
        raise Conflict(
            f"run {run_id} names this Jupyter server's own process as its owner (a stale pid); "
            "it is not running here and cannot be cancelled"
        )
    gone = Conflict(f"the process of run {run_id} is gone; the run is now marked interrupted")
    if not same_process(run.owner_pid, run.owner_start):  # the pid now names an unrelated process
        store.mark_interrupted()
        raise gone
    try:
        os.kill(run.owner_pid, signal.SIGINT)
    except ProcessLookupError:
        store.mark_interrupted()
        raise gone from None
    except PermissionError:
        raise Forbidden(f"the process of run {run_id} belongs to another user") from None
    return run.owner_pid


def cancel_kfp_run(options: KfpOptions, run: RunRecord) -> str:
    """Ask the run's Kubeflow Pipelines server to terminate it and note the cancel on the run.

    KFP ends a terminated run ``FAILED``; the note makes the next refresh record it ``cancelled``.
    A run KFP already reports canceling is not terminated twice. The store is not held open while
    KFP is asked.
    """
    from kfjupyter.kfp.terminate import mark_cancel_requested, terminate_run

    connection = options.connection()  # 409 when the server has no KFP endpoint
    try:
        kfp_run_id = terminate_run(run, connection)
    except Conflict:
        raise
    except KfJupyterError as error:  # refused or unreachable
        raise UpstreamFailed(error.message, detail=error.detail) from error
    with opened_store() as store:
        mark_cancel_requested(store, run.id)
    return kfp_run_id


class RunCancelHandler(KfJupyterHandler):
    """``POST /kfjupyter/api/runs/{id}/cancel``: 202 once the run's process has been interrupted."""

    @api("write")
    async def post(self, run_id: str) -> None:
        """Interrupt the run (or stop a training job's ranks); 409 when it is not running, 404 when unknown."""
        with opened_store() as store:
            run = store.get_run(run_id)
        if run.backend == KFP_BACKEND:
            await asyncio.to_thread(cancel_kfp_run, self.settings["kfjupyter_kfp"], run)
            self.reply(models.CancelRequested(run_id=run_id, pid=0), status=202)
            return
        with opened_store() as store:
            if run.kind != "training":
                pid = cancel_local_run(store, run_id)
                self.reply(models.CancelRequested(run_id=run_id, pid=pid), status=202)
                return
        if run.status not in ACTIVE_RUN_STATUSES:
            raise Conflict(f"run {run_id} is {run.status}; only a pending or running run can be cancelled")
        await asyncio.to_thread(cancel_job, run_id)
        self.reply(models.CancelRequested(run_id=run_id, pid=run.owner_pid or 0), status=202)


def cancel_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The routes of this module under ``api_prefix`` (e.g. ``/kfjupyter/api``)."""
    return [(rf"{api_prefix}/runs/{RUN_ID}/cancel/?", RunCancelHandler)]
