"""Small helpers for cluster tests: waiting, pod manifests, events and logs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kfjupyter.k8s.client import Kube


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def pod(name: str, command: list[str], **extra: Any) -> dict[str, Any]:
    """A one-container pod manifest running ``command``."""
    container: dict[str, Any] = {"name": "main", "image": "python:3.11", "command": command}
    container.update(extra.pop("container", {}))
    spec: dict[str, Any] = {
        "containers": [container],
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 5,
    }
    spec.update(extra)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def phase(kube: Kube, namespace: str, name: str) -> str:
    """The pod's phase."""
    return str(kube.core.read_namespaced_pod(name, namespace).status.phase)


def waiting_reason(kube: Kube, namespace: str, name: str) -> str | None:
    """The first container's waiting reason, if it waits."""
    statuses = kube.core.read_namespaced_pod(name, namespace).status.container_statuses or []
    if statuses and statuses[0].state.waiting:
        return str(statuses[0].state.waiting.reason)
    return None


def events(kube: Kube, namespace: str, name: str) -> list[tuple[str, str]]:
    """(reason, message) of the events about pod ``name``."""
    items = kube.core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}").items
    return [(e.reason, e.message or "") for e in items]
