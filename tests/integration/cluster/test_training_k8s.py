"""The Kubernetes training backend against a real API server, with the test playing the controller.

``kfjupyter.train(..., backend="kubernetes")`` creates a TrainJob and its code ConfigMap; the test
then creates the node pods a Trainer controller (JobSet) would create, with its labels, the
runtime patch's volume and the CR's env, running the shipped launcher on the process kubelet, and
sets the CR's conditions. The backend must report Running then Complete, keep every node's logs
and metrics in the run store after the pods are gone, and record the pods' events.
"""

from __future__ import annotations

import sys
import textwrap
from typing import Any

import pytest

from kfjupyter.cluster.config import ClusterState
from kfjupyter.errors import Conflict, InvalidInput
from kfjupyter.k8s.client import Kube, is_status
from kfjupyter.store import RunStore
from kfjupyter.training import train
from kfjupyter.training.backends.kubernetes import KubernetesBackend, detect_api
from kfjupyter.training.handle import TrainingJob
from kfjupyter.training.job import BackendNotAvailable
from kfjupyter.training.k8s_builders import CODE_DIR, LAUNCHER, code_configmap_name
from tests.integration.cluster import crds
from tests.integration.cluster.kube_helpers import wait_for
from tests.integration.cluster.trainer_standin import TRAINJOB, objects, set_condition, trainjob_node_pod
from tests.support.stores import home, store

__all__ = ["home", "store"]
TRAIN_SOURCE = textwrap.dedent(
    """
    def train_fn(steps, pause):
        import os, time
        node = os.environ["PET_NODE_RANK"]
        print(f"hello from node {node} with {os.environ['GREETING']}", flush=True)
        for i in range(steps):
            print(f"loss={1.0 / (i + 1) + int(node):.3f}", flush=True)
        time.sleep(pause)
        print(f"node {node} done", flush=True)
    """
)


