"""Pure pod-status computation: container records in, the kubelet's PodStatus dict out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


def now_iso() -> str:
    """The current UTC time as Kubernetes writes it (seconds)."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ContainerRecord:
    """What the kubelet knows about one container; turned into a ContainerStatus."""

    name: str
    image: str
    state: dict[str, Any] = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: dict[str, Any] = field(default_factory=dict)
    restart_count: int = 0
    ready: bool = False
    started: bool = False  # its startup probe passed (or it has none); reported only while running
    final: bool = False  # terminated and will not be restarted
    container_id: str = ""

    @property
    def running(self) -> bool:
        """Whether the container's process runs."""
        return "running" in self.state

    @property
    def ever_started(self) -> bool:
        """Whether a process ever ran for it (running now, or terminated before)."""
        return self.running or "terminated" in self.state or bool(self.last_state)

    def exit_code(self) -> int | None:
        """The exit code when terminated."""
        terminated = self.state.get("terminated")
        return None if terminated is None else int(terminated["exitCode"])

    def to_status(self) -> dict[str, Any]:
        """The ContainerStatus dict."""
        status: dict[str, Any] = {
            "name": self.name,
            "image": self.image,
            "imageID": f"process://{self.image}",
            "ready": self.ready and self.running,
            "restartCount": self.restart_count,
            "started": self.started and self.running,
            "state": self.state,
            "lastState": self.last_state,
        }
        if self.container_id:
            status["containerID"] = self.container_id
        return status


def phase(containers: list[ContainerRecord], init: list[ContainerRecord], init_failed: bool) -> str:
    """Pending, Running, Succeeded or Failed, by the kubelet's rules."""
    if init_failed:
        return "Failed"
    if init and not all(record.final and record.exit_code() == 0 for record in init):
        return "Pending"
    if containers and all(record.final for record in containers):
        return "Succeeded" if all(record.exit_code() == 0 for record in containers) else "Failed"
    if any(record.ever_started for record in containers):
        return "Running"
    return "Pending"


def _condition(kind: str, ok: bool, now: str, reason: str | None = None) -> dict[str, Any]:
    cond: dict[str, Any] = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None,
                            "lastTransitionTime": now}  # fmt: skip
    if reason and not ok:
        cond["reason"] = reason
    return cond


def pod_status(
    containers: list[ContainerRecord],
    init: list[ContainerRecord],
    *,
    pod_ip: str,
    host_ip: str,
    start_time: str,
    init_failed: bool = False,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The full PodStatus; condition transition times are kept from ``previous`` when unchanged."""
    now = now_iso()
    current = phase(containers, init, init_failed)
    initialized = not init or all(record.final and record.exit_code() == 0 for record in init)
    ready = current == "Running" and all(record.ready and record.running for record in containers)
    completed = current in ("Succeeded", "Failed")
    not_ready = "PodCompleted" if completed else "ContainersNotReady"
    conditions = [
        _condition("Initialized", initialized, now, "ContainersNotInitialized"),
        _condition("Ready", ready, now, not_ready),
        _condition("ContainersReady", ready, now, not_ready),
        _condition("PodScheduled", True, now),
    ]
    old = {c.get("type"): c for c in (previous or {}).get("conditions") or []}
    for cond in conditions:
        before = old.get(cond["type"])
        if before is not None and before.get("status") == cond["status"] and before.get("lastTransitionTime"):
            cond["lastTransitionTime"] = before["lastTransitionTime"]
    status: dict[str, Any] = {
        "phase": current,
        "conditions": conditions,
        "hostIP": host_ip,
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": start_time,
        "containerStatuses": [record.to_status() for record in containers],
    }
    if init:
        status["initContainerStatuses"] = [record.to_status() for record in init]
    return status


def backoff(restarts: int, base_s: float, max_s: float) -> float:
    """Seconds to wait before restart number ``restarts + 1`` (doubling, capped)."""
    return float(min(max_s, base_s * (2 ** max(0, restarts))))
