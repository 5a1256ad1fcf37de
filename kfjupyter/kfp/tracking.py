"""Track Kubeflow Pipelines runs into the run store: run state, per-step state and pod logs.

:func:`sync_run` reads one KFP run (``V2beta1Run`` with its ``run_details.task_details``), maps
KFP runtime states onto the store's run and step statuses, writes the steps, keeps the task pods'
logs (:mod:`kfjupyter.kfp.podlogs`) and only then moves the run status, so a finished run already
has its final steps. :func:`watch_run` repeats it with exponential backoff until the run ends.

KFP task details are matched to steps by display name: the step name, its component name
(``step-<name>``) or ``<component>-driver``; a detail with no such name (e.g. an ``executor`` pod
node) belongs to the nearest ancestor (``parent_task_id``) that matches. The step's state comes
from its non-driver detail, its pod from the deepest non-driver detail with a pod name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from kfjupyter.errors import InvalidInput, Unavailable
from kfjupyter.kfp.components import component_name
from kfjupyter.kfp.connection import RunService
from kfjupyter.kfp.podlogs import PodLogSource, PodTask, persist_pod_logs
from kfjupyter.store import RunRecord, RunStore, RunUpdate, StepRecord
from kfjupyter.store.models import TERMINAL_RUN_STATUSES, RunStatus, StepStatus

BACKEND = "kfp"
#: Labels a KFP run record carries (no credentials).
HOST_LABEL, NAMESPACE_LABEL, LINK_LABEL = "kfp_host", "kfp_namespace", "kfp_link"

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


def _ts(value: Any) -> float | None:
    return value.timestamp() if value is not None and hasattr(value, "timestamp") else None


def _error(detail: Any) -> str | None:
    error = getattr(detail, "error", None)
    return (getattr(error, "message", None) or None) if error is not None else None


def _owners(steps: Iterable[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for step in steps:
        names[step] = step
        names[component_name(step)] = step
        names[f"{component_name(step)}-driver"] = step
    return names


def _step_of(detail: Any, by_id: dict[str, Any], names: dict[str, str]) -> str | None:
    seen: set[str] = set()
    while detail is not None and detail.task_id not in seen:
        seen.add(detail.task_id)
        if detail.display_name in names:
            return names[detail.display_name]
        detail = by_id.get(detail.parent_task_id or "")
    return None


def map_tasks(
    run_id: str, steps: list[StepRecord], details: list[Any]
) -> tuple[list[StepRecord], list[PodTask]]:
    """The changed step records and the pods to read logs from, for one run's task details."""
    names = _owners(s.name for s in steps)
    by_id = {d.task_id: d for d in details if d.task_id}
    main: dict[str, Any] = {}
    pods: dict[str, tuple[int, Any]] = {}
    for detail in details:
        step = _step_of(detail, by_id, names)
        if step is None or (detail.display_name or "").endswith("-driver"):
            continue
        if detail.display_name in (step, component_name(step)):
            main.setdefault(step, detail)
        if detail.pod_name:
            depth = _depth(detail, by_id)
            if step not in pods or depth > pods[step][0]:
                pods[step] = (depth, detail)
    changed: list[StepRecord] = []
    for record in steps:
        detail = main.get(record.name) or (pods[record.name][1] if record.name in pods else None)
        if detail is None:
            continue
        status = STEP_STATES.get(str(detail.state or ""), "pending")
        new = record.model_copy(
            update={
                "status": status,
                "started_at": _ts(detail.start_time) or record.started_at,
                "finished_at": _ts(detail.end_time) if status in _FINAL_STEPS else None,
                "error": _error(detail) if status == "failed" else None,
                "attempt": max(record.attempt, 1 if status != "pending" else 0),
            }
        )
        if new != record:
            changed.append(new)
    tasks = []
    for name, (_, detail) in sorted(pods.items()):
        status = STEP_STATES.get(str(detail.state or ""), "pending")
        tasks.append(PodTask(step=name, pod=detail.pod_name, finished=status in _FINAL_STEPS))
    return changed, tasks


def _depth(detail: Any, by_id: dict[str, Any]) -> int:
    depth, seen = 0, set()
    while detail.parent_task_id in by_id and detail.task_id not in seen:
        seen.add(detail.task_id)
        detail, depth = by_id[detail.parent_task_id], depth + 1
    return depth


def sync_run(
    store: RunStore,
    run_id: str,
    service: RunService,
    *,
    pod_logs: PodLogSource | None = None,
) -> RunRecord:
    """Bring one ``kfp`` run of the store up to date with its KFP run; return the new record.

    Raises ``InvalidInput`` for a run that is not a KFP run and ``Unavailable`` when the KFP API
    cannot be reached (retrying later can help). A run already final is returned unchanged.
    """
    record = store.get_run(run_id)
    if record.backend != BACKEND or not record.external_id:
        raise InvalidInput(f"run {run_id} is not a Kubeflow Pipelines run; only those can be synced")
    if record.status in TERMINAL_RUN_STATUSES:
        return record
    try:
        remote = service.get_run(record.external_id)
    except Exception as exc:  # kfp_server_api.ApiException, urllib3 errors: all "try later"
        raise Unavailable(
            f"could not read KFP run {record.external_id} from {record.labels.get(HOST_LABEL, 'the server')}: "
            f"{getattr(exc, 'reason', None) or exc}",
            detail=repr(exc),
        ) from exc
    details = list(getattr(remote.run_details, "task_details", None) or [])
    changed, tasks = map_tasks(run_id, store.get_steps(run_id), details)
    if changed:
        store.upsert_steps(changed)
    if pod_logs is not None and tasks:
        persist_pod_logs(store, run_id, tasks, pod_logs, record.labels.get(NAMESPACE_LABEL) or "kubeflow")
    status = RUN_STATES.get(str(remote.state or ""), "pending")
    if status in ("failed", "cancelled"):
        _close_unstarted(store, run_id, "upstream_failed" if status == "failed" else "cancelled")
    update: dict[str, Any] = {}
    if status != record.status:
        update["status"] = status
        if status == "running" and (started := _ts(remote.scheduled_at) or _ts(remote.created_at)):
            update["started_at"] = record.started_at or started
        if status in TERMINAL_RUN_STATUSES and (finished := _ts(remote.finished_at)):
            update["finished_at"] = finished
    if status == "failed" and (error := _error(remote)):
        update["error"] = error
    return store.update_run(run_id, RunUpdate(**update)) if update else record


def _close_unstarted(store: RunStore, run_id: str, status: StepStatus) -> None:
    """Steps KFP never started in a run that failed or was cancelled will not start any more."""
    left = [s.model_copy(update={"status": status}) for s in store.get_steps(run_id) if s.status == "pending"]
    if left:
        store.upsert_steps(left)


def watch_run(
    store: RunStore,
    run_id: str,
    service: RunService,
    *,
    pod_logs: PodLogSource | None = None,
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
