"""The test's side of a training operator: the custom objects, the node pods and the conditions a
Trainer controller (JobSet) or the Training Operator would write, for the Kubernetes training tests."""

from __future__ import annotations

from typing import Any

from kfjupyter.k8s.client import Kube

TRAINJOB = ("trainer.kubeflow.org", "v1alpha1", "trainjobs")
#: When the conditions written here changed (a fixed time: the backend reads the type, not the time).
CONDITION_TIME = "2026-01-01T00:00:00Z"


def objects(kube: Kube) -> Any:
    """The custom objects API."""
    from kubernetes import client

    return client.CustomObjectsApi(kube.api_client)


def set_condition(
    kube: Kube, namespace: str, name: str, kind: str, plural: tuple[str, str, str] = TRAINJOB, **fields: str
) -> None:
    """Write a True condition of ``kind`` into the CR's status, as its controller would.

    ``fields`` add to or replace the condition's fields (reason ``kind``, message ``job KIND``).
    """
    condition = {"type": kind, "status": "True", "reason": kind, "message": f"job {kind}",
                 "lastTransitionTime": CONDITION_TIME, **fields}  # fmt: skip
    body = {"status": {"conditions": [condition]}}
    objects(kube).patch_namespaced_custom_object_status(*plural[:2], namespace, plural[2], name, body)


def trainjob_node_pod(
    job: dict[str, Any], node: int, container: dict[str, Any], **spec: Any
) -> dict[str, Any]:
    """The pod a Trainer controller creates for ``node`` of the TrainJob ``job``.

    Its JobSet labels, owner and the runtime patch's code volume, mounted into ``container`` (the
    image, command and env the test runs); ``spec`` adds to the pod's spec.
    """
    name = job["metadata"]["name"]
    patch = job["spec"]["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"][0]
    pod_patch = patch["template"]["spec"]["template"]["spec"]
    index = str(node)
    labels = {
        "jobset.sigs.k8s.io/jobset-name": name,
        "jobset.sigs.k8s.io/replicatedjob-name": "node",
        "trainer.kubeflow.org/trainjob-name": name,
        "trainer.kubeflow.org/trainjob-ancestor-step": "trainer",
        "batch.kubernetes.io/job-completion-index": index,
    }
    owner = {"apiVersion": job["apiVersion"], "kind": "TrainJob", "name": name, "uid": job["metadata"]["uid"]}
    mounts = {"volumeMounts": pod_patch["containers"][0]["volumeMounts"]}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{name}-node-0-{index}",
            "labels": labels,
            "annotations": {"batch.kubernetes.io/job-completion-index": index},
            "ownerReferences": [owner],
        },
        "spec": {
            "containers": [{"name": "node", **container, **mounts}],
            "volumes": pod_patch["volumes"],
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 2,
            **spec,
        },
    }
