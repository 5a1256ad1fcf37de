"""The real container node: Kubernetes' own kubelet (built-in dockershim) over a docker daemon.

``kfjupyter cluster up --runtime docker`` runs one node whose pods are real containers: the
kubelet built from Debian's 1.20 source (:mod:`kfjupyter.cluster.build`), the docker daemon at
``docker_host`` (the project's own daemon, :mod:`kfjupyter.cluster.dockerd`, whose runc wrapper
lets sandboxes start in a VM without ``CAP_SYS_RESOURCE``), pod networking from :mod:`kfjupyter.cluster.node_network`
and a local pause image (:mod:`kfjupyter.cluster.node_images`). GPU capacity is advertised the
documented way, as an extended resource on the node status; the node's GPU labels come from
``--node-labels``.

A kubelet removes every pod container of its runtime that it does not know, so one docker daemon
serves one real node at a time: the kubelet holds a lock next to the daemon's socket for as long
as it runs. ``teardown`` removes what the kubelet leaves when it is stopped: the containers of its
pods, its mounts, the bridge and the pods' log folders.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kfjupyter.cluster import build, node_images, node_network
from kfjupyter.cluster.config import ClusterConfig, ClusterState, RealNode
from kfjupyter.cluster.docker_api import Docker, DockerError
from kfjupyter.errors import Unavailable
from kfjupyter.k8s.client import Kube, is_status
from kfjupyter.k8s.nodes import GPU_RESOURCE, NodeSpec, node_labels

Progress = Callable[[str], None]
DOCKER_START = "python -m kfjupyter.cluster.dockerd start"
POD_LOG_ROOT = Path("/var/log/pods")
CONTAINER_LOG_ROOT = Path("/var/log/containers")
_CAP_SYS_RESOURCE = 24


class NodeNotReady(Unavailable):
    """Something the real node needs is missing; the message says what and how to fix it."""

    reason = "node_prerequisite_missing"
    temporary = False


def _has_cap_sys_resource() -> bool:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> _CAP_SYS_RESOURCE & 1)
    return False


def preflight(config: ClusterConfig) -> list[str]:
    """Everything missing for a real node, each with the command that fixes it (empty: ready)."""
    problems = []
    if os.geteuid() != 0:
        problems.append(
            "the real node runs the kubelet, which needs root: run `kfjupyter cluster up` as root"
        )
    if not build.is_built(kubelet=True):
        problems.append(
            "the kubelet is not built: `python -m kfjupyter.cluster.build --kubelet` (a few minutes)"
        )
    if shutil.which("ip") is None:
        problems.append("the `ip` command is missing: `apt-get install iproute2`")
    missing = node_network.missing_plugins()
    if missing:
        problems.append(
            f"CNI plugins missing ({', '.join(missing)}): `apt-get install containernetworking-plugins`"
        )
    docker = Docker(config.docker_host)
    if not docker.ping():
        problems.append(
            f"the docker daemon is not running at {config.docker_host}: start it with `{DOCKER_START}`"
        )
        return problems
    runtime = str(docker.info().get("DefaultRuntime", "runc"))
    if runtime == "runc" and not _has_cap_sys_resource():
        problems.append(
            f"the docker daemon at {config.docker_host} runs plain runc, which cannot set the kubelet's "
            f"negative OOM scores on this machine (no CAP_SYS_RESOURCE): restart it with `{DOCKER_START}`"
        )
    if not docker.has_image(node_images.PAUSE_IMAGE):
        problem = node_images.busybox_problem()
        if problem:
            problems.append(f"the pause image cannot be made: {problem}")
    return problems


def lock_path(docker_host: str) -> Path:
    """The lock a real node holds on its docker daemon."""
    digest = hashlib.sha256(docker_host.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"kfjupyter-node-{digest}.lock"


def acquire(docker_host: str, owner: Path, wait_s: float) -> int:
    """Lock the docker daemon for this cluster's node, waiting up to ``wait_s``; returns the lock's fd."""
    path = lock_path(docker_host)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                other = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "another cluster"
                os.close(fd)
                raise NodeNotReady(
                    f"the docker daemon at {docker_host} already runs the real node of the cluster in "
                    f"{other}; stop it first: `kfjupyter cluster --state-dir {other} down`"
                ) from None
            time.sleep(0.5)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(owner).encode(), 0)
    return fd


def node_spec(config: ClusterConfig) -> NodeSpec:
    """The real node's spec (name, GPUs, labels): the first node of the configuration."""
    return config.nodes[0]


