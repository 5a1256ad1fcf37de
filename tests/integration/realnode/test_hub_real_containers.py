"""A real JupyterHub spawns servers as real containers of the notebook image on the real node.

ada's GPU server: uid 1000, no capabilities, seccomp in effect (read inside the container), home on
her volume and writable, a pipeline run in it succeeds, JupyterLab answers through the hub's
proxy, and a file survives stop/start. bob's server is another container with another home, and
his runs API does not list ada's run. An image that is not on the node fails the spawn within
seconds, naming the image.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.stream import stream

from kfjupyter.cluster import dockerd, images
from kfjupyter.cluster.config import ClusterState
from kfjupyter.cluster.docker_api import Docker
from kfjupyter.cluster.node_images import NOTEBOOK_IMAGE
from kfjupyter.k8s.client import Kube
from tests.integration.cluster.test_hub_spawner import stop, wait_server
from tests.support.hub import SERVICE_TOKEN, Hub, running_hub

EXAMPLE_PROFILES = (
    Path(__file__).resolve().parents[3] / "spawner" / "kfjupyter_spawner" / "examples" / "profiles-local.yaml"
)
NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "%%step make\nnumbers = list(range(10))"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "%%step total\ntotal = sum(numbers)\nprint('total', total)"},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}  # fmt: skip


@pytest.fixture(scope="module")
def real_hub(real_cluster: ClusterState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The demo hub with the local-image profiles; its API listens on the node's bridge address."""
    assert real_cluster.node is not None
    images.build(hub=False)  # cached: a second when the image is up to date
    assert Docker(dockerd.docker_host()).has_image(NOTEBOOK_IMAGE)
    state = tmp_path_factory.mktemp("realhub")
    profiles = yaml.safe_load(EXAMPLE_PROFILES.read_text())
    missing = {"default": "localhost/kfjupyter-absent:1", "pull_policy": "Never"}
    profiles["profiles"].append(
        {"slug": "missing-image", "display_name": "Not on the node", "image": missing}
    )
    (state / "profiles.yaml").write_text(yaml.safe_dump(profiles))
    env = {"KFJUPYTER_HUB_CONNECT_IP": real_cluster.node.network.gateway}
    with running_hub(state, str(real_cluster.kubeconfig), state / "profiles.yaml", env) as hub:
        yield hub


def user_token(hub: Hub, user: str) -> str:
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
    status = kube.core.read_namespaced_pod(pod, "default").status.container_statuses[0]
    assert status.container_id.startswith("docker://"), status
    return str(status.container_id)


