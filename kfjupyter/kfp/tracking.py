"""Track Kubeflow Pipelines runs into the run store: run state, per-step state, pod logs, failures.

:func:`sync_run` reads one KFP run (``V2beta1Run`` with its ``run_details.task_details``), maps
KFP runtime states onto the store's run and step statuses, keeps the step pods' logs
(:mod:`kfjupyter.kfp.steppods`, :mod:`kfjupyter.kfp.podlogs`), writes the steps and only then
moves the run status, so a finished run already has its final steps. :func:`watch_run` repeats
it with exponential backoff until the run ends.

What a KFP 2.x server reports, and how it is read here:

- Task details are the run's Argo workflow nodes. A step's node has the KFP task name as its
  display name (``step-<name>``, see :func:`~kfjupyter.kfp.names.component_name`); its
  driver is ``step-<name>-driver``, its pod nodes ``executor`` / ``executor(N)``. Steps are
  matched by task name only; ``parent_task_id`` is always empty and ``pod_name`` never set, so
  pods are found in the cluster instead (:func:`~kfjupyter.kfp.steppods.step_pods`).
- Timestamps a node does not have yet are reported as the Unix epoch, which means "unset".
- A terminated run goes ``CANCELING`` and then ends ``FAILED`` (never ``CANCELED``), and the
  server does not add ``CANCELING`` to ``state_history``. A run is therefore recorded as
  cancelled when it ends failed after a cancel was asked through kfjupyter or after a sync saw it
  ``CANCELING`` (both leave ``KfpDetails.cancel`` set on the run). A run cancelled in the KFP
  UI and finished before any sync saw it canceling is recorded failed: nothing the server keeps
  tells the two apart.
- The ``error`` fields only say that the server could not convert a record; a failed step's
  message comes from its last pod: the main container's termination message, else the tail of
  its log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from kfjupyter.errors import InvalidInput, Unavailable
from kfjupyter.kfp.connection import DEFAULT_NAMESPACE, RunService
from kfjupyter.kfp.names import component_name
from kfjupyter.kfp.podlogs import PodLogSource, persist_pod_logs
from kfjupyter.kfp.steppods import RunPodLister, StepPod, failure_message, log_tail, log_tasks, step_pods
from kfjupyter.store import KfpDetails, RunRecord, RunStore, RunUpdate, StepRecord
from kfjupyter.store.models import TERMINAL_RUN_STATUSES, RunStatus, StepStatus

log = logging.getLogger(__name__)

RUN_STATES: dict[str, RunStatus] = {
    "RUNTIME_STATE_UNSPECIFIED": "pending",
    "PENDING": "pending",
    "PAUSED": "pending",
    "RUNNING": "running",
    "CANCELING": "running",
    "SUCCEEDED": "succeeded",
    "SKIPPED": "succeeded",
    "FAILED": "failed",
    "CANCELED": "cancelled",
}
STEP_STATES: dict[str, StepStatus] = {
    "RUNTIME_STATE_UNSPECIFIED": "pending",
    "PENDING": "pending",
    "PAUSED": "pending",
    "RUNNING": "running",
    "CANCELING": "running",
    "SUCCEEDED": "succeeded",
    "SKIPPED": "skipped",
    "FAILED": "failed",
    "CANCELED": "cancelled",
}
_FINAL_STEPS = frozenset({"succeeded", "failed", "skipped", "cancelled", "cached"})


class RunPods(RunPodLister, PodLogSource, Protocol):
    """Where step pods are listed and their logs read (e.g. :class:`~kfjupyter.kfp.steppods.KubernetesRunPods`)."""


def _ts(value: Any) -> float | None:
    """Seconds since the epoch, or ``None`` for no time (KFP reports unset times as the epoch)."""
    if value is None or not hasattr(value, "timestamp"):
        return None
    seconds = float(value.timestamp())
    return seconds if seconds > 0 else None


def cancel_seen(remote: Any) -> bool:
    """Whether KFP reports this run canceling now or in its state history."""
    history = [getattr(s, "state", None) for s in getattr(remote, "state_history", None) or []]
    return "CANCELING" in (str(remote.state or ""), *map(str, history))


def map_tasks(steps: list[StepRecord], details: list[Any], *, cancelling: bool = False) -> list[StepRecord]:
    """The changed step records for one run's task details (matched by KFP task name).

    With ``cancelling`` (a cancel was asked), a step that fails from now on is recorded
    ``cancelled``: the server kills running steps when it terminates a run.
    """
    nodes: dict[str, Any] = {}
    for detail in details:
        nodes.setdefault(str(detail.display_name or ""), detail)
    changed: list[StepRecord] = []
    for record in steps:
        detail = nodes.get(component_name(record.name))
        if detail is None:
            continue
        status = STEP_STATES.get(str(detail.state or ""), "pending")
        if cancelling and status == "failed" and record.status != "failed":
            status = "cancelled"  # killed by the cancel; a step recorded failed before it stays failed
        new = record.model_copy(
            update={
                "status": status,
                "started_at": _ts(detail.start_time) or record.started_at,
                "finished_at": _ts(detail.end_time) if status in _FINAL_STEPS else None,
                "error": record.error if status == "failed" else None,
                "attempt": max(record.attempt, 1 if status != "pending" else 0),
            }
        )
        if new != record:
            changed.append(new)
    return changed


def kfp_details(record: RunRecord) -> KfpDetails:
    """The KFP details of ``record``; ``InvalidInput`` when it is not a Kubeflow Pipelines run."""
    if not isinstance(record.details, KfpDetails):
        raise InvalidInput(f"run {record.id} is not a Kubeflow Pipelines run")
    return record.details


def _list_pods(pods: RunPods, namespace: str, run_id: str) -> list[StepPod] | None:
    try:
        return pods.list_run_pods(namespace, run_id)
    except Exception as exc:  # no cluster access, apiserver errors: logs and messages wait for a later sync
        log.debug("could not list the pods of KFP run %s: %r", run_id, exc)
        return None


def _with_pods(
    store: RunStore, record: RunRecord, steps: list[StepRecord], pods: RunPods | None
) -> list[StepRecord]:
    """Keep the step pods' logs; fill attempts and failure messages of ``steps`` from the pods."""
    namespace = kfp_details(record).namespace or DEFAULT_NAMESPACE
    listed = None if pods is None else _list_pods(pods, namespace, str(record.external_id))
    found = step_pods(listed or [], [s.name for s in store.get_steps(record.id)])
    if pods is not None and found:
        persist_pod_logs(store, record.id, log_tasks(found), pods, namespace)
    out = []
    for step in steps:
        mine = found.get(step.name, [])
        update: dict[str, Any] = {"attempt": max(step.attempt, len(mine))}
        if step.status == "failed" and not step.error:
            if listed is None:
                update["error"] = (
                    "the step failed on Kubeflow Pipelines; its pod could not be read from the cluster"
                )
            else:
                tail = log_tail(store.tail_log(record.id, step.name, 50).text) if mine else ""
                update["error"] = failure_message(mine[-1] if mine else None, tail)
        out.append(step.model_copy(update=update))
    return out


