"""The real scheduler on simulated nodes: GPU pods fit where GPUs are, oversized ones stay Pending."""

from __future__ import annotations

from kfjupyter.k8s.client import Kube
from tests.integration.cluster.kube_helpers import events, pod, wait_for


def _gpu_pod(name: str, gpus: int, **extra: object) -> dict[str, object]:
    limits = {"nvidia.com/gpu": str(gpus)}
    return pod(name, ["sleep", "60"], container={"resources": {"limits": limits}}, **extra)


def test_default_nodes_are_ready_with_gpu_capacity(kube: Kube) -> None:
    nodes = {n.metadata.name: n for n in kube.core.list_node().items}
    assert set(nodes) == {"cpu-0", "gpu-a100-0", "gpu-h100-0"}
    assert nodes["gpu-a100-0"].status.capacity["nvidia.com/gpu"] == "4"
    assert nodes["gpu-h100-0"].metadata.labels["nvidia.com/gpu.product"] == "H100"
    assert not nodes["cpu-0"].spec.taints
    for name in ("gpu-a100-0", "gpu-h100-0"):  # GPU nodes are kept for pods that request GPUs
        assert [(t.key, t.effect) for t in nodes[name].spec.taints] == [("nvidia.com/gpu", "NoSchedule")]


def test_a_cpu_pod_never_lands_on_a_gpu_node(kube: Kube, namespace: str) -> None:
    for i in range(4):
        kube.core.create_namespaced_pod(namespace, pod(f"cpu-only-{i}", ["sleep", "60"]))
    for i in range(4):
        node = wait_for(
            lambda i=i: kube.core.read_namespaced_pod(f"cpu-only-{i}", namespace).spec.node_name,
            30,
            "binding",
        )
        assert node == "cpu-0"


def test_one_gpu_pod_lands_on_a_gpu_node(kube: Kube, namespace: str) -> None:
    kube.core.create_namespaced_pod(namespace, _gpu_pod("one-gpu", 1))
    node = wait_for(lambda: kube.core.read_namespaced_pod("one-gpu", namespace).spec.node_name, 30, "binding")
    assert node in ("gpu-a100-0", "gpu-h100-0")
    wait_for(
        lambda: kube.core.read_namespaced_pod("one-gpu", namespace).status.phase == "Running", 30, "Running"
    )


def test_node_selector_picks_the_gpu_type(kube: Kube, namespace: str) -> None:
    selector = {"nvidia.com/gpu.product": "H100"}
    kube.core.create_namespaced_pod(namespace, _gpu_pod("h100", 2, nodeSelector=selector))
    node = wait_for(lambda: kube.core.read_namespaced_pod("h100", namespace).spec.node_name, 30, "binding")
    assert node == "gpu-h100-0"


def test_oversized_gpu_pod_stays_pending_with_insufficient_gpu(kube: Kube, namespace: str) -> None:
    kube.core.create_namespaced_pod(namespace, _gpu_pod("too-big", 8))

    def failed() -> bool:
        return any(
            r == "FailedScheduling" and "Insufficient nvidia.com/gpu" in m
            for r, m in events(kube, namespace, "too-big")
        )

    wait_for(failed, 30, "FailedScheduling event")
    current = kube.core.read_namespaced_pod("too-big", namespace)
    assert current.status.phase == "Pending" and current.spec.node_name is None
