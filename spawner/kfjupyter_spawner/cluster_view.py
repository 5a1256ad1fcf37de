"""The hub's one view of the cluster: shared watches on pods, events and nodes.

Every spawner in a hub process shares one :class:`ClusterView` per (kubeconfig, namespace):
three watches in all, however many servers run. Spawners read pod state, events and GPU capacity
from its caches; they make API calls only to create and delete their own objects.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from kfjupyter.k8s.client import Kube
from kfjupyter_spawner.capacity import Capacity, gpu_capacity
from kfjupyter_spawner.names import label_value
from kfjupyter_spawner.pods import LABEL_PREFIX
from kfjupyter_spawner.profiles import Gpu
from kfjupyter_spawner.watch import EventIndex, SharedWatch

_VIEWS: dict[tuple[str, str], ClusterView] = {}
_LOCK = threading.Lock()
_START_LOCK = threading.Lock()


class ClusterView:
    """Kubernetes clients plus live caches of pods (all namespaces), events and nodes."""

    def __init__(self, kubeconfig: str, namespace: str) -> None:
        self.namespace = namespace
        self.kube = Kube(kubeconfig)
        self.pods = SharedWatch("pods", self.kube.core.list_pod_for_all_namespaces)
        self.events = SharedWatch("events", self.kube.core.list_namespaced_event, namespace=namespace)
        self.nodes = SharedWatch("nodes", self.kube.core.list_node)
        self.event_index = EventIndex(self.events)
        for watch in (self.pods, self.events, self.nodes):
            watch.start()

    @classmethod
    async def get(cls, kubeconfig: str, namespace: str) -> ClusterView:
        """The shared view for this hub process (started on first use, off the event loop)."""
        key = (kubeconfig, namespace)
        with _LOCK:
            view = _VIEWS.get(key)
        if view is None:
            view = await asyncio.to_thread(cls._get_or_start, kubeconfig, namespace)
        return view

    @classmethod
    def _get_or_start(cls, kubeconfig: str, namespace: str) -> ClusterView:
        # One start at a time: concurrent first spawns must share one view, not each start
        # (and leak) their own three watches.
        with _START_LOCK:
            with _LOCK:
                view = _VIEWS.get((kubeconfig, namespace))
            if view is None:
                view = cls(kubeconfig, namespace)
                with _LOCK:
                    _VIEWS[(kubeconfig, namespace)] = view
            return view

    @classmethod
    def peek(cls, kubeconfig: str, namespace: str) -> ClusterView | None:
        """The shared view if one was started."""
        with _LOCK:
            return _VIEWS.get((kubeconfig, namespace))

    @classmethod
    def close_all(cls) -> None:
        """Stop every view's watches and close their clients (tests, hub shutdown)."""
        with _LOCK:
            views = list(_VIEWS.values())
            _VIEWS.clear()
        for view in views:
            for watch in (view.pods, view.events, view.nodes):
                watch.stop()
            view.kube.close()

    def pod(self, name: str) -> dict[str, Any] | None:
        """The cached pod ``name`` in this view's namespace."""
        return self.pods.get(f"{self.namespace}/{name}")

    def pod_events(self, name: str) -> list[dict[str, Any]]:
        """Events about pod ``name``, oldest first."""
        return self.event_index.for_pod(self.namespace, name)

    def gpus_of_user(self, user: str, *, resource: str, exclude: str = "") -> int:
        """GPUs requested by the user's live server pods, other than ``exclude``."""
        label = label_value(user)
        total = 0
        for pod in self.pods.values():
            meta = pod.get("metadata", {})
            if meta.get("namespace") != self.namespace or meta.get("name") == exclude:
                continue
            if (meta.get("labels") or {}).get(f"{LABEL_PREFIX}/user") != label:
                continue
            if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                continue
            for container in pod.get("spec", {}).get("containers", []):
                limits = (container.get("resources") or {}).get("limits") or {}
                total += int(str(limits.get(resource, 0)))
        return total

    def capacity(self, gpu: Gpu) -> dict[str, Capacity]:
        """Free GPUs per type, from the caches."""
        return gpu_capacity(gpu, self.nodes.values(), self.pods.values())

    @property
    def requests(self) -> int:
        """API requests the watches have made (lists + watch connections)."""
        return self.pods.requests + self.events.requests + self.nodes.requests