def sync_run(
    store: RunStore,
    run_id: str,
    service: RunService,
    *,
    pod_logs: RunPods | None = None,
) -> RunRecord:
    """Bring one ``kfp`` run of the store up to date with its KFP run; return the new record.

    Raises ``InvalidInput`` for a run that is not a KFP run and ``Unavailable`` when the KFP API
    cannot be reached (retrying later can help). A run already final is returned unchanged.
    ``pod_logs`` lists the run's pods and reads their logs; without it no log is kept and failure
    messages say that the pods could not be read.
    """
    record = store.get_run(run_id)
    if not isinstance(record.details, KfpDetails) or not record.external_id:
        raise InvalidInput(f"run {run_id} is not a Kubeflow Pipelines run; only those can be synced")
    kfp = record.details
    if record.status in TERMINAL_RUN_STATUSES:
        return record
    try:
        remote = service.get_run(record.external_id)
    except Exception as exc:  # kfp_server_api.ApiException, urllib3 errors: all "try later"
        raise Unavailable(
            f"could not read KFP run {record.external_id} from {kfp.host or 'the server'}: "
            f"{getattr(exc, 'reason', None) or exc}",
            detail=repr(exc),
        ) from exc
    update: dict[str, Any] = {}
    if cancel_seen(remote) and kfp.cancel is None:
        update["details"] = kfp.model_copy(update={"cancel": "canceling"})
    cancelling = cancel_seen(remote) or kfp.cancel is not None
    details = list(getattr(remote.run_details, "task_details", None) or [])
    changed = map_tasks(store.get_steps(run_id), details, cancelling=cancelling)
    changed = _with_pods(store, record, changed, pod_logs)
    if changed:
        store.upsert_steps(changed)
    status = RUN_STATES.get(str(remote.state or ""), "pending")
    if status == "failed" and cancelling:
        status = "cancelled"
    if status == "failed":
        _close_unstarted(store, run_id, "upstream_failed", ("pending",))
        update["error"] = _run_error(store.get_steps(run_id))
    elif status == "cancelled":
        _close_unstarted(store, run_id, "cancelled", ("pending", "ready", "running"))
    if status != record.status:
        update["status"] = status
        if status == "running" and (started := _ts(remote.scheduled_at) or _ts(remote.created_at)):
            update["started_at"] = record.started_at or started
        if status in TERMINAL_RUN_STATUSES and (finished := _ts(remote.finished_at)):
            update["finished_at"] = finished
    return store.update_run(run_id, RunUpdate(**update)) if update else record


