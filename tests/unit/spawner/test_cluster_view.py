"""The shared view's reads: pods of every namespace count for GPUs; per-user namespaces work."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from kfjupyter_spawner.capacity import Capacity
from kfjupyter_spawner.cluster_view import ClusterView

from tests.unit.spawner.test_form import node
from tests.unit.spawner.test_options import CONFIG


def gpu_pod(namespace: str, name: str, gpus: int, user: str | None = None) -> dict[str, Any]:
    labels = {"app.kubernetes.io/managed-by": "kfjupyter", "kfjupyter.dev/user": user} if user else {}
    return {
        "metadata": {"namespace": namespace, "name": name, "labels": labels},
        "spec": {"nodeName": "a", "containers": [{"resources": {"limits": {"nvidia.com/gpu": str(gpus)}}}]},
        "status": {"phase": "Running"},
    }


class _Cache:
    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.objects = objects

    def items(self) -> list[dict[str, Any]]:
        return self.objects

    def get(self, key: str) -> dict[str, Any] | None:
        for obj in self.objects:
            meta = obj["metadata"]
            if f"{meta.get('namespace')}/{meta['name']}" == key:
                return obj
        return None


def view(namespace: str, pods: list[dict[str, Any]]) -> ClusterView:
    made = object.__new__(ClusterView)
    made.namespace = namespace
    made.pods = _Cache(pods)  # type: ignore[assignment]
    made.nodes = _Cache([node("a", "a100", 8)])  # type: ignore[assignment]
    made.event_index = SimpleNamespace(for_pod=lambda ns, name: [f"{ns}/{name}"])  # type: ignore[assignment]
    return made


PODS = [
    gpu_pod("jupyter", "jupyter-ada", 1, "ada"),
    gpu_pod("kfjupyter-ada", "jupyter-ada--big", 2, "ada"),
    gpu_pod("training", "someones-job", 4),  # not a notebook: still uses the node's GPUs
]


def test_capacity_counts_pods_of_every_namespace() -> None:
    gpu = CONFIG.profile("gpu").gpu
    assert gpu is not None
    for ns in ("jupyter", ""):
        assert view(ns, PODS).capacity(gpu)["a100"] == Capacity(1, 8)


def test_gpus_of_user_by_mode() -> None:
    shared = view("jupyter", PODS)
    assert shared.gpus_of_user("ada", resource="nvidia.com/gpu") == 1
    everywhere = view("", PODS)
    assert everywhere.gpus_of_user("ada", resource="nvidia.com/gpu") == 3
    assert everywhere.gpus_of_user("ada", resource="nvidia.com/gpu", exclude="jupyter-ada--big") == 1


def test_reads_take_the_pods_namespace() -> None:
    everywhere = view("", PODS)
    assert everywhere.pod("jupyter-ada--big", "kfjupyter-ada") is PODS[1]
    assert everywhere.pod_events("jupyter-ada", "kfjupyter-ada") == ["kfjupyter-ada/jupyter-ada"]  # type: ignore[comparison-overlap]
    assert view("jupyter", PODS).pod("jupyter-ada") is PODS[0]


def test_users_with_lookalike_names_do_not_share_a_gpu_quota() -> None:
    from kfjupyter_spawner.names import label_value

    # "a b" used to be labelled a-b-c8687a08, the name of another user: one quota for both.
    spaced = gpu_pod("jupyter", "jupyter-a-b", 3, label_value("a b"))
    spaced["metadata"]["annotations"] = {"kfjupyter.dev/username": "a b"}
    plain = gpu_pod("jupyter", "jupyter-a-b-c8687a08", 1, "a-b-c8687a08")  # made before annotations
    pods = view("jupyter", [spaced, plain])
    assert pods.gpus_of_user("a b", resource="nvidia.com/gpu") == 3
    assert pods.gpus_of_user("a-b-c8687a08", resource="nvidia.com/gpu") == 1
    spaced["metadata"]["labels"]["kfjupyter.dev/user"] = "a-b-c8687a08"  # the old label of "a b"
    assert pods.gpus_of_user("a-b-c8687a08", resource="nvidia.com/gpu") == 1
