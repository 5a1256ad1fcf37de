"""How long 100 small pods take to reach Running on the local cluster (target: within 30 s).

Usage: python bench/cluster_pods.py [--pods N] [--state-dir DIR]
Starts a throw-away cluster (building the binaries if needed), creates N `sleep` pods at once,
waits until every one is Running (watching, not polling), prints the figure and tears down.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from kfjupyter.cluster.config import ClusterConfig
from kfjupyter.cluster.controlplane import down, up
from kfjupyter.k8s.client import Kube, watch_json


def pod(index: int) -> dict[str, object]:
    container = {
        "name": "main",
        "image": "busybox",
        "command": ["sleep", "3600"],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"p{index:03d}"},
        "spec": {"containers": [container], "terminationGracePeriodSeconds": 1},
    }


def measure(kube: Kube, count: int, namespace: str) -> float:
    kube.core.create_namespace({"metadata": {"name": namespace}})
    deadline = time.monotonic() + 30
    while not _sa_ready(kube, namespace):
        if time.monotonic() > deadline:
            raise SystemExit("default service account never appeared")
        time.sleep(0.1)
    version = kube.core.list_namespaced_pod(namespace).metadata.resource_version
    started = time.monotonic()
    for index in range(count):
        kube.core.create_namespaced_pod(namespace, pod(index))
    created = time.monotonic() - started
    running: set[str] = set()
    while len(running) < count:
        for kind, obj in watch_json(
            kube.core.list_namespaced_pod, namespace=namespace, resource_version=version, timeout_seconds=60
        ):
            version = obj["metadata"].get("resourceVersion", version)
            if kind in ("ADDED", "MODIFIED") and (obj.get("status") or {}).get("phase") == "Running":
                running.add(obj["metadata"]["name"])
            if len(running) >= count or time.monotonic() - started > 120:
                break
        if time.monotonic() - started > 120:
            break
    took = time.monotonic() - started
    print(f"created {count} pods in {created:.1f}s; {len(running)}/{count} Running after {took:.1f}s")
    pods = kube.core.list_namespaced_pod(namespace).items
    ips = {p.status.pod_ip for p in pods if p.status.phase == "Running"}
    nodes = sorted({p.spec.node_name for p in pods})
    print(f"check: {len(ips)} Running pods with distinct IPs on nodes {', '.join(nodes)}")
    return took if len(running) == count else float("inf")


def _sa_ready(kube: Kube, namespace: str) -> bool:
    accounts = kube.core.list_namespaced_service_account(namespace).items
    return any(a.metadata.name == "default" and a.secrets for a in accounts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--state-dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kfj-bench-") as tmp:
        state_dir = args.state_dir or Path(tmp) / "cluster"
        t0 = time.monotonic()
        state = up(ClusterConfig(state_dir=state_dir), progress=lambda m: print(f"  {m}", file=sys.stderr))
        print(f"cluster up in {time.monotonic() - t0:.1f}s")
        try:
            with Kube(state.kubeconfig, pool_size=16) as kube:
                took = measure(kube, args.pods, "bench")
        finally:
            down(state_dir)
    verdict = "PASS" if took <= 30 else "FAIL"
    print(f"{verdict}: {args.pods} pods Running in {took:.1f}s (target <= 30s)")
    return 0 if took <= 30 else 1


if __name__ == "__main__":
    raise SystemExit(main())