def prepare(state: ClusterState, config: ClusterConfig) -> RealNode:
    """Before the API server starts: the bridge, the node's token, kubeconfig and configuration files."""
    spec = node_spec(config)
    network = node_network.create(state.state_dir)
    node = RealNode(name=spec.name, docker_host=config.docker_host, network=network,
                    token=secrets.token_hex(16))  # fmt: skip
    state.node = node
    state.save()
    d = state.state_dir / "node"
    for sub in ("root", "certs", "cni/net.d", "cni/cache", "cni/ipam", "plugins", "dockershim"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    with (state.state_dir / "certs" / "tokens.csv").open("a", encoding="utf-8") as tokens:
        tokens.write(f'{node.token},system:node:{spec.name},node-{spec.name},"system:nodes"\n')
    certs = state.state_dir / "certs"
    files = {
        "kubeconfig": _kubeconfig(state, node),
        "kubelet.json": kubelet_configuration(network.node_ip, state.kubelet_port, certs),
        "cni/net.d/10-kfjupyter.conf": node_network.cni_config(network, d / "cni" / "ipam"),
    }
    for name, body in files.items():
        (d / name).write_text(json.dumps(body, indent=2), encoding="utf-8")
    (d / "kubeconfig").chmod(0o600)
    return node


def _kubeconfig(state: ClusterState, node: RealNode) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "kfjupyter", "cluster": {
            "server": state.server, "certificate-authority": str(state.state_dir / "certs" / "ca.crt")}}],
        "users": [{"name": node.name, "user": {"token": node.token}}],
        "contexts": [{"name": "node", "context": {"cluster": "kfjupyter", "user": node.name}}],
        "current-context": "node",
    }  # fmt: skip


def kubelet_configuration(address: str, port: int, certs: Path) -> dict[str, Any]:
    """The KubeletConfiguration: serves on the node address only, answers only our CA's clients."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": address, "port": port, "readOnlyPort": 0, "healthzPort": 0,
        "tlsCertFile": str(certs / "server.crt"), "tlsPrivateKeyFile": str(certs / "server.key"),
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": False},
                           "x509": {"clientCAFile": str(certs / "ca.crt")}},
        "authorization": {"mode": "AlwaysAllow"},
        "cgroupDriver": "cgroupfs", "cgroupsPerQOS": False, "enforceNodeAllocatable": [],
        "failSwapOn": False, "resolvConf": "", "hairpinMode": "none", "makeIPTablesUtilChains": False,
        "oomScoreAdj": 0, "serializeImagePulls": False, "nodeStatusUpdateFrequency": "10s",
        # Resync each pod every 5 s, not every minute: a deleted pod whose container never started
        # is otherwise only finished (and removed) at the next resync. A few pods make this cheap.
        "syncFrequency": "5s",
        "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "1Mi", "nodefs.available": "1%", "nodefs.inodesFree": "1%",
                         "imagefs.available": "1%"},
    }  # fmt: skip


def kubelet_command(state: ClusterState, node: RealNode, spec: NodeSpec, bins: Path) -> list[str]:
    """The kubelet's command line."""
    d = state.state_dir / "node"
    labels = {k: v for k, v in node_labels(spec).items() if not k.startswith("kubernetes.io/")}
    labels.pop("kfjupyter.io/simulated", None)
    labels["kfjupyter.io/runtime"] = "docker"
    return [
        str(bins / build.KUBELET), f"--kubeconfig={d / 'kubeconfig'}", f"--config={d / 'kubelet.json'}",
        "--container-runtime=docker", f"--docker-endpoint={node.docker_host}",
        f"--container-runtime-endpoint=unix://{d / 'dockershim.sock'}",
        "--network-plugin=cni", f"--cni-conf-dir={d / 'cni' / 'net.d'}",
        f"--cni-bin-dir={node_network.CNI_BIN_DIR}", f"--cni-cache-dir={d / 'cni' / 'cache'}",
        f"--pod-infra-container-image={node_images.PAUSE_IMAGE}", f"--hostname-override={node.name}",
        f"--node-ip={node.network.node_ip}", f"--root-dir={d / 'root'}", f"--cert-dir={d / 'certs'}",
        f"--volume-plugin-dir={d / 'plugins'}", f"--experimental-dockershim-root-directory={d / 'dockershim'}",
        "--node-labels=" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())), "-v=1",
    ]  # fmt: skip


