"""Pod volumes as host directories: emptyDir, PVC (via its host-path PV), secret, configMap, hostPath."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from kfjupyter.cluster.kubelet.runtime import ContainerConfigError
from kfjupyter.k8s.client import Kube, is_status

Mounts = dict[str, list[tuple[str, str, bool]]]  # container -> (mountPath, host dir, read-only)


class VolumeHost(Protocol):
    """What volume preparation needs from the kubelet."""

    kube: Kube

    def lookup(self, kind: str, namespace: str, name: str) -> dict[str, str] | None:
        """Data of a secret or config map, None when missing."""


def _claim_path(kube: Kube, namespace: str, claim: str) -> str:
    try:
        pvc = kube.core.read_namespaced_persistent_volume_claim(claim, namespace)
    except Exception as error:
        if is_status(error, 404):
            raise ContainerConfigError(f'persistentvolumeclaim "{claim}" not found') from error
        raise
    if pvc.status.phase != "Bound" or not pvc.spec.volume_name:
        raise ContainerConfigError(f'persistentvolumeclaim "{claim}" is not bound')
    pv = kube.core.read_persistent_volume(pvc.spec.volume_name)
    if pv.spec.host_path is None:
        raise ContainerConfigError(f"volume {pv.metadata.name} is not a host-path volume")
    path = Path(pv.spec.host_path.path)
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def _write_files(target: Path, data: dict[str, str], items: list[dict[str, Any]] | None) -> None:
    target.mkdir(parents=True, exist_ok=True)
    chosen = {item["key"]: item["path"] for item in items} if items else {key: key for key in data}
    for key, rel in chosen.items():
        if key in data:
            file = target / rel
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(data[key], encoding="utf-8")


def _volume_dir(volume: dict[str, Any], pod: dict[str, Any], root: Path, host: VolumeHost) -> str | None:
    name, namespace = volume["name"], pod["metadata"]["namespace"]
    if "emptyDir" in volume:
        (root / name).mkdir(parents=True, exist_ok=True)
        return str(root / name)
    if "persistentVolumeClaim" in volume:
        return _claim_path(host.kube, namespace, volume["persistentVolumeClaim"]["claimName"])
    if "hostPath" in volume:
        return str(volume["hostPath"]["path"])
    for kind, key in (("secret", "secretName"), ("configMap", "name")):
        if kind in volume:
            ref = volume[kind]
            data = host.lookup(kind.lower(), namespace, ref[key])
            if data is None and not ref.get("optional"):
                raise ContainerConfigError(f'{kind} "{ref[key]}" not found')
            _write_files(root / name, data or {}, ref.get("items"))
            return str(root / name)
    return None  # projected, downwardAPI, ...: not provided by the process kubelet


def prepare_volumes(pod: dict[str, Any], root: Path, host: VolumeHost) -> Mounts:
    """Create the pod's volume directories; returns each container's bind mounts."""
    dirs = {v["name"]: _volume_dir(v, pod, root, host) for v in pod["spec"].get("volumes") or []}
    mounts: Mounts = {}
    spec = pod["spec"]
    for container in (spec.get("initContainers") or []) + spec["containers"]:
        chosen = []
        for mount in container.get("volumeMounts") or []:
            source = dirs.get(mount["name"])
            if source is None:
                continue
            if mount.get("subPath"):
                source = str(Path(source) / mount["subPath"])
                Path(source).mkdir(parents=True, exist_ok=True)
            chosen.append((mount["mountPath"], source, bool(mount.get("readOnly"))))
        mounts[container["name"]] = chosen
    return mounts
