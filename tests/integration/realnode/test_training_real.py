"""Kubernetes training on the real node: worker pods are real containers of the notebook image.

``kfjupyter.train(..., backend="kubernetes")`` creates the TrainJob and its code ConfigMap; the
test plays the Trainer controller: it creates one pod per node as JobSet would (labels, the
runtime patch's code volume, the CR's env and torchrun command, ``PET_*`` rendezvous variables
with rank 0's pod address as the master) and writes the CR's final condition. Nothing runs on the
host: torchrun, the launcher and the user's function run in the notebook image as uid 1000 with
all capabilities dropped, and two ranks all-reduce over gloo between their pod addresses.
"""

from __future__ import annotations

import ipaddress
import textwrap
from typing import Any

import pytest

from kfjupyter.cluster import images
from kfjupyter.cluster.config import ClusterState
from kfjupyter.k8s.client import Kube
from kfjupyter.store import RunStore
from kfjupyter.training import train
from kfjupyter.training.backends.kubernetes import KubernetesBackend
from kfjupyter.training.handle import TrainingJob
from kfjupyter.training.job import TrainingFailed
from tests.integration.cluster import crds
from tests.integration.cluster.kube_helpers import wait_for
from tests.integration.cluster.trainer_standin import TRAINJOB, objects, set_condition, trainjob_node_pod
from tests.integration.realnode.test_real_pods import RESTRICTED
from tests.support.stores import home, store

__all__ = ["home", "store"]
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]  # a cold image build is minutes
MASTER_PORT = "29500"
TRAIN_SOURCE = textwrap.dedent(
    """
    def train_fn(fail_rank):
        import os, socket
        import torch
        import torch.distributed as dist

        dist.init_process_group("gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        address = socket.gethostbyname(socket.gethostname())
        print(f"rank {rank} of {world} at {address} uid {os.getuid()} master {os.environ['MASTER_ADDR']}", flush=True)
        if rank == fail_rank:
            raise RuntimeError(f"rank {rank} fails on purpose")
        total = torch.tensor([float(rank + 1)])
        dist.all_reduce(total)
        print(f"loss={total.item() / (rank + 1):.3f}", flush=True)
        print(f"rank {rank} all-reduce sum {total.item():.1f}", flush=True)
        dist.destroy_process_group()
    """
)


@pytest.fixture(scope="module")
def notebook_image() -> str:
    """The notebook image in the node's docker daemon (built when missing or out of date)."""
    images.build()
    return images.notebook_tags()[1]