def wait_run(hub: Hub, token: str, user: str, run_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, detail = call(hub, token, f"/user/{user}/kfjupyter/api/runs/{run_id}")
        assert status == 200, detail
        if detail["run"]["status"] in ("succeeded", "failed", "cancelled", "interrupted"):
            return dict(detail["run"])
        time.sleep(1)
    raise AssertionError(f"run {run_id} did not finish: {detail}")


def test_ada_gets_a_restricted_container_with_her_own_home(real_hub: Hub, real_kube: Kube) -> None:
    token = user_token(real_hub, "ada")
    status, _ = real_hub.api("/users/ada/server", method="POST", body={"profile": "gpu"})
    assert status in (201, 202)
    wait_server(real_hub, "ada", timeout=240)
    pod = real_kube.core.read_namespaced_pod("jupyter-ada", "default")
    assert pod.spec.node_name == "node-0"
    assert pod.spec.containers[0].resources.limits["nvidia.com/gpu"] == "1"
    first = container_id(real_kube, "jupyter-ada")

    inside = in_pod(real_kube, "jupyter-ada", "id -u; grep -E '^(CapEff|Seccomp):' /proc/1/status; echo $HOME; "
                    "grep ' /home/jovyan ' /proc/self/mountinfo | wc -l; touch $HOME/.probe && echo writable")  # fmt: skip
    lines = inside.splitlines()
    assert lines[0] == "1000", inside
    assert "CapEff:\t0000000000000000" in lines and "Seccomp:\t2" in lines, inside
    assert lines[-3:] == ["/home/jovyan", "1", "writable"], inside

    status, page = call(real_hub, token, "/user/ada/lab")
    assert status == 200 and "jupyterlab" in page.lower()
    status, _ = call(real_hub, token, "/user/ada/api/contents/kept.txt", method="PUT",
                     body={"type": "file", "format": "text", "content": "still here"})  # fmt: skip
    assert status in (200, 201)
    status, _ = call(real_hub, token, "/user/ada/api/contents/sums.ipynb", method="PUT",
                     body={"type": "notebook", "content": NOTEBOOK})  # fmt: skip
    assert status in (200, 201)
    status, started = call(real_hub, token, "/user/ada/kfjupyter/api/notebooks/run", method="POST",
                           body={"path": "sums.ipynb"})  # fmt: skip
    assert status == 202, started
    run = wait_run(real_hub, token, "ada", started["run_id"])
    assert run["status"] == "succeeded", run

    stop(real_hub, "ada")
    status, _ = real_hub.api("/users/ada/server", method="POST", body={"profile": "gpu"})
    assert status in (201, 202)
    wait_server(real_hub, "ada", timeout=240)
    assert container_id(real_kube, "jupyter-ada") != first
    status, kept = call(real_hub, token, "/user/ada/api/contents/kept.txt")
    assert status == 200 and kept["content"] == "still here"
    status, runs = call(real_hub, token, "/user/ada/kfjupyter/api/runs")
    assert status == 200 and started["run_id"] in [r["id"] for r in runs["runs"]]


def test_bob_gets_another_container_home_and_run_store(real_hub: Hub, real_kube: Kube) -> None:
    status, _ = real_hub.api("/users/bob/server", method="POST", body={"profile": "cpu"})
    assert status in (201, 202)
    try:
        wait_server(real_hub, "bob", timeout=240)
        token = user_token(real_hub, "bob")
        bob = real_kube.core.read_namespaced_pod("jupyter-bob", "default")
        ada = real_kube.core.read_namespaced_pod("jupyter-ada", "default")
        assert container_id(real_kube, "jupyter-bob") != container_id(real_kube, "jupyter-ada")
        assert bob.status.pod_ip != ada.status.pod_ip
        claims = {
            name: real_kube.core.read_namespaced_persistent_volume_claim(name, "default").spec.volume_name
            for name in ("ada-home", "bob-home")
        }
        assert claims["ada-home"] != claims["bob-home"]
        status, _ = call(real_hub, token, "/user/bob/api/contents/kept.txt")
        assert status == 404
        assert "sums.ipynb" not in in_pod(real_kube, "jupyter-bob", "ls -a $HOME")
        status, runs = call(real_hub, token, "/user/bob/kfjupyter/api/runs")
        assert status == 200 and runs["runs"] == []
    finally:
        stop(real_hub, "bob")
        stop(real_hub, "ada")


def failure_event(hub: Hub, user: str, needle: str, timeout: float = 90) -> dict[str, Any]:
    """The first progress event of the spawn that says ``needle`` (or ends it), as the spawn page sees it."""
    request = urllib.request.Request(
        f"{hub.base}/hub/api/users/{user}/server/progress",
        headers={"Authorization": f"token {SERVICE_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        for raw in reply:
            line = raw.decode().strip()
            if line.startswith("data:"):
                event = json.loads(line[len("data:") :])
                if needle in str(event.get("message")) or event.get("failed") or event.get("ready"):
                    return dict(event)
    raise AssertionError(f"the progress of {user}'s spawn ended without failing")


def test_an_image_missing_from_the_node_fails_the_spawn_within_seconds(real_hub: Hub) -> None:
    started = time.monotonic()
    # The hub answers the POST only after its slow-spawn timeout; the spawn page follows the
    # progress stream meanwhile, as this test does.
    post = threading.Thread(
        target=real_hub.api,
        args=("/users/bob/server",),
        kwargs={"method": "POST", "body": {"profile": "missing-image"}},
    )
    post.start()
    try:
        while real_hub.api("/users/bob")[1]["servers"].get("", {}).get("pending") != "spawn":
            assert time.monotonic() - started < 15, "the spawn never became pending"
            time.sleep(0.1)
        event = failure_event(real_hub, "bob", "is not on the node")
        took = time.monotonic() - started
    finally:
        post.join()
    assert not event.get("ready"), event
    assert "Image 'localhost/kfjupyter-absent:1' is not on the node" in event["message"], event
    assert took < 15, f"the failure took {took:.1f}s to reach the spawn page"