def _run_error(steps: list[StepRecord]) -> str:
    failed = [s for s in steps if s.status == "failed"]
    if not failed:
        return "Kubeflow Pipelines reports the run failed, but none of its steps failed; see the run there"
    first = min(failed, key=lambda s: s.finished_at or float("inf"))
    return f"step {first.name!r} failed: {first.error or 'no message'}"


def _close_unstarted(store: RunStore, run_id: str, status: StepStatus, unfinished: tuple[str, ...]) -> None:
    """Steps KFP never started (or never finished) in a run that ended will not run any more."""
    left = [
        s.model_copy(update={"status": status}) for s in store.get_steps(run_id) if s.status in unfinished
    ]
    if left:
        store.upsert_steps(left)


def watch_run(
    store: RunStore,
    run_id: str,
    service: RunService,
    *,
    pod_logs: RunPods | None = None,
    timeout_s: float | None = None,
    initial_delay_s: float = 1.0,
    max_delay_s: float = 30.0,
    on_change: Callable[[RunRecord, list[StepRecord]], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> RunRecord:
    """Sync until the run is final or ``timeout_s`` passes; return the last record.

    The delay between polls doubles (up to ``max_delay_s``) while nothing changes and after an
    ``Unavailable`` error, and starts again from ``initial_delay_s`` after a change.
    """
    deadline = None if timeout_s is None else clock() + timeout_s
    delay = initial_delay_s
    last: tuple[Any, ...] | None = None
    record = store.get_run(run_id)
    while True:
        try:
            record = sync_run(store, run_id, service, pod_logs=pod_logs)
            steps = store.get_steps(run_id)
            snapshot = (record.status, tuple((s.name, s.status) for s in steps))
            if snapshot != last:
                last, delay = snapshot, initial_delay_s
                if on_change is not None:
                    on_change(record, steps)
            else:
                delay = min(max_delay_s, delay * 2)
        except Unavailable:
            delay = min(max_delay_s, delay * 2)
        if record.status in TERMINAL_RUN_STATUSES:
            return record
        if deadline is not None and clock() + delay > deadline:
            return record
        sleep(delay)