@pytest.fixture
def on_real_cluster(
    real_cluster: ClusterState, real_kube: Kube, real_namespace: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Cluster discovery pointed at the real-node cluster and a fresh namespace; TrainJob served."""
    monkeypatch.setenv("KUBECONFIG", str(real_cluster.kubeconfig))
    monkeypatch.setenv("KFJUPYTER_NAMESPACE", real_namespace)
    crds.use_crds(real_kube, crds.trainjob_crd(), pytorchjob=False)
    return real_namespace


def node_pod(job: dict[str, Any], node: int, master: dict[str, Any]) -> dict[str, Any]:
    """The pod a Trainer controller would create for ``node``, as a real, restricted container."""
    trainer = job["spec"]["trainer"]
    rendezvous = [
        {"name": "PET_NODE_RANK", "value": str(node)},
        {"name": "PET_MASTER_PORT", "value": MASTER_PORT},
        {"name": "PET_MASTER_ADDR", **master},
    ]
    container = {
        "image": trainer["image"],
        "imagePullPolicy": "Never",
        "command": trainer["command"],  # torchrun, as the controller runs it
        "env": [*trainer["env"], *rendezvous],
        "securityContext": RESTRICTED,
    }
    return trainjob_node_pod(
        job, node, container,
        automountServiceAccountToken=False,
        securityContext={"fsGroup": 100, "seccompProfile": {"type": "RuntimeDefault"}},
    )  # fmt: skip


def start_nodes(kube: Kube, namespace: str, name: str) -> tuple[str, str]:
    """Create rank 0 (master: its own pod address), then rank 1 pointed at it; returns both IPs."""
    job = objects(kube).get_namespaced_custom_object(*TRAINJOB[:2], namespace, TRAINJOB[2], name)
    own_ip = {"valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
    kube.core.create_namespaced_pod(namespace, node_pod(job, 0, own_ip))
    first = f"{name}-node-0-0"
    ip0 = wait_for(lambda: kube.core.read_namespaced_pod(first, namespace).status.pod_ip, 120, "rank 0's IP")
    kube.core.create_namespaced_pod(namespace, node_pod(job, 1, {"value": ip0}))
    second = f"{name}-node-0-1"
    ip1 = wait_for(lambda: kube.core.read_namespaced_pod(second, namespace).status.pod_ip, 120, "rank 1's IP")
    return str(ip0), str(ip1)


def pod_phases(kube: Kube, namespace: str, name: str) -> dict[str, str]:
    pods = kube.core.list_namespaced_pod(namespace, label_selector=f"jobset.sigs.k8s.io/jobset-name={name}")
    return {p.metadata.name: p.status.phase for p in pods.items}


def delete_pods(kube: Kube, namespace: str, name: str) -> None:
    for pod in pod_phases(kube, namespace, name):
        kube.core.delete_namespaced_pod(pod, namespace, grace_period_seconds=0)
    wait_for(lambda: not pod_phases(kube, namespace, name), 90, "the node pods to be deleted")


def test_two_ranks_all_reduce_across_pods_and_keep_logs_and_metrics(
    real_kube: Kube, real_cluster: ClusterState, on_real_cluster: str, store: RunStore, notebook_image: str
) -> None:
    namespace = on_real_cluster
    scope: dict[str, Any] = {}
    exec(TRAIN_SOURCE, scope)  # a function without an importable module travels by value
    handle = train(scope["train_fn"], args=(-1,), num_nodes=2, image=notebook_image,
                   backend="kubernetes", name="allreduce", store=store)  # fmt: skip
    ip0, ip1 = start_nodes(real_kube, namespace, "allreduce")
    assert real_cluster.node is not None
    subnet = ipaddress.ip_network(real_cluster.node.network.subnet)
    assert ip0 != ip1 and ipaddress.ip_address(ip0) in subnet and ipaddress.ip_address(ip1) in subnet

    wait_for(lambda: set(pod_phases(real_kube, namespace, "allreduce").values()) == {"Succeeded"}, 300,
             "both ranks to finish")  # fmt: skip
    wait_for(lambda: len(handle.metrics().get("loss", [])) == 2, 60, "both ranks' loss lines")
    set_condition(real_kube, namespace, "allreduce", "Complete")
    final = handle.wait(timeout=60)
    assert final.status == "Complete" and [s.status for s in final.steps] == ["Complete", "Complete"]

    delete_pods(real_kube, namespace, "allreduce")
    again = KubernetesBackend(store, real_kube, namespace)
    kept = TrainingJob(again, again.find_job("allreduce"))
    lines = list(kept.logs())
    assert any(
        line.startswith("[rank-0]") and f"rank 0 of 2 at {ip0} uid 1000 master {ip0}" in line
        for line in lines
    ), lines
    assert any(
        line.startswith("[rank-1]") and f"rank 1 of 2 at {ip1} uid 1000 master {ip0}" in line
        for line in lines
    ), lines
    assert any(line.startswith("[rank-0]") and "rank 0 all-reduce sum 3.0" in line for line in lines), lines
    assert any(line.startswith("[rank-1]") and "rank 1 all-reduce sum 3.0" in line for line in lines), lines
    assert [p.value for p in kept.metrics(rank=0)["loss"]] == [3.0]
    assert [p.value for p in kept.metrics(rank=1)["loss"]] == [1.5]


def test_a_failing_rank_fails_the_job(
    real_kube: Kube, on_real_cluster: str, store: RunStore, notebook_image: str
) -> None:
    namespace = on_real_cluster
    scope: dict[str, Any] = {}
    exec(TRAIN_SOURCE, scope)
    handle = train(scope["train_fn"], args=(1,), num_nodes=2, image=notebook_image,
                   backend="kubernetes", name="onefails", store=store)  # fmt: skip
    start_nodes(real_kube, namespace, "onefails")
    wait_for(lambda: pod_phases(real_kube, namespace, "onefails").get("onefails-node-0-1") == "Failed", 300,
             "rank 1 to fail")  # fmt: skip
    # The controller sees a failed pod and fails the job (JobSet then removes the pods).
    set_condition(real_kube, namespace, "onefails", "Failed")
    with pytest.raises(TrainingFailed, match=r"Training job 'onefails' .* failed"):
        handle.wait(timeout=90)
    delete_pods(real_kube, namespace, "onefails")
    assert handle.status == "Failed"
    steps = {s.name: s for s in store.get_steps(handle.id)}
    assert steps["rank-1"].status == "failed", steps
    assert steps["rank-1"].exit_code not in (None, 0), steps
    run = store.get_run(handle.id)
    assert run.status == "failed" and "onefails-node-0-" in (run.error or ""), run
    assert any(line.startswith("[rank-1]") and "rank 1 fails on purpose" in line for line in handle.logs())
