"""``up`` / ``down`` / ``status`` of a local cluster: etcd, the real control plane, and its nodes.

``up`` starts etcd, kube-apiserver (RBAC, token auth), kube-controller-manager and kube-scheduler
on free loopback ports, writes an admin kubeconfig, then starts the nodes: by default the process
kubelet, which registers the simulated nodes and runs their pods as host processes; with the
docker runtime, the PVC provisioner and one real kubelet whose pods are containers
(:mod:`kfjupyter.cluster.realnode`). Every pid goes into the state file the moment it exists, so
``down`` can stop exactly what was started even after a failed ``up``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import ssl
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kfjupyter.cluster import build, processes, realnode
from kfjupyter.cluster.certs import make_certs
from kfjupyter.cluster.config import ClusterConfig, ClusterState
from kfjupyter.errors import Unavailable
from kfjupyter.k8s.client import Kube, ignore_conflict, ignore_not_found
from kfjupyter.k8s.volumes import storage_class_manifest

Progress = Callable[[str], None]
# Stop order: dependents first; the API server before etcd (or it hangs in shutdown).
COMPONENTS = ("node-kubelet", "kubelet", "provisioner", "kube-scheduler", "kube-controller-manager",
              "kube-apiserver", "etcd")  # fmt: skip
_MARKERS = {"node-kubelet": "kubelet", "kubelet": "kfjupyter.cluster.kubelet",
            "provisioner": "kfjupyter.cluster.kubelet.provisioner"}  # fmt: skip
_FRESH = ("etcd", "certs", "logs", "pods", "volumes", "node")


class ClusterNotRunning(Unavailable):
    """No cluster runs from this state directory."""

    reason = "cluster_not_running"
    temporary = False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kubeconfig(state: ClusterState) -> dict[str, Any]:
    """The admin kubeconfig (token auth, our CA)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kfjupyter", "cluster": {
            "server": state.server, "certificate-authority": str(state.state_dir / "certs" / "ca.crt")}}],
        "users": [{"name": "admin", "user": {"token": state.token}}],
        "contexts": [{"name": "kfjupyter", "context": {"cluster": "kfjupyter", "user": "admin"}}],
        "current-context": "kfjupyter",
    }  # fmt: skip


def _ssl_context(state: ClusterState) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(state.state_dir / "certs" / "ca.crt"))


def api_ready(state: ClusterState, timeout_s: float = 2.0) -> bool:
    """Whether the API server answers /readyz with ok."""
    headers = {"Authorization": f"Bearer {state.token}"}
    request = urllib.request.Request(f"{state.server}/readyz", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout_s, context=_ssl_context(state)) as reply:  # noqa: S310
            return bool(reply.status == 200)
    except (OSError, ValueError):
        return False


def _wait(what: str, check: Callable[[], bool], deadline: float, state: ClusterState, log: str) -> None:
    while not check():
        if time.monotonic() > deadline:
            tail = _tail(state.state_dir / "logs" / f"{log}.log")
            raise Unavailable(
                f"the cluster did not become ready: {what} (see {state.state_dir}/logs)", detail=tail
            )
        pid = state.pids.get(log)
        if pid is not None and not processes.alive(pid):
            tail = _tail(state.state_dir / "logs" / f"{log}.log")
            raise Unavailable(f"{log} exited while starting: {tail.splitlines()[-1:]}", detail=tail)
        time.sleep(0.1)


def _tail(path: Path, lines: int = 20) -> str:
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _start(state: ClusterState, name: str, cmd: list[str], pass_fds: tuple[int, ...] = ()) -> None:
    state.pids[name] = processes.spawn(cmd, state.state_dir / "logs" / f"{name}.log", pass_fds=pass_fds)
    state.save()


