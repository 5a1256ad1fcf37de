"""Pods on the real node are real containers: restricted, logged through the API, networked locally."""

from __future__ import annotations

import ipaddress
import time
import urllib.request
from typing import Any

from kfjupyter.cluster.config import ClusterState
from kfjupyter.cluster.node_images import PAUSE_IMAGE
from kfjupyter.k8s.client import Kube
from tests.integration.cluster.kube_helpers import events, phase, wait_for

RESTRICTED = {
    "runAsUser": 1000,
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def restricted_pod(name: str, command: list[str], image: str = PAUSE_IMAGE, **spec: Any) -> dict[str, Any]:
    """A pod as the spawner makes them: non-root, no capabilities, seccomp, never pulled."""
    container = {"name": "main", "image": image, "imagePullPolicy": "Never", "command": command,
                 "securityContext": RESTRICTED}  # fmt: skip
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [container],
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 2,
            "automountServiceAccountToken": False,
            **spec,
        },
    }


def test_a_restricted_pod_runs_as_a_real_container(real_kube: Kube, real_namespace: str) -> None:
    script = "id -u; grep -E '^(CapEff|Seccomp):' /proc/self/status; cat /proc/1/cmdline | tr '\\0' ' '"
    real_kube.core.create_namespaced_pod(real_namespace, restricted_pod("whoami", ["sh", "-c", script]))
    wait_for(lambda: phase(real_kube, real_namespace, "whoami") == "Succeeded", 60, "the pod to succeed")
    log = real_kube.core.read_namespaced_pod_log("whoami", real_namespace)
    lines = log.splitlines()
    assert lines[0] == "1000", log
    assert "CapEff:\t0000000000000000" in lines, log
    assert "Seccomp:\t2" in lines, log
    # PID 1 of the container is its own shell, not anything of the host: a separate PID namespace.
    assert lines[-1].startswith("sh -c id -u"), log


def test_node_reports_real_runtime_and_advertised_gpus(real_kube: Kube, real_cluster: ClusterState) -> None:
    assert real_cluster.node is not None
    node = real_kube.core.read_node(real_cluster.node.name)
    assert node.status.node_info.container_runtime_version.startswith("docker://")
    assert node.status.node_info.kubelet_version.startswith("v1.20.2")
    assert node.status.allocatable["nvidia.com/gpu"] == "2"
    assert node.metadata.labels["kfjupyter.dev/gpu-type"] == "a100"
    assert "kfjupyter.io/simulated" not in node.metadata.labels
    addresses = {a.type: a.address for a in node.status.addresses}
    assert not ipaddress.ip_address(addresses["InternalIP"]).is_loopback
    assert ipaddress.ip_address(addresses["InternalIP"]) in ipaddress.ip_network(
        real_cluster.node.network.subnet
    )
    assert not node.spec.taints


def test_gpu_requests_are_scheduled_against_the_advertised_capacity(
    real_kube: Kube, real_namespace: str
) -> None:
    def gpu_pod(name: str, count: int) -> dict[str, Any]:
        pod = restricted_pod(name, ["sh", "-c", "echo ok"])
        pod["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": str(count)}}
        return pod

    real_kube.core.create_namespaced_pod(real_namespace, gpu_pod("one-gpu", 1))
    real_kube.core.create_namespaced_pod(real_namespace, gpu_pod("three-gpus", 3))
    wait_for(lambda: phase(real_kube, real_namespace, "one-gpu") == "Succeeded", 60, "the 1-GPU pod")

    def unschedulable() -> bool:
        return any(
            reason == "FailedScheduling" and "Insufficient nvidia.com/gpu" in message
            for reason, message in events(real_kube, real_namespace, "three-gpus")
        )

    wait_for(unschedulable, 30, "FailedScheduling for the 3-GPU pod")
    assert phase(real_kube, real_namespace, "three-gpus") == "Pending"


def test_a_missing_image_fails_fast_naming_the_image(real_kube: Kube, real_namespace: str) -> None:
    image = "localhost/kfjupyter-absent:1"
    started = time.monotonic()
    real_kube.core.create_namespaced_pod(real_namespace, restricted_pod("absent", ["true"], image=image))

    def waiting() -> Any:
        statuses = real_kube.core.read_namespaced_pod("absent", real_namespace).status.container_statuses
        return (
            statuses and statuses[0].state.waiting and statuses[0].state.waiting.reason != "ContainerCreating"
        )

    wait_for(waiting, 30, "the container to wait on its image")
    state = real_kube.core.read_namespaced_pod("absent", real_namespace).status.container_statuses[0].state
    assert state.waiting.reason == "ErrImageNeverPull"
    assert image in state.waiting.message
    assert time.monotonic() - started < 15


def test_pods_get_addresses_on_the_node_network_and_no_way_out(
    real_kube: Kube, real_namespace: str, real_cluster: ClusterState
) -> None:
    assert real_cluster.node is not None
    # A web server in the pod (busybox httpd, as uid 1000 on a high port), reached from this host.
    script = "mkdir -p /tmp/www && echo hello > /tmp/www/index.html && cat /proc/net/route && httpd -f -p 8080 -h /tmp/www"
    real_kube.core.create_namespaced_pod(real_namespace, restricted_pod("web", ["sh", "-c", script]))
    wait_for(lambda: phase(real_kube, real_namespace, "web") == "Running", 60, "the web pod to run")
    pod_ip = wait_for(
        lambda: real_kube.core.read_namespaced_pod("web", real_namespace).status.pod_ip, 10, "pod IP"
    )
    assert ipaddress.ip_address(pod_ip) in ipaddress.ip_network(real_cluster.node.network.subnet)

    def answers() -> str | None:
        try:
            with urllib.request.urlopen(f"http://{pod_ip}:8080/", timeout=2) as reply:
                return str(reply.read().decode())
        except OSError:
            return None

    assert wait_for(answers, 20, "the pod's web server") == "hello\n"
    routes = real_kube.core.read_namespaced_pod_log("web", real_namespace).splitlines()[1:]
    destinations = [line.split()[1] for line in routes if line.strip()]
    assert destinations, routes
    assert "00000000" not in destinations, f"the pod has a default route: {routes}"
