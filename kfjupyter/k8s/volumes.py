"""Pure builders for host-path storage: the default StorageClass and a PV bound to one claim."""

from __future__ import annotations

from typing import Any

STORAGE_CLASS = "standard"
PROVISIONER = "kfjupyter.io/host-path"


def storage_class_manifest(name: str = STORAGE_CLASS) -> dict[str, Any]:
    """The default StorageClass served by the host-path provisioner."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": name,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


def host_path_pv(claim: dict[str, Any], path: str) -> dict[str, Any]:
    """A PersistentVolume at ``path`` pre-bound to ``claim`` (a PVC as a dict)."""
    meta = claim["metadata"]
    spec = claim.get("spec") or {}
    request = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": f"pvc-{meta['uid']}",
            "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
            "labels": {"kfjupyter.io/provisioned": "true"},
        },
        "spec": {
            "capacity": {"storage": request},
            "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": spec.get("storageClassName") or STORAGE_CLASS,
            "volumeMode": spec.get("volumeMode") or "Filesystem",
            "hostPath": {"path": path, "type": "DirectoryOrCreate"},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
            },
        },
    }
