"""Pods as processes: Jobs to completion with logs, env and probes, deletion, crash loops, pulls."""

from __future__ import annotations

import os
import time

from kfjupyter.k8s.client import Kube
from tests.integration.cluster.kube_helpers import events, phase, pod, wait_for, waiting_reason

PYTHON = "python3"


def test_job_runs_python_to_completion_and_logs_show_its_output(kube: Kube, namespace: str) -> None:
    script = "import sys; print('hello from the job'); print('second line'); sys.exit(0)"
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "hello"},
        "spec": {"backoffLimit": 0, "template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "python:3.11", "command": [PYTHON, "-c", script]}],
        }}},
    }  # fmt: skip
    kube.batch.create_namespaced_job(namespace, job)
    wait_for(
        lambda: kube.batch.read_namespaced_job_status("hello", namespace).status.succeeded == 1,
        60,
        "Job done",
    )
    (job_pod,) = kube.core.list_namespaced_pod(namespace, label_selector="job-name=hello").items
    assert job_pod.status.phase == "Succeeded"
    assert job_pod.status.container_statuses[0].state.terminated.exit_code == 0
    name = job_pod.metadata.name
    assert kube.core.read_namespaced_pod_log(name, namespace) == "hello from the job\nsecond line\n"
    assert kube.core.read_namespaced_pod_log(name, namespace, tail_lines=1) == "second line\n"
    stamped = kube.core.read_namespaced_pod_log(name, namespace, timestamps=True).splitlines()
    assert stamped[0].endswith(" hello from the job") and stamped[0][:4].isdigit()
    reasons = [reason for reason, _ in events(kube, namespace, name)]
    for expected in ("Pulling", "Pulled", "Created", "Started"):
        assert expected in reasons


def test_env_working_dir_pod_ip_and_readiness(kube: Kube, namespace: str) -> None:
    kube.core.create_namespaced_secret(namespace, {"metadata": {"name": "s"}, "stringData": {"token": "t0p"}})
    kube.core.create_namespaced_config_map(namespace, {"metadata": {"name": "m"}, "data": {"mode": "fast"}})
    env = [
        {"name": "GREETING", "value": "hi"},
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "token"}}},
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "m", "key": "mode"}}},
    ]
    script = (
        "import os, socket, sys\n"
        "print(os.environ['GREETING'], os.environ['TOKEN'], os.environ['MODE'], os.getcwd(), flush=True)\n"
        "s = socket.socket(); s.bind((os.environ['POD_IP'], 8080)); s.listen()\n"
        "import time; time.sleep(60)\n"
    )
    probe = {"tcpSocket": {"port": 8080}, "periodSeconds": 1}
    container = {"env": env, "workingDir": "/tmp", "readinessProbe": probe}
    kube.core.create_namespaced_pod(namespace, pod("server", [PYTHON, "-c", script], container=container))

    def ready() -> bool:
        status = kube.core.read_namespaced_pod("server", namespace).status
        return bool(status.container_statuses and status.container_statuses[0].ready)

    wait_for(ready, 30, "readiness")
    current = kube.core.read_namespaced_pod("server", namespace)
    assert current.status.pod_ip.startswith("127.0.")
    assert {c.type: c.status for c in current.status.conditions}["Ready"] == "True"
    assert kube.core.read_namespaced_pod_log("server", namespace) == "hi t0p fast /tmp\n"


def test_deleting_a_pod_stops_its_process_and_removes_it(kube: Kube, namespace: str) -> None:
    kube.core.create_namespaced_pod(namespace, pod("sleeper", ["sleep", "300"]))
    wait_for(lambda: phase(kube, namespace, "sleeper") == "Running", 30, "Running")
    container_id = (
        kube.core.read_namespaced_pod("sleeper", namespace).status.container_statuses[0].container_id
    )
    pid = int(container_id.rsplit("/", 1)[-1])
    assert os.path.exists(f"/proc/{pid}")
    kube.core.delete_namespaced_pod("sleeper", namespace)
    names = lambda: [p.metadata.name for p in kube.core.list_namespaced_pod(namespace).items]  # noqa: E731
    wait_for(lambda: "sleeper" not in names(), 30, "pod object removed")
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 10, "process gone")
    reasons = [reason for reason, _ in events(kube, namespace, "sleeper")]
    assert "Killing" in reasons


def test_crashing_container_shows_crash_loop_back_off(kube: Kube, namespace: str) -> None:
    manifest = pod("crasher", ["sh", "-c", "echo crashing; exit 3"], restartPolicy="Always")
    kube.core.create_namespaced_pod(namespace, manifest)
    wait_for(lambda: waiting_reason(kube, namespace, "crasher") == "CrashLoopBackOff", 30, "CrashLoopBackOff")
    wait_for(lambda: kube.core.read_namespaced_pod("crasher", namespace).status.container_statuses[0].restart_count >= 1,
             30, "a restart")  # fmt: skip
    status = kube.core.read_namespaced_pod("crasher", namespace).status.container_statuses[0]
    assert status.last_state.terminated.exit_code == 3
    assert ("BackOff", "Back-off restarting failed container") in events(kube, namespace, "crasher")
    assert kube.core.read_namespaced_pod_log("crasher", namespace, previous=True) == "crashing\n"


def test_on_failure_pod_succeeds_after_a_retry(kube: Kube, namespace: str) -> None:
    marker = f"/tmp/kfj-retry-{namespace}"
    script = f"test -f {marker} && rm {marker} && echo second && exit 0; touch {marker}; echo first; exit 1"
    kube.core.create_namespaced_pod(namespace, pod("retry", ["sh", "-c", script], restartPolicy="OnFailure"))
    wait_for(lambda: phase(kube, namespace, "retry") == "Succeeded", 30, "Succeeded after a retry")
    assert kube.core.read_namespaced_pod("retry", namespace).status.container_statuses[0].restart_count == 1


def test_unpullable_image_shows_image_pull_back_off(kube: Kube, namespace: str) -> None:
    manifest = pod("nopull", ["true"], container={"image": "example.com/app:does-not-exist"})
    kube.core.create_namespaced_pod(namespace, manifest)
    wait_for(lambda: waiting_reason(kube, namespace, "nopull") == "ImagePullBackOff", 30, "ImagePullBackOff")
    reasons = [reason for reason, _ in events(kube, namespace, "nopull")]
    assert "Failed" in reasons and "BackOff" in reasons
    assert phase(kube, namespace, "nopull") == "Pending"


def test_follow_streams_logs_until_the_container_exits(kube: Kube, namespace: str) -> None:
    script = "for i in 1 2 3; do echo line $i; sleep 0.5; done"
    kube.core.create_namespaced_pod(namespace, pod("streamer", ["sh", "-c", script]))
    wait_for(lambda: phase(kube, namespace, "streamer") in ("Running", "Succeeded"), 30, "started")
    time.sleep(0.2)
    response = kube.core.read_namespaced_pod_log("streamer", namespace, follow=True, _preload_content=False)
    try:
        body = response.data.decode()
    finally:
        response.release_conn()
    assert body == "line 1\nline 2\nline 3\n"
