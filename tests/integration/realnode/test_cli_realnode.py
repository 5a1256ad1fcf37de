"""``kfjupyter cluster up --runtime docker``: what is missing is named first; ``down`` leaves nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from kfjupyter.cluster import dockerd, processes
from kfjupyter.cluster.build import bin_dir, build
from kfjupyter.cluster.config import ClusterState
from kfjupyter.cluster.docker_api import Docker
from kfjupyter.cluster.node_images import PAUSE_IMAGE
from kfjupyter.cluster.node_network import exists
from kfjupyter.k8s.client import Kube
from tests.integration.cluster.kube_helpers import wait_for


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kfjupyter.cli.main", *args],
        capture_output=True, text=True, timeout=900, check=False, env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_up_names_what_is_missing_before_starting_anything(tmp_path: Path) -> None:
    build()
    cache = tmp_path / "cache"
    (cache / "bin").mkdir(parents=True)
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        (cache / "bin" / name).symlink_to(bin_dir() / name)
    env = {"KFJUPYTER_K8S_CACHE": str(cache), "KFJUPYTER_DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    started = time.monotonic()
    done = _cli("cluster", "--state-dir", str(tmp_path / "c"), "up", "--runtime", "docker", env=env)
    assert done.returncode == 75, done.stderr
    assert time.monotonic() - started < 20
    assert "the kubelet is not built: `python -m kfjupyter.cluster.build --kubelet`" in done.stderr
    assert f"the docker daemon is not running at unix://{tmp_path}/no-docker.sock" in done.stderr
    assert "`python -m kfjupyter.cluster.dockerd start`" in done.stderr
    assert "Traceback" not in done.stderr
    state = ClusterState.load(tmp_path / "c")
    assert state is None or not state.pids


def test_up_runs_a_real_node_and_down_leaves_nothing(tmp_path: Path) -> None:
    build(kubelet=True)
    dockerd.start()
    state_dir = tmp_path / "c"
    up = _cli("cluster", "--state-dir", str(state_dir), "up", "--runtime", "docker", "--node-wait", "900")
    state = ClusterState.load(state_dir)
    assert state is not None and state.node is not None
    pids, node = dict(state.pids), state.node
    try:
        assert up.returncode == 0, up.stderr
        status = _cli("cluster", "--state-dir", str(state_dir), "status")
        assert "node node-0" in status.stdout and "Ready" in status.stdout and "2 GPU" in status.stdout
        assert f"real node   address {node.network.gateway}" in status.stdout
        with Kube(state.kubeconfig) as kube:
            pod = {"metadata": {"name": "sleeper"}, "spec": {"automountServiceAccountToken": False,
                   "containers": [{"name": "main", "image": PAUSE_IMAGE, "imagePullPolicy": "Never"}]}}  # fmt: skip
            kube.core.create_namespaced_pod("default", pod)
            wait_for(lambda: kube.core.read_namespaced_pod("sleeper", "default").status.phase == "Running", 60,
                     "the pod to run")  # fmt: skip
            uid = kube.core.read_namespaced_pod("sleeper", "default").metadata.uid
        docker = Docker(node.docker_host)
        assert len(docker.pod_containers([uid])) == 2  # the sandbox and the container
        assert exists(node.network.bridge)
    finally:
        down = _cli("cluster", "--state-dir", str(state_dir), "down")
    assert down.returncode == 0, down.stderr
    assert {"node-kubelet", "provisioner", "kube-apiserver", "etcd"} <= set(pids)
    assert not [name for name, pid in pids.items() if processes.alive(pid)]
    assert docker.pod_containers([uid]) == []
    assert not exists(node.network.bridge)
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(state_dir) not in mounts
    assert not list(Path("/var/log/pods").glob(f"*_{uid}"))
