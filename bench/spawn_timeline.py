"""Where a spawn's time goes, for bench/spawner_scale.py: one neutral watch on every pod.

The orchestrator follows all pods with its own admin client (not through the counting proxy, so
neither spawner is charged for it) and notes when each pod was first seen created, bound to a
node, Running, and Ready. With each driver's per-user start()/return times this splits a spawn
into: the driver's create calls, scheduling, the kubelet starting it, readiness, and how long the
spawner took to notice and return.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

STAGES = ("create", "bind", "start", "ready", "notice", "total")


class Timeline:
    """First-seen wall times per pod object (by uid): added, bound, running, ready."""

    def __init__(self, kube: Any) -> None:
        self.kube = kube
        self.seen: dict[str, dict[str, float]] = {}
        self.names: dict[str, str] = {}  # uid -> namespace/name (kept after deletion)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-timeline", daemon=True)

    def start(self) -> None:
        """Follow pods from now on."""
        self._thread.start()

    def stop(self) -> None:
        """Stop following (at the next event or watch timeout)."""
        self._stop.set()

    def _note(self, pod: dict[str, Any]) -> None:
        now = time.time()
        meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
        uid = str(meta.get("uid"))
        self.names[uid] = f"{meta.get('namespace')}/{meta.get('name')}"
        times = self.seen.setdefault(uid, {})
        if meta.get("deletionTimestamp"):
            return
        times.setdefault("added", now)
        if spec.get("nodeName"):
            times.setdefault("bound", now)
        if status.get("phase") == "Running":
            times.setdefault("running", now)
        if any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
        ):
            times.setdefault("ready", now)

    def _run(self) -> None:
        from kfjupyter.k8s.client import list_json, watch_json

        version = ""
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                if not version:
                    listing = list_json(self.kube.core.list_pod_for_all_namespaces)
                    version = listing["metadata"]["resourceVersion"]
                for kind, pod in watch_json(
                    self.kube.core.list_pod_for_all_namespaces, resource_version=version, timeout_seconds=60
                ):
                    if kind == "ERROR":
                        version = ""
                        break
                    version = pod.get("metadata", {}).get("resourceVersion", version)
                    if kind in ("ADDED", "MODIFIED"):
                        self._note(pod)
                    if self._stop.is_set():
                        return


def breakdown(timeline: Timeline, namespace: str, spans: dict[str, list[float]]) -> dict[str, Any]:
    """p50/p95 seconds of each stage of the spawns in ``namespace``; ``spans``: user -> [t0, t1]."""
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    by_name: dict[str, list[dict[str, float]]] = {}
    for uid, name in list(timeline.names.items()):
        by_name.setdefault(name, []).append(timeline.seen.get(uid, {}))
    for user, (t0, t1) in spans.items():
        found = [
            t for t in by_name.get(f"{namespace}/jupyter-{user}", []) if t0 - 1 <= t.get("added", 0) <= t1
        ]
        times = found[0] if found else {}
        if not {"added", "bound", "running", "ready"} <= set(times):
            continue
        stages["create"].append(times["added"] - t0)
        stages["bind"].append(times["bound"] - times["added"])
        stages["start"].append(times["running"] - times["bound"])
        stages["ready"].append(times["ready"] - times["running"])
        stages["notice"].append(t1 - times["ready"])
        stages["total"].append(t1 - t0)
    out: dict[str, Any] = {"pods_traced": len(stages["total"])}
    for name, values in stages.items():
        ordered = sorted(values)
        if ordered:
            out[name] = {
                "p50": round(ordered[len(ordered) // 2], 3),
                "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
            }
    return out
