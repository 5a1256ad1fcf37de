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
from typing import Any

from kfjupyter.k8s.client import Kube
from tests.support.hub import SERVICE_TOKEN, Hub, stop, wait_server
from tests.support.realhub import MISSING_IMAGE, call, container_id, in_pod, run_ids, user_token, wait_run

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
    assert started["run_id"] in run_ids(real_hub, token, "ada")


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
        assert run_ids(real_hub, token, "bob") == []
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
    assert f"Image '{MISSING_IMAGE}' is not on the node" in event["message"], event
    assert took < 15, f"the failure took {took:.1f}s to reach the spawn page"
