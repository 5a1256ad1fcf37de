"""Cancelling a local run: interrupt the process that drives it, never another one.

The local runner (``kfjupyter run``, or a kernel running a notebook) treats SIGINT like Ctrl-C: it
kills the step process groups, marks unfinished steps and the run ``cancelled`` and exits. Here
the signal is only sent; the runner records the outcome, so the caller polls the run.
"""

from __future__ import annotations

import os
import signal

from kfjupyter.errors import Conflict, Forbidden
from kfjupyter.store import RunStore
from kfjupyter.store.liveness import same_process, this_host
from kfjupyter.store.models import ACTIVE_RUN_STATUSES


def cancel_local_run(store: RunStore, run_id: str) -> int:
    """Send SIGINT to the local process driving ``run_id`` and return its pid.

    Raises ``NotFound`` for an unknown run and ``Conflict`` when there is nothing to interrupt here:
    the run has ended, has no owner process yet, belongs to another host or its process is gone
    (then the run is marked interrupted). A pid whose start time differs from the recorded
    ``owner_start`` was reused by another process: it counts as gone and is never signalled.
    ``Forbidden`` when the process belongs to another user.
    """
    run = store.get_run(run_id)
    if run.status not in ACTIVE_RUN_STATUSES:
        raise Conflict(f"run {run_id} is {run.status}; only a pending or running run can be cancelled")
    if run.owner_pid is None or run.owner_pid <= 0:
        raise Conflict(f"run {run_id} has not started its process yet; try again in a moment")
    if run.owner_host not in (None, this_host()):
        raise Conflict(f"run {run_id} is driven from host {run.owner_host}; cancel it there")
    if run.owner_pid == os.getpid():  # a stale pid now reused by this process: never interrupt ourselves
        raise Conflict(
            f"run {run_id} names this process as its owner (a stale pid); "
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
