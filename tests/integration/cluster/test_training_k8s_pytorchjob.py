"""The Kubernetes training backend on a cluster with only the Training Operator (PyTorchJob).

Without the TrainJob CRD the backend falls back to a ``kubeflow.org/v1`` PyTorchJob. The test
plays the operator: Master and Worker pods with ``training.kubeflow.org`` labels, owned by the job,
running the shipped script from the code ConfigMap on the process kubelet, and the job's
``Running`` / ``Succeeded`` conditions. A failing worker makes the job Failed with its reason.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from kfjupyter.k8s.client import Kube
from kfjupyter.store import RunStore
from kfjupyter.training.backends.kubernetes import KubernetesBackend
from kfjupyter.training.handle import TrainingJob
from kfjupyter.training.spec import ScriptEntrypoint, TrainingSpec
from tests.integration.cluster import crds
from tests.integration.cluster.kube_helpers import wait_for
from tests.integration.cluster.trainer_standin import CONDITION_TIME, objects, set_condition
from tests.support.stores import home, store

__all__ = ["home", "store"]
PYTORCHJOB = ("kubeflow.org", "v1", "pytorchjobs")
SCRIPT = """\
import os, sys, time
node = os.environ["NODE"]
print(f"node {node} args {sys.argv[1:]}", flush=True)
for step in range(3):
    print(f"step={step} loss={0.5 / (step + 1)}", flush=True)
time.sleep(2)
sys.exit(int(os.environ.get("EXIT", "0")))
"""


def _condition(kube: Kube, namespace: str, name: str, kind: str, message: str = "") -> None:
    set_condition(kube, namespace, name, kind, PYTORCHJOB, reason=f"PyTorchJob{kind}", message=message or kind,
                  lastUpdateTime=CONDITION_TIME)  # fmt: skip


def _replica_pod(job: dict[str, Any], kind: str, index: int, exit_code: int = 0) -> dict[str, Any]:
    """The pod the Training Operator would create for one replica."""
    name = job["metadata"]["name"]
    template = job["spec"]["pytorchReplicaSpecs"][kind]["template"]
    container = dict(template["spec"]["containers"][0])
    assert container["command"][0] == "torchrun"  # plain Python stands in for torchrun here
    container["command"] = [sys.executable, *container["command"][3:]]
    node = "0" if kind == "Master" else str(index + 1)
    container["env"] = [
        *container["env"],
        {"name": "NODE", "value": node},
        {"name": "EXIT", "value": str(exit_code)},
    ]
    labels = {
        "training.kubeflow.org/job-name": name,
        "training.kubeflow.org/replica-type": kind.lower(),
        "training.kubeflow.org/replica-index": str(index),
        **template["metadata"]["labels"],
    }
    owner = {
        "apiVersion": job["apiVersion"],
        "kind": "PyTorchJob",
        "name": name,
        "uid": job["metadata"]["uid"],
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"{name}-{kind.lower()}-{index}", "labels": labels, "ownerReferences": [owner]},
        "spec": {**template["spec"], "containers": [container], "restartPolicy": "Never",
                 "terminationGracePeriodSeconds": 2},
    }  # fmt: skip


def _submit(
    kube: Kube, namespace: str, store: RunStore, tmp_path: Path, name: str
) -> tuple[TrainingJob, Any]:
    script = tmp_path / "fit.py"
    script.write_text(SCRIPT, encoding="utf-8")
    backend = KubernetesBackend(store, kube, namespace)
    assert backend.api.kind == "PyTorchJob"
    spec = TrainingSpec(
        name=name,
        entrypoint=ScriptEntrypoint(path=str(script), args=["--lr", "0.1 x"]),
        num_nodes=2,
        image="python:3.11",
        backend="kubernetes",
    )
    handle = TrainingJob(backend, backend.submit(spec, None))
    job = objects(kube).get_namespaced_custom_object(*PYTORCHJOB[:2], namespace, PYTORCHJOB[2], name)
    return handle, job


def test_pytorchjob_fallback_runs_to_complete(
    kube: Kube, namespace: str, store: RunStore, tmp_path: Path
) -> None:
    crds.use_crds(kube, None, pytorchjob=True)
    handle, job = _submit(kube, namespace, store, tmp_path, "fit-legacy")
    replicas = job["spec"]["pytorchReplicaSpecs"]
    assert (replicas["Master"]["replicas"], replicas["Worker"]["replicas"]) == (1, 1)
    master_cmd = replicas["Master"]["template"]["spec"]["containers"][0]["command"]
    assert master_cmd == [
        "torchrun",
        "--nnodes=2",
        "--nproc-per-node=1",
        "/opt/kfjupyter/code/fit.py",
        "--lr",
        "0.1 x",
    ]
    kube.core.create_namespaced_pod(namespace, _replica_pod(job, "Master", 0))
    kube.core.create_namespaced_pod(namespace, _replica_pod(job, "Worker", 0))
    _condition(kube, namespace, "fit-legacy", "Running")
    wait_for(lambda: handle.status == "Running", 60, "the job to be Running")
    wait_for(lambda: len(handle.metrics(rank=1).get("loss", [])) == 3, 60, "the worker's loss lines")
    _condition(kube, namespace, "fit-legacy", "Succeeded")
    final = handle.wait(timeout=30)
    assert final.status == "Complete"
    lines = list(handle.logs())
    assert any(line.startswith("[rank-0]") and "node 0 args ['--lr', '0.1 x']" in line for line in lines)
    assert any(line.startswith("[rank-1]") and "step=2 loss=" in line for line in lines)
    assert [p.index for p in handle.metrics(rank=0)["step"]] == [0, 1, 2]


def test_pytorchjob_failure_is_reported(kube: Kube, namespace: str, store: RunStore, tmp_path: Path) -> None:
    crds.use_crds(kube, None, pytorchjob=True)
    handle, job = _submit(kube, namespace, store, tmp_path, "fit-broken")
    kube.core.create_namespaced_pod(namespace, _replica_pod(job, "Master", 0))
    kube.core.create_namespaced_pod(namespace, _replica_pod(job, "Worker", 0, exit_code=3))

    def worker_failed() -> bool:
        return kube.core.read_namespaced_pod("fit-broken-worker-0", namespace).status.phase == "Failed"

    wait_for(worker_failed, 60, "the worker pod to fail")
    _condition(
        kube,
        namespace,
        "fit-broken",
        "Failed",
        "PyTorchJob fit-broken has failed because 1 Worker replica(s) failed.",
    )
    final = handle.wait(timeout=30, raise_on_failure=False)
    assert final.status == "Failed" and final.reason == "PyTorchJobFailed"
    assert "1 Worker replica(s) failed" in (final.error or "") and "exit code 3" in (final.error or "")
    assert final.steps[1].status == "Failed" and final.steps[1].exit_code == 3
