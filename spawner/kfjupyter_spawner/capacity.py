"""Free GPU capacity per GPU type, from nodes' allocatable minus the requests of pods on them.

Pure: the watch cache hands in the current nodes and pods (plain Kubernetes JSON dicts); this
module only counts. A node belongs to a GPU type when its labels match the type's node selector.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kfjupyter_spawner.profiles import Gpu

_DONE = {"Succeeded", "Failed"}


@dataclass(frozen=True)
class Capacity:
    """GPUs of one type: how many exist and how many no pod has requested."""

    free: int
    total: int

    def describe(self) -> str:
        """Text for the form, e.g. '3 of 4 free'."""
        return f"{self.free} of {self.total} free"


def _matches(labels: Mapping[str, str], selector: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _requested(pod: Mapping[str, Any], resource: str) -> int:
    total = 0
    for container in pod.get("spec", {}).get("containers", []) or []:
        res = container.get("resources") or {}
        amount = (res.get("requests") or {}).get(resource) or (res.get("limits") or {}).get(resource)
        if amount is not None:
            total += int(str(amount))
    return total


def gpu_capacity(
    gpu: Gpu, nodes: Iterable[Mapping[str, Any]], pods: Iterable[Mapping[str, Any]]
) -> dict[str, Capacity]:
    """Capacity of each of ``gpu``'s types on ``nodes``, given the ``pods`` bound to them."""
    used: dict[str, int] = {}
    for pod in pods:
        node = pod.get("spec", {}).get("nodeName")
        if node and pod.get("status", {}).get("phase") not in _DONE:
            used[node] = used.get(node, 0) + _requested(pod, gpu.resource)
    found = {key: Capacity(0, 0) for key in gpu.types}
    for node in nodes:
        meta = node.get("metadata", {})
        labels = meta.get("labels") or {}
        allocatable = int(str((node.get("status", {}).get("allocatable") or {}).get(gpu.resource, 0)))
        if not allocatable:
            continue
        for key, kind in gpu.types.items():
            if _matches(labels, kind.node_selector):
                free = max(0, allocatable - used.get(meta.get("name", ""), 0))
                old = found[key]
                found[key] = Capacity(old.free + free, old.total + allocatable)
    return found