def advertise(kube: Kube, spec: NodeSpec) -> bool:
    """Once the node is registered: GPU capacity on its status, and no not-ready taint once Ready."""
    try:
        node = kube.core.read_node(spec.name)
    except Exception as error:
        if is_status(error, 404):
            return False
        raise
    capacity = node.status.capacity or {}
    if spec.gpus and capacity.get(GPU_RESOURCE) != str(spec.gpus):
        gpus = {GPU_RESOURCE: str(spec.gpus)}
        kube.core.patch_node_status(spec.name, {"status": {"capacity": gpus, "allocatable": gpus}})
        return False
    conditions = {c.type: c.status for c in (node.status.conditions or [])}
    if conditions.get("Ready") != "True":
        return False
    taints = node.spec.taints or []
    kept = [t.to_dict() for t in taints if not t.key.startswith("node.kubernetes.io/")]
    if len(kept) != len(taints):
        kube.core.patch_node(spec.name, {"spec": {"taints": kept or None}})
        return False
    return True


def _mounts_under(root: Path) -> list[str]:
    found = []
    prefix = str(root.resolve()) + "/"
    for line in Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefix):
            found.append(point)
    return sorted(found, key=len, reverse=True)


def teardown(state_dir: Path, node: RealNode) -> list[str]:
    """After the kubelet stopped: remove its pods' containers, mounts, log folders and the bridge."""
    done: list[str] = []
    pods = state_dir / "node" / "root" / "pods"
    uids = [p.name for p in pods.iterdir()] if pods.is_dir() else []
    try:
        docker = Docker(node.docker_host)
        containers = docker.pod_containers(uids)
        for container in containers:
            docker.remove_container(container)
        if containers:
            done.append(f"{len(containers)} containers")
    except DockerError:
        if uids:
            done.append(f"(docker unreachable: containers of {len(uids)} pods not checked)")
    for point in _mounts_under(state_dir / "node"):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    for uid in uids:
        for folder in POD_LOG_ROOT.glob(f"*_{uid}"):
            shutil.rmtree(folder, ignore_errors=True)
    if CONTAINER_LOG_ROOT.is_dir():
        for link in CONTAINER_LOG_ROOT.iterdir():
            if link.is_symlink() and not link.exists():
                link.unlink(missing_ok=True)
    if node_network.delete(node.network):
        done.append(f"bridge {node.network.bridge}")
    return done


def ensure_images(config: ClusterConfig, say: Progress) -> None:
    """Import the pause image when missing; note a missing notebook image."""
    docker = Docker(config.docker_host)
    if node_images.ensure_pause_image(docker):
        say(f"imported {node_images.PAUSE_IMAGE} into the docker daemon")
    if not docker.has_image(node_images.NOTEBOOK_IMAGE):
        say(
            f"note: {node_images.NOTEBOOK_IMAGE} is not in the docker daemon yet; build it with `./dev images`"
        )
