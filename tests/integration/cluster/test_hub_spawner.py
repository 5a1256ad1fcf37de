"""A real JupyterHub with the example profiles spawning servers on the real control plane."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

import nbformat

from kfjupyter.k8s.client import Kube
from tests.support.hub import SERVICE_TOKEN, Hub, stop, wait_server
from tests.support.realhub import call, user_token, wait_run


def spawn_error(hub: Hub, user: str, options: dict[str, Any], timeout: float = 30) -> str:
    """Start a server that must fail; return the failure message the hub reports."""
    started = time.monotonic()
    status, body = hub.api(f"/users/{user}/server", method="POST", body=options)
    if status >= 400:
        return str(body.get("message") if isinstance(body, dict) else body)
    while time.monotonic() - started < timeout:
        _, info = hub.api(f"/users/{user}")
        if not info["servers"]:
            progress = hub.log.read_text()
            return progress[-2000:]
        time.sleep(0.5)
    raise AssertionError(f"spawn {options} of {user} did not fail within {timeout}s")


def test_gpu_user_spawns_a_gpu_server(hub: Hub, kube: Kube) -> None:
    status, _ = hub.api(
        "/users/ada/server", method="POST", body={"profile": "gpu", "gpu_type": "a100", "gpu_count": 1}
    )
    assert status in (201, 202)
    wait_server(hub, "ada")
    pod = kube.core.read_namespaced_pod("jupyter-ada", "default")
    limits = pod.spec.containers[0].resources.limits
    assert limits["nvidia.com/gpu"] == "1"
    node = kube.core.read_node(pod.spec.node_name)
    assert node.metadata.labels["kfjupyter.dev/gpu-type"] == "a100"
    assert pod.spec.security_context.run_as_non_root is True
    stop(hub, "ada")
    claims = [c.metadata.name for c in kube.core.list_namespaced_persistent_volume_claim("default").items]
    assert "ada-home" in claims


def test_users_outside_the_group_cannot_get_gpus(hub: Hub, kube: Kube) -> None:
    message = spawn_error(hub, "bob", {"profile": "gpu", "gpu_count": 1})
    assert "only for members of 'gpu-users'" in message
    pods = [p.metadata.name for p in kube.core.list_namespaced_pod("default").items]
    assert "jupyter-bob" not in pods


def test_too_many_gpus_fails_fast_and_nothing_leaks(hub: Hub, kube: Kube) -> None:
    started = time.monotonic()
    message = spawn_error(hub, "ada", {"profile": "gpu", "gpu_type": "h100", "gpu_count": 4})
    assert "No NVIDIA H100 free for 4 GPU(s)" in message
    assert time.monotonic() - started < 30
    status, _ = hub.api("/users/ada/server", method="POST", body={"profile": "cpu"})
    assert status in (201, 202)
    wait_server(hub, "ada")
    pod = kube.core.read_namespaced_pod("jupyter-ada", "default")
    assert not (pod.spec.containers[0].resources.limits or {}).get("nvidia.com/gpu")
    assert not pod.spec.node_selector
    # Only the tolerations the API server's admission adds to every pod; none from the GPU spawn.
    assert all(t.key.startswith("node.kubernetes.io/") for t in pod.spec.tolerations or [])
    stop(hub, "ada")


def test_unpullable_image_fails_fast_with_a_message(hub: Hub) -> None:
    started = time.monotonic()
    message = spawn_error(hub, "bob", {"profile": "broken-image"}, timeout=60)
    assert "cannot be pulled" in message and "does-not-exist" in message
    assert time.monotonic() - started < 60


def test_gpu_quota_counts_all_of_a_users_servers(hub: Hub) -> None:
    status, _ = hub.api(
        "/users/ada/servers/big", method="POST", body={"profile": "gpu", "gpu_type": "a100", "gpu_count": 4}
    )
    assert status in (201, 202)
    deadline = time.monotonic() + 120
    while not hub.api("/users/ada")[1]["servers"].get("big", {}).get("ready"):
        assert time.monotonic() < deadline, hub.log.read_text()[-3000:]
        time.sleep(0.5)
    status, body = hub.api("/users/ada/servers/small", method="POST", body={"profile": "gpu", "gpu_count": 1})
    assert status >= 400 and "over your limit of 4" in str(body)
    hub.api("/users/ada/servers/big", method="DELETE", body={"remove": True})
    deadline = time.monotonic() + 60
    while hub.api("/users/ada")[1]["servers"].get("big"):
        assert time.monotonic() < deadline
        time.sleep(0.5)


def test_home_volume_keeps_files_across_restarts(hub: Hub, kube: Kube) -> None:
    status, token = hub.api("/users/bob/tokens", method="POST", body={"note": "test", "expires_in": 600})
    assert status == 201
    for attempt in range(2):
        status, _ = hub.api("/users/bob/server", method="POST", body={"profile": "cpu"})
        assert status in (201, 202)
        wait_server(hub, "bob")
        url = f"{hub.base}/user/bob/api/contents/kept.txt"
        headers = {"Authorization": f"token {token['token']}", "Content-Type": "application/json"}
        if attempt == 0:
            body = json.dumps({"type": "file", "format": "text", "content": "still here"}).encode()
            with urllib.request.urlopen(
                urllib.request.Request(url, data=body, headers=headers, method="PUT")
            ) as r:
                assert r.status in (200, 201)
        else:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as r:
                assert json.load(r)["content"] == "still here"
        stop(hub, "bob")


def test_each_user_keeps_their_own_runs(hub: Hub) -> None:
    # The process kubelet has no image to take HOME from; the servers' HOME is their own volume,
    # so a run of ada's is in her store and bob's server does not list it.
    tokens = {user: user_token(hub, user) for user in ("ada", "bob")}
    for user in tokens:
        status, _ = hub.api(f"/users/{user}/server", method="POST", body={"profile": "cpu"})
        assert status in (201, 202)
    try:
        for user in tokens:
            wait_server(hub, user)
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%%step make\nx = 1")])
        status, _ = call(hub, tokens["ada"], "/user/ada/api/contents/mine.ipynb", method="PUT",
                         body={"type": "notebook", "content": json.loads(nbformat.writes(notebook))})  # fmt: skip
        assert status in (200, 201)
        status, started = call(hub, tokens["ada"], "/user/ada/kfjupyter/api/notebooks/run", method="POST",
                               body={"path": "mine.ipynb"})  # fmt: skip
        assert status == 202, started
        assert wait_run(hub, tokens["ada"], "ada", started["run_id"])["status"] == "succeeded"
        status, runs = call(hub, tokens["bob"], "/user/bob/kfjupyter/api/runs")
        assert status == 200 and started["run_id"] not in [r["id"] for r in runs["runs"]], runs
        status, runs = call(hub, tokens["ada"], "/user/ada/kfjupyter/api/runs")
        assert started["run_id"] in [r["id"] for r in runs["runs"]], runs
    finally:
        for user in tokens:
            stop(hub, user)


def progress_events(hub: Hub, user: str, timeout: float = 120) -> list[dict[str, Any]]:
    """The spawn page's events for ``user``'s server (the hub's progress stream), until it ends."""
    request = urllib.request.Request(
        f"{hub.base}/hub/api/users/{user}/server/progress",
        headers={"Authorization": f"token {SERVICE_TOKEN}", "Accept": "text/event-stream"},
    )
    events: list[dict[str, Any]] = []
    with urllib.request.urlopen(request, timeout=timeout) as stream:
        for raw in stream:
            line = raw.decode("utf-8").strip()
            if line.startswith("data:"):
                events.append(json.loads(line[len("data:") :]))
                if events[-1].get("ready") or events[-1].get("failed"):
                    break
    return events


def test_spawn_progress_is_in_plain_words_on_a_bar_that_moves(hub: Hub) -> None:
    # As the spawn page does: follow the progress while the spawn is pending (a spawn that has
    # already finished answers only "ready"), with the POST still waiting for the hub.
    answers: list[int] = []
    post = threading.Thread(
        target=lambda: answers.append(hub.api("/users/bob/server", method="POST", body={"profile": "cpu"})[0])
    )
    started = time.monotonic()
    post.start()
    try:
        while hub.api("/users/bob")[1]["servers"].get("", {}).get("pending") != "spawn":
            assert time.monotonic() - started < 15, "the spawn never became pending"
            time.sleep(0.05)
        events = progress_events(hub, "bob")
    finally:
        post.join()
        stop(hub, "bob")
    assert answers and answers[0] in (201, 202), answers
    assert events[-1].get("ready") is True, events
    assert events[0]["message"] == "Server requested"  # the hub's own first line, then ours
    ours = events[1:-1]
    messages = [e["message"] for e in ours]
    assert messages[0] == "Starting your cpu server…", messages
    assert "The server is starting…" in messages
    # a CPU server is placed on the CPU node: GPU nodes are tainted for GPU servers
    assert "Found a place for your server (node cpu-0)" in messages, messages
    bar = [e["progress"] for e in ours if "progress" in e]
    assert bar and bar == sorted(bar) and min(bar) > 0 and len(set(bar)) >= 4, events
    assert events[-1]["progress"] == 100
    for message in messages:  # the cluster's own words stay in the cluster
        assert "probe failed" not in message and "connection refused" not in message.lower(), message
