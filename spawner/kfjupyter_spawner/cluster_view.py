"""The hub's one view of the cluster: shared watches on pods, events and nodes.

Every spawner in a hub process shares one :class:`ClusterView` per (kubeconfig, namespace):
three watches in all, however many servers run. Spawners read pod state, events and GPU capacity
from its caches; they make API calls only to create and delete their own objects.

The pod watch is cluster-wide in every mode: GPU capacity must count the pods of *all* namespaces
on a node, and it covers servers in per-user namespaces too. Events are watched in the hub's
namespace, or (namespace ``""``: per-user namespaces) once for the whole cluster — never one watch
per namespace. Both are limited to events about pods.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from kfjupyter.k8s.client import Kube
from kfjupyter.k8s.informer import Informer
from kfjupyter_spawner.capacity import Capacity, gpu_capacity
from kfjupyter_spawner.ownership import owned_by
from kfjupyter_spawner.profiles import Gpu
from kfjupyter_spawner.watch import EventIndex

POD_EVENTS = "involvedObject.kind=Pod"
#: How long starting a view waits for the first list of each watch.
START_TIMEOUT_S = 30.0
_VIEWS: dict[tuple[str, str], ClusterView] = {}
_LOCK = threading.Lock()
_START_LOCK = threading.Lock()


class ClusterView:
    """Kubernetes clients plus live caches of pods (all namespaces), pod events and nodes."""

    def __init__(self, kubeconfig: str, namespace: str) -> None:
        """Start the watches; ``namespace`` ``""`` follows events of every namespace.

        ``kubeconfig`` ``""`` connects as the environment allows (in-cluster service account, then
        ``$KUBECONFIG``, then ``~/.kube/config``): a hub running in a pod needs no kubeconfig.
        """
        self.namespace = namespace
        self.kube = Kube(kubeconfig) if kubeconfig else Kube.from_environment()
        core = self.kube.core
        self.pods = Informer(core.list_pod_for_all_namespaces, name="pods", start=False)
        if namespace:
            self.events = Informer(
                core.list_namespaced_event,
                name="events",
                start=False,
                namespace=namespace,
                field_selector=POD_EVENTS,
            )
        else:
            self.events = Informer(
                core.list_event_for_all_namespaces, name="events", start=False, field_selector=POD_EVENTS
            )
        self.nodes = Informer(core.list_node, name="nodes", start=False)
        self.event_index = EventIndex(self.events)
        for watch in (self.pods, self.events, self.nodes):
            watch.start()
        for watch in (self.pods, self.events, self.nodes):
            if not watch.wait_synced(START_TIMEOUT_S):
                self.close()
                raise TimeoutError(
                    f"listing {watch.name} took more than {START_TIMEOUT_S:g} s: {watch.error}"
                )

    def close(self) -> None:
        """Stop the watches and close the client."""
        for watch in (self.pods, self.events, self.nodes):
            watch.stop()
        self.kube.close()

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
            view.close()

    def pod(self, name: str, namespace: str = "") -> dict[str, Any] | None:
        """The cached pod ``name`` in ``namespace`` (default: this view's namespace)."""
        return self.pods.get(f"{namespace or self.namespace}/{name}")

    def pod_events(self, name: str, namespace: str = "") -> list[dict[str, Any]]:
        """Events about pod ``name`` in ``namespace`` (default: this view's), oldest first."""
        return self.event_index.for_pod(namespace or self.namespace, name)

    def gpus_of_user(self, user: str, *, resource: str, exclude: str = "") -> int:
        """GPUs requested by the user's live server pods (that exact user), other than ``exclude``."""
        total = 0
        for pod in self.pods.items():
            meta = pod.get("metadata", {})
            if self.namespace and meta.get("namespace") != self.namespace:
                continue
            if meta.get("name") == exclude or not owned_by(pod, user):
                continue
            if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                continue
            for container in pod.get("spec", {}).get("containers", []):
                limits = (container.get("resources") or {}).get("limits") or {}
                total += int(str(limits.get(resource, 0)))
        return total

    def capacity(self, gpu: Gpu) -> dict[str, Capacity]:
        """Free GPUs per type, from the caches."""
        return gpu_capacity(gpu, self.nodes.items(), self.pods.items())

    @property
    def requests(self) -> int:
        """API requests the watches have made (lists + watch connections)."""
        return self.pods.requests + self.events.requests + self.nodes.requests
