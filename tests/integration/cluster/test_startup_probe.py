"""Startup and liveness probes on the process kubelet: started/ready gating, kill and restart."""

from __future__ import annotations

from typing import Any

from kfjupyter.k8s.client import Kube
from tests.integration.cluster.kube_helpers import events, pod, wait_for

POD_IP = {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}


def _status(kube: Kube, namespace: str, name: str) -> Any:
    statuses = kube.core.read_namespaced_pod(name, namespace).status.container_statuses
    return statuses[0] if statuses else None


def _conditions(kube: Kube, namespace: str, name: str) -> dict[str, str]:
    conditions = kube.core.read_namespaced_pod(name, namespace).status.conditions or []
    return {c.type: c.status for c in conditions}


def test_slow_server_is_started_and_ready_only_once_its_startup_probe_passes(
    kube: Kube, namespace: str
) -> None:
    script = 'sleep 3; exec python3 -m http.server 8080 --bind "$POD_IP" --directory /tmp'
    startup = {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1, "failureThreshold": 30}
    container = {"env": [POD_IP], "startupProbe": startup}
    kube.core.create_namespaced_pod(
        namespace, pod("slow", ["sh", "-c", script], container=container, restartPolicy="Always")
    )

    booting = wait_for(
        lambda: (s := _status(kube, namespace, "slow")) is not None and s.state.running and s, 30, "running"
    )
    assert booting.started is False and booting.ready is False
    assert _conditions(kube, namespace, "slow")["Ready"] == "False"

    wait_for(lambda: _status(kube, namespace, "slow").started, 30, "started")
    wait_for(lambda: _status(kube, namespace, "slow").ready, 10, "ready (no readiness probe)")
    conditions = _conditions(kube, namespace, "slow")
    assert conditions["Ready"] == "True" and conditions["ContainersReady"] == "True"
    assert _status(kube, namespace, "slow").restart_count == 0
    messages = [message for reason, message in events(kube, namespace, "slow") if reason == "Unhealthy"]
    assert messages and all(message.startswith("Startup probe failed: ") for message in messages)


def test_startup_probe_that_never_passes_kills_and_restarts_the_container(kube: Kube, namespace: str) -> None:
    startup = {"tcpSocket": {"port": 8080}, "periodSeconds": 1, "failureThreshold": 2}
    kube.core.create_namespaced_pod(
        namespace, pod("stuck", ["sleep", "300"], container={"startupProbe": startup}, restartPolicy="Always")
    )
    wait_for(lambda: (s := _status(kube, namespace, "stuck")) and s.restart_count >= 1, 60, "a restart")
    status = _status(kube, namespace, "stuck")
    assert status.last_state.terminated is not None and status.last_state.terminated.exit_code == 143
    assert not status.ready and _conditions(kube, namespace, "stuck")["Ready"] == "False"

    def recorded() -> list[tuple[str, str]]:
        found = events(kube, namespace, "stuck")
        reasons = {reason for reason, _ in found}
        return found if {"Unhealthy", "Killing"} <= reasons else []

    found = wait_for(recorded, 30, "Unhealthy and Killing events")
    assert any(r == "Unhealthy" and m.startswith("Startup probe failed: dial tcp ") for r, m in found)
    assert ("Killing", "Container main failed startup probe, will be restarted") in found


def test_failing_liveness_probe_restarts_a_started_container_with_sigkill_after_the_grace_period(
    kube: Kube, namespace: str
) -> None:
    liveness = {"tcpSocket": {"port": 8080}, "periodSeconds": 1, "failureThreshold": 2}
    deaf = ["sh", "-c", "trap '' TERM; sleep 300"]  # ignores SIGTERM (and so does its sleep)
    manifest = pod("deaf", deaf, container={"livenessProbe": liveness}, restartPolicy="Always",
                   terminationGracePeriodSeconds=2)  # fmt: skip
    kube.core.create_namespaced_pod(namespace, manifest)
    wait_for(lambda: (s := _status(kube, namespace, "deaf")) and s.restart_count >= 1, 60, "a restart")
    assert _status(kube, namespace, "deaf").last_state.terminated.exit_code == 137
    found = wait_for(
        lambda: [e for e in events(kube, namespace, "deaf") if e[0] == "Killing"], 30, "a Killing event"
    )
    assert ("Killing", "Container main failed liveness probe, will be restarted") in found
    assert any(m.startswith("Liveness probe failed: ") for r, m in events(kube, namespace, "deaf"))
