"""Pure builders for simulated nodes: the typed node spec, its parser, Node objects and status.

A node is plain data (:class:`NodeSpec`); :func:`node_manifest` and :func:`node_status` turn it
into the dicts the API server takes. Node lists come from :func:`default_nodes`, an inline spec
(``"cpu-0:cpu=8,memory=32Gi;gpu-0:gpu=4,gpu-type=A100"``) or a JSON/YAML file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kfjupyter.errors import InvalidInput

GPU_RESOURCE = "nvidia.com/gpu"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"
GPU_TYPE_LABEL = "kfjupyter.dev/gpu-type"  # lower-case type, what the example spawner profiles select on


class NodeSpec(BaseModel):
    """One simulated node: its name, capacity and labels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Node name (a DNS label).", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    cpu: str = Field(default="8", description="CPU capacity, a Kubernetes quantity.")
    memory: str = Field(default="32Gi", description="Memory capacity, a Kubernetes quantity.")
    pods: int = Field(default=110, ge=1, description="How many pods the node accepts.")
    gpus: int = Field(default=0, ge=0, description="How many nvidia.com/gpu the node offers.")
    gpu_type: str | None = Field(default=None, description="GPU product label, e.g. A100 or H100.")
    labels: dict[str, str] = Field(default_factory=dict, description="Extra node labels.")


#: The taint on every GPU node: only pods that request GPUs (or tolerate it) are scheduled there.
#: Its key is the GPU resource, so the API server's ExtendedResourceToleration admission adds the
#: toleration to every pod that requests GPUs, as on managed clusters.
GPU_TAINT = {"key": GPU_RESOURCE, "value": "present", "effect": "NoSchedule"}


def default_nodes() -> list[NodeSpec]:
    """One CPU node and two GPU nodes of different types (GPU nodes keep CPU-only pods off)."""
    return [
        NodeSpec(name="cpu-0", cpu="32", memory="128Gi"),
        NodeSpec(name="gpu-a100-0", cpu="32", memory="256Gi", gpus=4, gpu_type="A100"),
        NodeSpec(name="gpu-h100-0", cpu="32", memory="256Gi", gpus=2, gpu_type="H100"),
    ]


_KEYS = {
    "cpu": "cpu",
    "memory": "memory",
    "pods": "pods",
    "gpu": "gpus",
    "gpus": "gpus",
    "gpu-type": "gpu_type",
}


def parse_inline(text: str) -> list[NodeSpec]:
    """Parse ``NAME:key=value,...;NAME:...`` (keys: cpu, memory, pods, gpu, gpu-type, label.K)."""
    nodes: list[dict[str, Any]] = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, _, rest = item.partition(":")
        node: dict[str, Any] = {"name": name.strip(), "labels": {}}
        for pair in filter(None, (p.strip() for p in rest.split(","))):
            key, sep, value = pair.partition("=")
            if not sep:
                raise InvalidInput(f"node spec {item!r}: expected key=value, got {pair!r}")
            if key.startswith("label."):
                node["labels"][key[len("label.") :]] = value
            elif key in _KEYS:
                node[_KEYS[key]] = value
            else:
                raise InvalidInput(
                    f"node spec {item!r}: unknown key {key!r} (known: {', '.join(_KEYS)}, label.K)"
                )
        nodes.append(node)
    return _validate(nodes, text)


def load_nodes(spec: str | None) -> list[NodeSpec]:
    """Nodes from ``spec``: None gives the defaults, an existing path a JSON/YAML file, else inline."""
    if not spec:
        return default_nodes()
    path = Path(spec)
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
        if isinstance(data, dict):
            data = data.get("nodes")
        if not isinstance(data, list):
            raise InvalidInput(f"{spec}: expected a list of nodes (or {{'nodes': [...]}})")
        return _validate(data, spec)
    return parse_inline(spec)


def _validate(items: list[Any], origin: str) -> list[NodeSpec]:
    try:
        nodes = [NodeSpec.model_validate(item) for item in items]
    except ValidationError as error:
        raise InvalidInput(
            f"bad node spec {origin!r}: {error.errors()[0]['msg']}", detail=str(error)
        ) from error
    if not nodes:
        raise InvalidInput(f"node spec {origin!r} names no nodes")
    names = [node.name for node in nodes]
    if len(set(names)) != len(names):
        raise InvalidInput(f"node spec {origin!r} repeats a node name")
    return nodes


def node_labels(spec: NodeSpec) -> dict[str, str]:
    """Well-known labels plus the GPU product and the spec's own labels."""
    labels = {
        "kubernetes.io/hostname": spec.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kfjupyter.io/simulated": "true",
    }
    if spec.gpus:
        labels[GPU_PRODUCT_LABEL] = spec.gpu_type or "generic"
        labels[GPU_TYPE_LABEL] = (spec.gpu_type or "generic").lower()
        labels["nvidia.com/gpu.count"] = str(spec.gpus)
    labels.update(spec.labels)
    return labels


def node_manifest(spec: NodeSpec) -> dict[str, Any]:
    """The Node object to create (status is set separately through the status subresource)."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec.name, "labels": node_labels(spec)},
        "spec": {"taints": [dict(GPU_TAINT)]} if spec.gpus else {},
    }


def capacity(spec: NodeSpec) -> dict[str, str]:
    """Capacity (= allocatable) of the node."""
    resources = {"cpu": spec.cpu, "memory": spec.memory, "pods": str(spec.pods), "ephemeral-storage": "100Gi"}
    if spec.gpus:
        resources[GPU_RESOURCE] = str(spec.gpus)
    return resources


def node_status(spec: NodeSpec, *, address: str, kubelet_port: int, now: str) -> dict[str, Any]:
    """A Ready status whose kubelet endpoint is the process kubelet's HTTPS server."""
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "message": "kfjupyter process kubelet is posting ready status",
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }
    return {
        "capacity": capacity(spec),
        "allocatable": capacity(spec),
        "conditions": [ready],
        "addresses": [{"type": "InternalIP", "address": address}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet_port}},
        "nodeInfo": {
            "architecture": "amd64",
            "operatingSystem": "linux",
            "kubeletVersion": "v1.20.2-kfjupyter",
            "kubeProxyVersion": "v1.20.2-kfjupyter",
            "containerRuntimeVersion": "process://kfjupyter",
            "osImage": "host",
            "kernelVersion": "",
            "machineID": spec.name,
            "systemUUID": spec.name,
            "bootID": spec.name,
        },
    }
