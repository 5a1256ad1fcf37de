"""Typed settings of a local cluster and the state file that records what ``up`` started."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kfjupyter.cluster.docker_api import default_host
from kfjupyter.cluster.node_network import NodeNetwork
from kfjupyter.k8s.nodes import NodeSpec, default_nodes

STATE_FILE = "cluster.json"


def default_state_dir() -> Path:
    """``$KFJUPYTER_CLUSTER_DIR`` or ``~/.local/state/kfjupyter/cluster``."""
    explicit = os.environ.get("KFJUPYTER_CLUSTER_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "kfjupyter" / "cluster"


class KubeletSettings(BaseModel):
    """How the process kubelet behaves."""

    model_config = ConfigDict(extra="forbid")

    unpullable_image: str = Field(
        default=r":does-not-exist$|^unpullable/",
        description="Regular expression; images matching it fail with ErrImagePull / ImagePullBackOff.",
    )
    backoff_base_s: float = Field(
        default=10.0, gt=0, description="First restart / pull back-off, doubled each time."
    )
    backoff_max_s: float = Field(default=300.0, gt=0, description="Longest back-off.")


def default_real_node() -> list[NodeSpec]:
    """The real container node: capacity from the machine, plus two advertised A100 GPUs."""
    return [NodeSpec(name="node-0", gpus=2, gpu_type="A100")]


class ClusterConfig(BaseModel):
    """What ``kfjupyter cluster up`` starts."""

    model_config = ConfigDict(extra="forbid")

    state_dir: Path = Field(
        default_factory=default_state_dir, description="Where state, logs and volumes live."
    )
    runtime: Literal["process", "docker"] = Field(
        default="process",
        description="process: simulated nodes whose pods are host processes; docker: one real node "
        "(Kubernetes' kubelet over the docker daemon) whose pods are containers.",
    )
    nodes: list[NodeSpec] = Field(
        default_factory=default_nodes,
        description="The simulated nodes; with the docker runtime, the first one names the real node "
        "and its GPUs and labels (CPU and memory are the machine's).",
    )
    docker_host: str = Field(default_factory=default_host, description="The docker daemon of the real node.")
    node_lock_wait_s: float = Field(
        default=0.0, ge=0, description="How long to wait for another cluster's real node to free the daemon."
    )
    kubelet: KubeletSettings = Field(default_factory=KubeletSettings, description="Process kubelet settings.")
    ready_timeout_s: float = Field(default=60.0, gt=0, description="How long `up` waits for a ready cluster.")


class RealNode(BaseModel):
    """The real container node of a cluster: name, docker daemon, network and API token."""

    model_config = ConfigDict(extra="forbid")

    name: str
    docker_host: str
    network: NodeNetwork
    token: str


class ClusterState(BaseModel):
    """Written by ``up`` and read by ``status``/``down``: ports, pids and paths."""

    model_config = ConfigDict(extra="forbid")

    state_dir: Path
    api_port: int
    etcd_port: int
    kubelet_port: int
    token: str
    pids: dict[str, int] = Field(default_factory=dict, description="Component name to process id.")
    nodes: list[str] = Field(default_factory=list)
    runtime: Literal["process", "docker"] = "process"
    node: RealNode | None = Field(default=None, description="The real node (docker runtime).")

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig."""
        return self.state_dir / "kubeconfig"

    @property
    def server(self) -> str:
        """The API server URL."""
        return f"https://127.0.0.1:{self.api_port}"

    def save(self) -> None:
        """Write the state file atomically."""
        path = self.state_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, state_dir: Path) -> ClusterState | None:
        """The recorded state, or None when no cluster was started there."""
        path = state_dir / STATE_FILE
        if not path.is_file():
            return None
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
