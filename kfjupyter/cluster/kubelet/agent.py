"""The kubelet process: registers the simulated nodes, watches their pods, hands each to a worker.

One process serves every simulated node (they share 127.0.0.1 and one HTTPS port). It follows all
pods through an :class:`~kfjupyter.k8s.informer.Informer`, starts a :class:`PodWorker` for each
pod bound to one of its nodes, gives each pod a loopback IP 127.0.X.Y, records events on a
background thread and serves container logs.
"""

from __future__ import annotations

import queue
import re
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kfjupyter.cluster.config import ClusterConfig, ClusterState
from kfjupyter.cluster.kubelet import logs
from kfjupyter.cluster.kubelet.pod_worker import PodWorker
from kfjupyter.cluster.kubelet.provisioner import Provisioner
from kfjupyter.cluster.kubelet.runtime import decode_secret
from kfjupyter.cluster.kubelet.status import now_iso
from kfjupyter.k8s.client import Kube, discard, ignore_conflict, ignore_not_found
from kfjupyter.k8s.informer import Informer
from kfjupyter.k8s.nodes import node_manifest, node_status


class Kubelet:
    """Plays the kubelet for every simulated node of one cluster."""

    def __init__(self, state: ClusterState, config: ClusterConfig) -> None:
        self.kube = Kube(state.kubeconfig, pool_size=64)
        self.cluster = state
        self.settings = config.kubelet
        self.state_dir: Path = state.state_dir
        self.host_ip = "127.0.0.1"
        self.running = True
        self.stop = threading.Event()
        self.nodes = {node.name: node for node in config.nodes}
        self.workers: dict[str, PodWorker] = {}
        self.by_name: dict[tuple[str, str], PodWorker] = {}
        self.lock = threading.Lock()
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._pattern = re.compile(self.settings.unpullable_image)
        self._next_ip = 0

    def unpullable(self, image: str) -> bool:
        """Whether pulling ``image`` fails."""
        return bool(self._pattern.search(image))

    def base_env(self) -> dict[str, str]:
        """In-cluster API coordinates, as Kubernetes injects them."""
        port = str(self.cluster.api_port)
        return {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port,
                "KUBERNETES_SERVICE_PORT_HTTPS": port}  # fmt: skip

    def lookup(self, kind: str, namespace: str, name: str) -> dict[str, str] | None:
        """Data of a secret (decoded) or config map; None when it does not exist."""
        with ignore_not_found():
            if kind == "secret":
                return decode_secret(self.kube.core.read_namespaced_secret(name, namespace).data)
            return dict(self.kube.core.read_namespaced_config_map(name, namespace).data or {})
        return None

    def event(self, pod: dict[str, Any], reason: str, message: str, kind: str = "Normal",
              container: str | None = None) -> None:  # fmt: skip
        """Queue an event about ``pod`` (sent in order by the event thread)."""
        meta, now = pod["metadata"], now_iso()
        node = pod["spec"].get("nodeName", "")
        involved = {"kind": "Pod", "apiVersion": "v1", "namespace": meta["namespace"], "name": meta["name"],
                    "uid": meta["uid"], "resourceVersion": meta.get("resourceVersion")}  # fmt: skip
        if container:
            involved["fieldPath"] = f"spec.containers{{{container}}}"
        self.events.put({
            "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:16]}", "namespace": meta["namespace"]},
            "involvedObject": involved, "reason": reason, "message": message, "type": kind,
            "source": {"component": "kubelet", "host": node}, "firstTimestamp": now, "lastTimestamp": now,
            "count": 1, "reportingComponent": "kubelet", "reportingInstance": node,
        })  # fmt: skip

    def _send_events(self) -> None:
        while (body := self.events.get()) is not None:
            try:
                namespace = body["metadata"]["namespace"]
                discard(self.kube.core.create_namespaced_event(namespace, body, _preload_content=False))
            except Exception:  # the namespace may be gone already; events are best effort
                time.sleep(0.01)

    def register_nodes(self) -> None:
        """Create the Node objects, post a Ready status, lift the not-ready taint and keep the GPU one."""
        for spec in self.nodes.values():
            with ignore_conflict():  # registered by an earlier start
                self.kube.core.create_node(node_manifest(spec))
            status = node_status(
                spec, address=self.host_ip, kubelet_port=self.cluster.kubelet_port, now=now_iso()
            )
            self.kube.core.patch_node_status(spec.name, {"status": status})
            node = self.kube.core.read_node(spec.name)
            wanted: list[dict[str, str]] = node_manifest(spec)["spec"].get("taints", [])
            taints = wanted + [
                {"key": t.key, "value": t.value or "", "effect": t.effect}
                for t in (node.spec.taints or [])
                if not t.key.startswith("node.kubernetes.io/") and t.key not in {w["key"] for w in wanted}
            ]
            self.kube.core.patch_node(spec.name, {"spec": {"taints": taints or None}})

    def _allocate_ip(self) -> str:
        used = {worker.pod_ip for worker in self.workers.values()}
        while True:
            index = self._next_ip % (254 * 254)
            self._next_ip += 1
            ip = f"127.0.{1 + index // 254}.{1 + index % 254}"
            if ip not in used:
                return ip

    def dispatch(self, kind: str, pod: dict[str, Any]) -> None:
        """Route one pod event to its worker, starting one for a newly bound pod."""
        if pod["spec"].get("nodeName") not in self.nodes:
            return
        meta = pod["metadata"]
        with self.lock:
            worker = self.workers.get(meta["uid"])
            if kind == "DELETED":
                if worker is not None:
                    worker.deleted()
                    self._forget(worker)
                return
            if worker is not None:
                worker.update(pod)
                return
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") and not meta.get(
                "deletionTimestamp"
            ):
                return  # finished before this kubelet started: nothing to run
            worker = PodWorker(self, pod, self._allocate_ip())
            self.workers[meta["uid"]] = worker
            self.by_name[(meta["namespace"], meta["name"])] = worker
        worker.start()

    def _forget(self, worker: PodWorker) -> None:
        self.workers.pop(worker.uid, None)
        meta = worker.pod["metadata"]
        if self.by_name.get((meta["namespace"], meta["name"])) is worker:
            del self.by_name[(meta["namespace"], meta["name"])]

    def find_log(
        self, namespace: str, pod: str, container: str, previous: bool
    ) -> tuple[Path, Callable[[], bool]] | None:
        """The log file for the log server."""
        worker = self.by_name.get((namespace, pod))
        if worker is None:
            return None
        path = worker.log_file(container, previous)
        if path is None:
            return None
        return path, (lambda: not previous and worker.is_running(container))

    def run(self) -> None:
        """Serve until :meth:`shutdown` is called (SIGTERM)."""
        certs = self.state_dir / "certs"
        server = logs.serve(
            self.cluster.kubelet_port, certs / "server.crt", certs / "server.key", self.find_log
        )
        threading.Thread(target=self._send_events, daemon=True, name="events").start()
        self.register_nodes()
        Provisioner(self.kube, self.state_dir / "volumes", self.stop).start()
        pods = Informer(self.kube.core.list_pod_for_all_namespaces, name="kubelet-pods", start=False)
        pods.add_listener(self.dispatch)
        pods.start()
        self.stop.wait()
        pods.stop()
        self.running = False
        for worker in list(self.workers.values()):
            worker.wake.set()
        for worker in list(self.workers.values()):
            worker.join(timeout=5)
        server.shutdown()
        server.server_close()
        self.events.put(None)
        self.kube.close()
