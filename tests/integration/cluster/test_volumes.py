"""PVCs of the default class bind to host-path volumes whose files outlive the pods using them."""

from __future__ import annotations

from kfjupyter.k8s.client import Kube
from tests.integration.cluster.kube_helpers import phase, pod, wait_for


def _with_claim(name: str, script: str) -> dict[str, object]:
    mount = {
        "volumeMounts": [
            {"name": "data", "mountPath": "/tmp/kfj-data"},
            {"name": "scratch", "mountPath": "/tmp/kfj-scratch"},
        ]
    }
    volumes = [
        {"name": "data", "persistentVolumeClaim": {"claimName": "work"}},
        {"name": "scratch", "emptyDir": {}},
    ]
    return pod(name, ["sh", "-c", script], container=mount, volumes=volumes)


def test_pvc_backed_file_survives_pod_recreation(kube: Kube, namespace: str) -> None:
    claim = {"metadata": {"name": "work"}, "spec": {"accessModes": ["ReadWriteOnce"],
             "resources": {"requests": {"storage": "1Gi"}}}}  # fmt: skip
    kube.core.create_namespaced_persistent_volume_claim(namespace, claim)
    wait_for(lambda: kube.core.read_namespaced_persistent_volume_claim("work", namespace).status.phase == "Bound",
             30, "claim Bound")  # fmt: skip
    kube.core.create_namespaced_pod(
        namespace, _with_claim("writer", "echo kept > /tmp/kfj-data/f && echo tmp > /tmp/kfj-scratch/x")
    )
    wait_for(lambda: phase(kube, namespace, "writer") == "Succeeded", 30, "writer done")
    kube.core.delete_namespaced_pod("writer", namespace)
    wait_for(lambda: not kube.core.list_namespaced_pod(namespace).items, 30, "writer removed")
    kube.core.create_namespaced_pod(
        namespace, _with_claim("reader", "cat /tmp/kfj-data/f; ls /tmp/kfj-scratch | wc -l")
    )
    wait_for(lambda: phase(kube, namespace, "reader") == "Succeeded", 30, "reader done")
    assert kube.core.read_namespaced_pod_log("reader", namespace).split() == ["kept", "0"]
