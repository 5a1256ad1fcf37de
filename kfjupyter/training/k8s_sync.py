"""Copy what a cluster job's pods say into the run store, so it outlives the pods.

:func:`sync_logs` appends each node pod's new log bytes to the step log of the node's first rank
(``torchrun`` merges a node's local ranks into one pod log), through
:func:`kfjupyter.kfp.podlogs.persist_pod_logs`. :func:`sync_metrics` parses the new complete
lines of those logs for ``name=value`` metric lines; :func:`sync_events` records the Kubernetes
events about the job's objects once each (type ``k8s_event``). Progress lives in small JSON
files in the run directory, so every call only does the new part.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from kfjupyter.kfp.podlogs import PodLogSource, PodTask, persist_pod_logs
from kfjupyter.store import EventRecord, MetricRecord, RunStore
from kfjupyter.training.job import step_name
from kfjupyter.training.k8s_status import NodePod
from kfjupyter.training.metrics import parse_metric_line

METRICS_STATE = "k8s-metrics.json"
EVENTS_STATE = "k8s-events.json"
EVENT_TYPE = "k8s_event"


def node_step(node: int, procs_per_node: int) -> str:
    """The step whose log holds node ``node``'s pod log: its first global rank."""
    return step_name(node * procs_per_node)


def _load(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return data


def _save(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def sync_logs(
    store: RunStore, run_id: str, nodes: list[NodePod], procs: int, source: PodLogSource, namespace: str
) -> int:
    """Append the new part of every started node pod's log to its step log; return the bytes appended.

    A pod whose container has not started yet has no log (the API answers 404, which would read
    as "pod gone"), so it is left for a later call.
    """
    tasks = [
        PodTask(step=node_step(n.node, procs), pod=n.name, finished=n.finished) for n in nodes if n.started
    ]
    return persist_pod_logs(store, run_id, tasks, source, namespace) if tasks else 0


def _stamp(line: str) -> tuple[float | None, str]:
    head, _, rest = line.partition(" ")
    try:
        when = dt.datetime.strptime(head[:26].rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        return None, line
    return when.replace(tzinfo=dt.timezone.utc).timestamp(), rest


def sync_metrics(store: RunStore, run_id: str, steps: list[str]) -> int:
    """Parse metric lines newly completed in the step logs; return how many values were stored."""
    path = store.run_dir(run_id, create=True) / METRICS_STATE
    state = _load(path)
    records: list[MetricRecord] = []
    for step in steps:
        entry = state.setdefault(step, {"offset": 0, "next": {}})
        log = store.log_path(run_id, step)
        if not log.is_file():
            continue
        with log.open("rb") as fh:
            fh.seek(entry["offset"])
            data = fh.read()
        complete = data[: data.rfind(b"\n") + 1]
        entry["offset"] += len(complete)
        for raw in complete.decode("utf-8", "replace").splitlines():
            ts, text = _stamp(raw)
            for name, value in parse_metric_line(text):
                index = entry["next"].get(name, 0)
                entry["next"][name] = index + 1
                record = MetricRecord(run_id=run_id, step=step, name=name, value=value, index=index)
                records.append(record if ts is None else record.model_copy(update={"ts": ts}))
    if records:
        store.add_metrics(records)
    _save(path, state)
    return len(records)


def sync_events(store: RunStore, run_id: str, events: list[dict[str, Any]]) -> int:
    """Record Kubernetes events not recorded yet (by uid and count); return how many were new."""
    path = store.run_dir(run_id, create=True) / EVENTS_STATE
    seen = _load(path)
    new = 0
    for event in sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or "")):
        meta, about = event.get("metadata", {}), event.get("involvedObject", {})
        key, count = str(meta.get("uid") or meta.get("name")), int(event.get("count") or 1)
        if seen.get(key, 0) >= count:
            continue
        seen[key] = count
        payload = {
            "kind": about.get("kind"),
            "name": about.get("name"),
            "type": event.get("type"),
            "reason": event.get("reason"),
            "message": event.get("message"),
            "count": count,
        }
        store.add_event(EventRecord(run_id=run_id, type=EVENT_TYPE, payload=payload))
        new += 1
    _save(path, seen)
    return new