@pytest.fixture
def on_cluster(cluster: ClusterState, namespace: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point kubeconfig discovery at the test cluster and its fresh namespace."""
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    monkeypatch.setenv("KFJUPYTER_NAMESPACE", namespace)
    return namespace


def node_pod(job: dict[str, Any], node: int) -> dict[str, Any]:
    """The pod a Trainer controller would create for ``node``, running the launcher on the process kubelet."""
    trainer = job["spec"]["trainer"]
    assert trainer["command"][0] == "torchrun"  # torchrun is replaced by plain Python on the process kubelet
    container = {
        "image": trainer["image"],
        "command": [sys.executable, trainer["command"][-1]],
        "env": [*trainer["env"], {"name": "PET_NODE_RANK", "value": str(node)}],
    }
    return trainjob_node_pod(job, node, container)


def test_trainjob_runs_reports_and_keeps_logs(kube: Kube, on_cluster: str, store: RunStore) -> None:
    namespace = on_cluster
    crds.use_crds(kube, crds.trainjob_crd(), pytorchjob=False)
    scope: dict[str, Any] = {}
    exec(TRAIN_SOURCE, scope)  # a function without an importable module travels by value
    handle = train(
        scope["train_fn"],
        args=(3, 4.0),
        num_nodes=2,
        image="python:3.11",
        env={"GREETING": "hi 'q' `echo no` $HOME"},
        backend="kubernetes",
        name="fit-demo",
        store=store,
    )
    assert handle.job.backend == "kubernetes" and handle.status == "Created"
    job = objects(kube).get_namespaced_custom_object(*TRAINJOB[:2], namespace, TRAINJOB[2], "fit-demo")
    trainer = job["spec"]["trainer"]
    assert trainer["command"] == ["torchrun", "--nnodes=2", "--nproc-per-node=1", f"{CODE_DIR}/{LAUNCHER}"]
    assert trainer["numNodes"] == 2 and trainer["image"] == "python:3.11"
    code = kube.core.read_namespaced_config_map(code_configmap_name("fit-demo"), namespace)
    assert code.metadata.owner_references[0].uid == job["metadata"]["uid"]
    assert set(code.data) == {"launch.py", "payload.b64"}

    for node in (0, 1):
        kube.core.create_namespaced_pod(namespace, node_pod(job, node))
    wait_for(lambda: handle.status == "Running", 60, "the job to be Running")
    # while the nodes log, the run and its ranks are running, with the times their durations come from
    wait_for(lambda: all(s.started_at for s in store.get_steps(handle.id)), 60, "both ranks to start")
    run = store.get_run(handle.id)
    assert run.status == "running" and run.started_at is not None
    assert {s.status for s in store.get_steps(handle.id)} <= {"running", "succeeded"}
    wait_for(lambda: len(handle.metrics().get("loss", [])) == 6, 60, "loss lines of both nodes")

    def pods_done() -> bool:
        pods = kube.core.list_namespaced_pod(
            namespace, label_selector="jobset.sigs.k8s.io/jobset-name=fit-demo"
        )
        return all(p.status.phase == "Succeeded" for p in pods.items) and len(pods.items) == 2

    wait_for(pods_done, 60, "both node pods to succeed")
    assert handle.status == "Running"  # pods are done, but only the controller's condition ends the job
    set_condition(kube, namespace, "fit-demo", "Complete", TRAINJOB)
    final = handle.wait(timeout=30)
    assert final.status == "Complete" and [s.status for s in final.steps] == ["Complete", "Complete"]
    assert all(s.started_at and s.finished_at and s.finished_at >= s.started_at for s in final.steps)

    for node in (0, 1):
        kube.core.delete_namespaced_pod(f"fit-demo-node-0-{node}", namespace, grace_period_seconds=0)

    def pods_gone() -> bool:
        return not kube.core.list_namespaced_pod(
            namespace, label_selector="jobset.sigs.k8s.io/jobset-name=fit-demo"
        ).items

    wait_for(pods_gone, 60, "node pods to be deleted")
    again = KubernetesBackend(store, kube, namespace)
    reopened = TrainingJob(again, again.find_job("fit-demo"))
    lines = list(reopened.logs())
    assert any(
        line.startswith("[rank-0]") and "hello from node 0 with hi 'q' `echo no` $HOME" in line
        for line in lines
    )
    assert any(line.startswith("[rank-1]") and "node 1 done" in line for line in lines)
    assert [p.value for p in reopened.metrics(rank=1)["loss"]] == [2.0, 1.5, 1.333]
    assert [p.index for p in reopened.metrics(rank=0)["loss"]] == [0, 1, 2]
    events = again.events(reopened.id)
    assert any(e["kind"] == "Pod" and e["name"] == "fit-demo-node-0-0" for e in events), events


def test_cancel_deletes_the_trainjob(kube: Kube, on_cluster: str, store: RunStore) -> None:
    namespace = on_cluster
    crds.use_crds(kube, crds.trainjob_crd(), pytorchjob=False)
    scope: dict[str, Any] = {}
    exec(TRAIN_SOURCE, scope)
    handle = train(scope["train_fn"], args=(1, 60.0), image="python:3.11", env={"GREETING": "x"},
                   backend="kubernetes", name="to-cancel", store=store)  # fmt: skip
    with pytest.raises(Conflict, match="already exists"):
        train(print, image="python:3.11", backend="kubernetes", name="to-cancel", store=store)
    assert len(store.list_runs(kind="training")) == 1
    job = objects(kube).get_namespaced_custom_object(*TRAINJOB[:2], namespace, TRAINJOB[2], "to-cancel")
    kube.core.create_namespaced_pod(namespace, node_pod(job, 0))
    wait_for(lambda: handle.metrics().get("loss"), 60, "the first loss line")
    final = handle.cancel()
    assert final.status == "Failed" and final.reason == "Cancelled"

    def cr_gone() -> bool:
        try:
            objects(kube).get_namespaced_custom_object(*TRAINJOB[:2], namespace, TRAINJOB[2], "to-cancel")
        except Exception as error:
            return is_status(error, 404)
        return False

    wait_for(cr_gone, 30, "the TrainJob to be deleted")
    assert any("hello from node 0" in line for line in handle.logs())


def test_trainer_version_detection_and_missing_crds(kube: Kube, on_cluster: str) -> None:
    crds.use_crds(kube, crds.trainjob_crd("podTemplateOverrides"), pytorchjob=True)
    found = detect_api(kube)
    assert (found.kind, found.version) == ("TrainJob", "v2.1") and "podTemplateOverrides" in found.found_by
    crds.use_crds(kube, None, pytorchjob=True)
    assert detect_api(kube).kind == "PyTorchJob"
    crds.use_crds(kube, None, pytorchjob=False)
    with pytest.raises(BackendNotAvailable) as caught:
        detect_api(kube)
    assert crds.TRAINJOB_CRD in str(caught.value) and crds.PYTORCHJOB_CRD in str(caught.value)


def test_auto_picks_the_cluster_only_when_it_serves_training(
    kube: Kube, on_cluster: str, store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kfjupyter.training import facade
    from kfjupyter.training.backends.local import LocalBackend

    monkeypatch.setattr(facade, "_clusters", {})
    crds.use_crds(kube, None, pytorchjob=False)
    assert isinstance(facade.select_backend("auto", store), LocalBackend)
    with pytest.raises(BackendNotAvailable, match="TrainJob"):
        facade.select_backend("kubernetes", store)
    crds.use_crds(kube, crds.trainjob_crd(), pytorchjob=False)
    monkeypatch.setattr(facade, "_clusters", {})
    chosen = facade.select_backend("auto", store)
    assert isinstance(chosen, KubernetesBackend) and chosen.namespace == on_cluster
    assert facade.select_backend("auto", store) is chosen  # asked once per process
    with pytest.raises(InvalidInput, match="needs an image"):
        train(print, store=store)
    assert store.list_runs(kind="training") == []
