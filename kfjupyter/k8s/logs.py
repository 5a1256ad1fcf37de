"""Reading pod logs and listing pods as plain JSON, through one :class:`~kfjupyter.k8s.client.Kube`.

:class:`PodLogs` reads the whole current log of one container (with RFC 3339 timestamps, so lines
start with their time like local step logs) and raises :class:`PodGone` when the pod or its log
no longer exists. Given no ``Kube``, it connects on first use with
:meth:`Kube.from_environment <kfjupyter.k8s.client.Kube.from_environment>` (in-cluster, then
``$KUBECONFIG``, then ``~/.kube/config``) and, when no cluster is configured, keeps raising that
error without looking again.
"""

from __future__ import annotations

import threading
from typing import Any

from kfjupyter.k8s.client import Kube, ignore_not_found, list_json


class PodGone(Exception):
    """The pod (or its log) no longer exists; what was kept of it is all there will be."""


class PodLogs:
    """Logs of one container of pods, and pods by label, over the Kubernetes API."""

    def __init__(
        self, kube: Kube | None = None, container: str = "main", timeout_s: float | None = None
    ) -> None:
        """Use ``kube`` or connect from the environment on first use.

        ``timeout_s`` bounds each request (default: the client's, unbounded).
        """
        self._kube = kube
        self._owned = kube is None
        self.container = container
        self.timeout_s = timeout_s
        self._no_cluster: Exception | None = None
        self._lock = threading.Lock()

    @property
    def kube(self) -> Kube:
        """The client, connecting from the environment the first time (raises if no cluster)."""
        with self._lock:
            if self._no_cluster is not None:
                raise self._no_cluster
            if self._kube is None:
                try:
                    self._kube = Kube.from_environment()
                except Exception as error:  # no cluster configured here: stop trying for this source
                    self._no_cluster = error
                    raise
            return self._kube

    def read(self, namespace: str, pod: str) -> bytes:
        """The container's whole log with timestamps; :class:`PodGone` when the pod is gone (404)."""
        with ignore_not_found() as missing:
            response = self.kube.core.read_namespaced_pod_log(
                pod,
                namespace,
                container=self.container,
                timestamps=True,
                _preload_content=False,
                _request_timeout=self.timeout_s,
            )
            data: bytes = response.data
            return data
        raise PodGone(pod) from missing.error

    def list_pods(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        """The pods in ``namespace`` matching ``label_selector``, as JSON objects."""
        body = list_json(
            self.kube.core.list_namespaced_pod,
            namespace=namespace,
            label_selector=label_selector,
            _request_timeout=self.timeout_s,
        )
        items: list[dict[str, Any]] = body.get("items", [])
        return items

    def close(self) -> None:
        """Close the client if this reader made it."""
        with self._lock:
            if self._owned and self._kube is not None:
                self._kube.close()
                self._kube = None