def _control_plane_commands(state: ClusterState, bins: Path, etcd_peer: int) -> dict[str, list[str]]:
    d, certs, kc = state.state_dir, state.state_dir / "certs", str(state.kubeconfig)
    return {
        "etcd": ["etcd", "--data-dir", str(d / "etcd"), "--name", "kfjupyter",
                 "--listen-client-urls", f"http://127.0.0.1:{state.etcd_port}",
                 "--advertise-client-urls", f"http://127.0.0.1:{state.etcd_port}",
                 "--listen-peer-urls", f"http://127.0.0.1:{etcd_peer}",
                 "--initial-advertise-peer-urls", f"http://127.0.0.1:{etcd_peer}",
                 "--initial-cluster", f"kfjupyter=http://127.0.0.1:{etcd_peer}",
                 "--log-level", "warn"],
        "kube-apiserver": [str(bins / "kube-apiserver"), f"--etcd-servers=http://127.0.0.1:{state.etcd_port}",
                 "--bind-address=127.0.0.1", f"--secure-port={state.api_port}", "--insecure-port=0",
                 "--advertise-address=127.0.0.1", f"--tls-cert-file={certs / 'server.crt'}",
                 f"--tls-private-key-file={certs / 'server.key'}", f"--cert-dir={certs}",
                 f"--token-auth-file={certs / 'tokens.csv'}", "--authorization-mode=Node,RBAC",
                 f"--service-account-key-file={certs / 'sa.key'}",
                 f"--service-account-signing-key-file={certs / 'sa.key'}",
                 "--service-account-issuer=https://kubernetes.default.svc",
                 "--service-cluster-ip-range=10.96.0.0/16", "--allow-privileged=true",
                 "--enable-admission-plugins=ExtendedResourceToleration",
                 "--kubelet-preferred-address-types=InternalIP", "--event-ttl=1h", "-v=1",
                 f"--kubelet-client-certificate={certs / 'server.crt'}",
                 f"--kubelet-client-key={certs / 'server.key'}"],
        "kube-controller-manager": [str(bins / "kube-controller-manager"), f"--kubeconfig={kc}",
                 f"--service-account-private-key-file={certs / 'sa.key'}", f"--root-ca-file={certs / 'ca.crt'}",
                 "--controllers=*,-nodelifecycle,-cloud-node-lifecycle", "--leader-elect=false",
                 "--bind-address=127.0.0.1", "--secure-port=0", "--port=0", "--kube-api-qps=200",
                 "--kube-api-burst=400", "-v=1"],
        "kube-scheduler": [str(bins / "kube-scheduler"), f"--kubeconfig={kc}", "--leader-elect=false",
                 "--bind-address=127.0.0.1", "--secure-port=0", "--port=0", "--kube-api-qps=200",
                 "--kube-api-burst=400", "-v=1"],
    }  # fmt: skip


def up(config: ClusterConfig, progress: Progress | None = None) -> ClusterState:
    """Start a fresh cluster from ``config`` (building the control plane first when missing)."""
    say = progress or (lambda _msg: None)
    bins = build.build(progress=say)
    current = ClusterState.load(config.state_dir)
    running = current is not None and any(processes.alive(pid) for pid in current.pids.values())
    if running and current is not None and api_ready(current) and current.runtime == config.runtime:
        say(f"already running at {current.server}")
        return current
    if current is not None:
        down(config.state_dir)
    lock = -1
    if config.runtime == "docker":
        problems = realnode.preflight(config)
        if problems:
            raise realnode.NodeNotReady(
                "the real container node cannot start:\n  - " + "\n  - ".join(problems)
            )
        lock = realnode.acquire(config.docker_host, config.state_dir, config.node_lock_wait_s)
    try:
        return _up(config, bins, say, lock)
    finally:
        if lock >= 0:
            os.close(lock)


