"""KFP task logs kept in the run store: read through the real API from a pod the kubelet ran."""

from __future__ import annotations

import sys
from pathlib import Path

from kfjupyter.k8s.client import Kube
from kfjupyter.kfp.podlogs import KubernetesPodLogs, PodTask, persist_pod_logs
from kfjupyter.store import RunRecord, StepRecord, open_store
from tests.integration.cluster.kube_helpers import phase, pod, wait_for


def test_pod_logs_outlive_the_pod(kube: Kube, namespace: str, tmp_path: Path) -> None:
    script = "for i in range(3): print('task line', i, flush=True)"
    kube.core.create_namespaced_pod(namespace, pod("task-pod", [sys.executable, "-c", script]))
    wait_for(lambda: phase(kube, namespace, "task-pod") == "Succeeded", 60, "the task pod to finish")
    source = KubernetesPodLogs(kube.core)
    with open_store(tmp_path / "home") as store:
        run = store.create_run(RunRecord(kind="pipeline", name="p", backend="kfp", external_id="kfp-1"))
        store.upsert_step(StepRecord(run_id=run.id, name="task"))
        task = PodTask(step="task", pod="task-pod", finished=True)
        assert persist_pod_logs(store, run.id, [task], source, namespace) > 0
        kube.core.delete_namespaced_pod("task-pod", namespace, grace_period_seconds=0)
        wait_for(
            lambda: "task-pod"
            not in [p.metadata.name for p in kube.core.list_namespaced_pod(namespace).items],
            30,
            "deletion",
        )
        assert persist_pod_logs(store, run.id, [task], source, namespace) == 0  # nothing new, nothing lost
        text = store.read_log(run.id, "task").text
    assert [line.split(" ", 1)[1] for line in text.splitlines()] == [
        "task line 0",
        "task line 1",
        "task line 2",
    ]
