"""The real container node: pod create -> Running, and spawn -> JupyterLab answering through the hub.

Usage: python bench/realnode.py [--pods N] [--spawns N] [--state-dir DIR]
Starts a throw-away cluster with the real node (``runtime="docker"``; the kubelet and the
project's docker daemon as ``./dev test`` sets them up, the notebook image from ``./dev images``),
then:
  pods    N restricted pods of the local busybox/pause image, one after another: create -> Running
          (the kubelet's sandbox, CNI address and container start) and create -> Succeeded;
  spawns  N spawns of ada's server by a real JupyterHub with the notebook image present: the hub
          API's POST -> JupyterLab's ``/api/status`` answering 200 through the hub's proxy, each
          followed by a stop (goal: p50 <= 15 s).
Prints p50 / min / max of each; the same figures go into the closing notes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kfjupyter.cluster import dockerd  # noqa: E402
from kfjupyter.cluster.build import build  # noqa: E402
from kfjupyter.cluster.config import ClusterConfig, ClusterState, default_real_node  # noqa: E402
from kfjupyter.cluster.controlplane import down, up  # noqa: E402
from kfjupyter.cluster.node_images import PAUSE_IMAGE  # noqa: E402
from kfjupyter.k8s.client import Kube  # noqa: E402
from tests.support.hub import Hub, running_hub  # noqa: E402

PROFILES = ROOT / "spawner" / "kfjupyter_spawner" / "examples" / "profiles-local.yaml"
RESTRICTED = {"runAsUser": 1000, "runAsNonRoot": True, "allowPrivilegeEscalation": False,
              "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}  # fmt: skip


def summary(name: str, values: list[float]) -> str:
    return (f"{name:<34} p50 {statistics.median(values):6.2f} s   min {min(values):6.2f}   "
            f"max {max(values):6.2f}   (n={len(values)})")  # fmt: skip


def pod_times(kube: Kube, count: int) -> tuple[list[float], list[float]]:
    running, done = [], []
    for index in range(count):
        name = f"bench-{index}"
        container = {"name": "main", "image": PAUSE_IMAGE, "imagePullPolicy": "Never",
                     "command": ["sh", "-c", "sleep 1"], "securityContext": RESTRICTED}  # fmt: skip
        pod = {"metadata": {"name": name}, "spec": {"containers": [container], "restartPolicy": "Never",
               "automountServiceAccountToken": False, "terminationGracePeriodSeconds": 1}}  # fmt: skip
        started = time.monotonic()
        kube.core.create_namespaced_pod("default", pod)
        seen_running = None
        while True:
            phase = kube.core.read_namespaced_pod(name, "default").status.phase
            now = time.monotonic() - started
            if phase == "Running" and seen_running is None:
                seen_running = now
            if phase in ("Succeeded", "Failed"):
                break
            time.sleep(0.05)
        if phase != "Succeeded":
            raise SystemExit(f"pod {name} ended {phase}")
        running.append(seen_running if seen_running is not None else now)
        done.append(now)
        kube.core.delete_namespaced_pod(name, "default", grace_period_seconds=0)
    return running, done


def _lab_answers(hub: Hub, token: str) -> bool:
    request = urllib.request.Request(
        f"{hub.base}/user/ada/api/status", headers={"Authorization": f"token {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def spawn_times(state: ClusterState, count: int, work: Path) -> list[float]:
    assert state.node is not None
    env = {"KFJUPYTER_HUB_CONNECT_IP": state.node.network.gateway}
    times = []
    with running_hub(work / "hub", str(state.kubeconfig), PROFILES, env) as hub:
        _, token = hub.api("/users/ada/tokens", method="POST", body={"note": "bench", "expires_in": 3600})
        for _ in range(count):
            started = time.monotonic()
            status, body = hub.api("/users/ada/server", method="POST", body={"profile": "cpu"})
            if status not in (201, 202):
                raise SystemExit(f"spawn refused: {status} {body}")
            while not _lab_answers(hub, token["token"]):
                if time.monotonic() - started > 300:
                    raise SystemExit(f"no answer after 300 s; see {hub.log}")
                time.sleep(0.1)
            times.append(time.monotonic() - started)
            hub.api("/users/ada/server", method="DELETE")
            while hub.api("/users/ada")[1]["servers"]:
                time.sleep(0.3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10)
    parser.add_argument("--spawns", type=int, default=10)
    parser.add_argument("--state-dir", type=Path, default=None)
    args = parser.parse_args()
    work = args.state_dir or Path(tempfile.mkdtemp(prefix="kfjupyter-bench-realnode-"))
    build(kubelet=True)
    config = ClusterConfig(state_dir=work / "cluster", runtime="docker", nodes=default_real_node(),
                           docker_host=dockerd.start(), node_lock_wait_s=1800, ready_timeout_s=180)  # fmt: skip
    started = time.monotonic()
    state = up(config)
    lines = [f"{'cluster up (control plane + real node)':<34} {time.monotonic() - started:6.2f} s"]
    try:
        with Kube(state.kubeconfig) as kube:
            if args.pods:
                running, done = pod_times(kube, args.pods)
                lines += [summary("pod create -> Running", running), summary("pod create -> Succeeded", done)]
        if args.spawns:
            lines.append(summary("spawn -> JupyterLab via the proxy", spawn_times(state, args.spawns, work)))
    finally:
        down(state.state_dir)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