def _up(config: ClusterConfig, bins: Path, say: Progress, lock: int) -> ClusterState:
    started = time.monotonic()
    deadline = started + config.ready_timeout_s
    d = config.state_dir
    d.mkdir(parents=True, exist_ok=True)
    for name in _FRESH:
        shutil.rmtree(d / name, ignore_errors=True)
    docker = config.runtime == "docker"
    names = [realnode.node_spec(config).name] if docker else [node.name for node in config.nodes]
    state = ClusterState(state_dir=d, api_port=free_port(), etcd_port=free_port(), kubelet_port=free_port(),
                         token=secrets.token_hex(16), nodes=names, runtime=config.runtime)  # fmt: skip
    state.save()
    make_certs(d / "certs")
    (d / "certs" / "tokens.csv").write_text(f"{state.token},admin,admin,system:masters\n", encoding="utf-8")
    state.kubeconfig.write_text(json.dumps(kubeconfig(state), indent=2), encoding="utf-8")
    state.kubeconfig.chmod(0o600)
    (d / "kubelet.json").write_text(config.model_dump_json(indent=2), encoding="utf-8")
    commands = _control_plane_commands(state, bins, free_port())
    try:
        if docker:
            say("creating the node network and importing the pause image")
            node = realnode.prepare(state, config)
            realnode.ensure_images(config, say)
        say("starting etcd")
        _start(state, "etcd", commands["etcd"])
        say("starting kube-apiserver")
        _start(state, "kube-apiserver", commands["kube-apiserver"])
        _wait("kube-apiserver /readyz", lambda: api_ready(state), deadline, state, "kube-apiserver")
        say(
            f"starting kube-controller-manager, kube-scheduler and the {'real' if docker else 'process'} kubelet"
        )
        _start(state, "kube-controller-manager", commands["kube-controller-manager"])
        _start(state, "kube-scheduler", commands["kube-scheduler"])
        if docker:
            spec = realnode.node_spec(config)
            _start(state, "node-kubelet", realnode.kubelet_command(state, node, spec, bins), (lock,))
            _start(
                state, "provisioner", [sys.executable, "-m", _MARKERS["provisioner"], "--state-dir", str(d)]
            )
        else:
            _start(state, "kubelet", [sys.executable, "-m", _MARKERS["kubelet"], "--state-dir", str(d)])
        with Kube(state.kubeconfig) as kube:
            _create_storage_class(kube)
            if docker:
                _wait(
                    "the real node Ready",
                    lambda: realnode.advertise(kube, spec),
                    deadline,
                    state,
                    "node-kubelet",
                )
            _wait("nodes Ready", lambda: _nodes_ready(kube, state.nodes), deadline, state,
                  "node-kubelet" if docker else "kubelet")  # fmt: skip
            _wait("default service account", lambda: _sa_ready(kube, "default"), deadline, state,
                  "kube-controller-manager")  # fmt: skip
    except BaseException:
        down(d)
        raise
    say(f"cluster ready in {time.monotonic() - started:.1f}s; kubeconfig: {state.kubeconfig}")
    return state


def _create_storage_class(kube: Kube) -> None:
    with ignore_conflict():  # made by an earlier start
        kube.storage.create_storage_class(storage_class_manifest())


def _nodes_ready(kube: Kube, names: list[str]) -> bool:
    ready = set()
    for node in kube.core.list_node().items:
        taints = [t.key for t in (node.spec.taints or [])]
        conditions = {c.type: c.status for c in (node.status.conditions or [])}
        if conditions.get("Ready") == "True" and "node.kubernetes.io/not-ready" not in taints:
            ready.add(node.metadata.name)
    return ready >= set(names)


def _sa_ready(kube: Kube, namespace: str) -> bool:
    with ignore_not_found():
        account = kube.core.read_namespaced_service_account("default", namespace)
        return bool(account.secrets)
    return False


def down(state_dir: Path) -> list[str]:
    """Stop every process the cluster at ``state_dir`` started; returns the names stopped."""
    state = ClusterState.load(state_dir)
    if state is None:
        return []
    stopped = []
    for name in COMPONENTS:
        pid = state.pids.get(name)
        if pid is not None:
            marker = _MARKERS.get(name, name)
            if processes.alive(pid, marker):
                stopped.append(name)
            processes.stop(pid, marker, grace_s=15.0 if name == "kubelet" else 10.0)
        if name == "node-kubelet" and state.node is not None:
            stopped.extend(realnode.teardown(state_dir, state.node))
    for pid_file in (state_dir / "pods").glob("*/*.pid"):
        with contextlib.suppress(ValueError):
            processes.stop(int(pid_file.read_text(encoding="utf-8")), grace_s=2.0)
        pid_file.unlink(missing_ok=True)
    state.pids = {}
    state.save()
    return stopped


def status(state_dir: Path) -> dict[str, Any]:
    """Which components run, whether the API answers, and the nodes it knows."""
    state = ClusterState.load(state_dir)
    if state is None or not state.pids:
        raise ClusterNotRunning(
            f"no cluster is running from {state_dir}; start one with `kfjupyter cluster up`"
        )
    report: dict[str, Any] = {"server": state.server, "kubeconfig": str(state.kubeconfig), "components": {}}
    for name in COMPONENTS:
        pid = state.pids.get(name)
        report["components"][name] = {"pid": pid, "running": pid is not None and processes.alive(pid)}
    report["ready"] = api_ready(state)
    report["runtime"] = state.runtime
    if state.node is not None:
        # Where the real node's pods reach this host (e.g. for a hub's API): the bridge address.
        report["node_address"] = state.node.network.gateway
    report["nodes"] = []
    if report["ready"]:
        with Kube(state.kubeconfig) as kube:
            for node in kube.core.list_node().items:
                conditions = {c.type: c.status for c in (node.status.conditions or [])}
                report["nodes"].append({
                    "name": node.metadata.name, "ready": conditions.get("Ready") == "True",
                    "capacity": dict(node.status.capacity or {})})  # fmt: skip
    return report
