"""The demo hub on the real container node: its profiles, and calls through its proxy into users'
servers (the REST API, and a shell in the server's container)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from kubernetes.stream import stream

from kfjupyter.cluster.config import ClusterState
from kfjupyter.k8s.client import Kube
from tests.support.hub import Hub, running_hub

EXAMPLE_PROFILES = (
    Path(__file__).resolve().parents[2] / "spawner" / "kfjupyter_spawner" / "examples" / "profiles-local.yaml"
)
#: A profile whose image is not on the node (and is never pulled): its spawn must fail fast.
MISSING_IMAGE = "localhost/kfjupyter-absent:1"


@contextmanager
def real_node_hub(cluster: ClusterState, state: Path) -> Iterator[Hub]:
    """The demo hub with the local-image profiles (plus ``missing-image``); its API listens on the
    node's bridge address, where servers in containers reach it."""
    assert cluster.node is not None
    profiles = yaml.safe_load(EXAMPLE_PROFILES.read_text())
    missing = {"default": MISSING_IMAGE, "pull_policy": "Never"}
    profiles["profiles"].append(
        {"slug": "missing-image", "display_name": "Not on the node", "image": missing}
    )
    (state / "profiles.yaml").write_text(yaml.safe_dump(profiles))
    env = {"KFJUPYTER_HUB_CONNECT_IP": cluster.node.network.gateway}
    with running_hub(state, str(cluster.kubeconfig), state / "profiles.yaml", env) as hub:
        yield hub


def user_token(hub: Hub, user: str) -> str:
    """A fresh API token of ``user`` (15 minutes)."""
    status, body = hub.api(f"/users/{user}/tokens", method="POST", body={"note": "test", "expires_in": 900})
    assert status == 201, body
    return str(body["token"])


def call(hub: Hub, token: str, path: str, *, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    """A request through the hub's proxy to a user's server."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(f"{hub.base}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            raw = reply.read()
            kind = reply.headers.get("Content-Type", "")
            return reply.status, json.loads(raw) if "json" in kind else raw.decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def in_pod(kube: Kube, pod: str, script: str) -> str:
    """Run ``script`` in the pod's container (through the API server and the real kubelet)."""
    client = stream(kube.core.connect_get_namespaced_pod_exec, pod, "default", command=["sh", "-c", script],
                    stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)  # fmt: skip
    try:
        client.run_forever(timeout=60)
        return str(client.read_stdout())
    finally:
        client.close()
        client.sock.shutdown()  # close() leaves the TLS socket open when the server closed first


def container_id(kube: Kube, pod: str) -> str:
    """The docker id of the pod's (first) container."""
    status = kube.core.read_namespaced_pod(pod, "default").status.container_statuses[0]
    assert status.container_id.startswith("docker://"), status
    return str(status.container_id)


def run_ids(hub: Hub, token: str, user: str) -> list[str]:
    """The ids of the runs ``user``'s server lists."""
    status, runs = call(hub, token, f"/user/{user}/kfjupyter/api/runs")
    assert status == 200, runs
    return [str(r["id"]) for r in runs["runs"]]


def wait_run(hub: Hub, token: str, user: str, run_id: str, timeout: float = 180) -> dict[str, Any]:
    """Wait until a run in ``user``'s server ends; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, detail = call(hub, token, f"/user/{user}/kfjupyter/api/runs/{run_id}")
        assert status == 200, detail
        if detail["run"]["status"] in ("succeeded", "failed", "cancelled", "interrupted"):
            return dict(detail["run"])
        time.sleep(1)
    raise AssertionError(f"run {run_id} did not finish: {detail}")
