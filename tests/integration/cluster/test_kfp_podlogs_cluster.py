"""KFP step logs and failures kept in the run store, read through the real API from pods the kubelet ran.

The second test runs a whole KFP run end to end: the KFP stand-in creates the run's pods on this
cluster as Argo would for a KFP 2.x server (labels, node-name annotations, container ``main``,
driver pods, a retried step), and tracking finds them, keeps their logs and the failure message.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.cli.main import main
from kfjupyter.cluster.config import ClusterState
from kfjupyter.k8s.client import Kube
from kfjupyter.k8s.logs import PodLogs
from kfjupyter.kfp.connection import KfpConnection
from kfjupyter.kfp.podlogs import PodTask, persist_pod_logs
from kfjupyter.kfp.steppods import KubernetesRunPods
from kfjupyter.kfp.submit import submit_notebook
from kfjupyter.kfp.sync import sync_kfp_runs
from kfjupyter.store import RunRecord, StepRecord, open_store
from tests.integration.cluster.kube_helpers import phase, pod, wait_for
from tests.integration.test_kfp_api import CELLS, IMAGE, TOKEN, configured_lab, post
from tests.support.kfp_standin import KfpStandIn
from tests.support.notebooks import cell, write_notebook


def test_pod_logs_outlive_the_pod(kube: Kube, namespace: str, tmp_path: Path) -> None:
    script = "for i in range(3): print('task line', i, flush=True)"
    kube.core.create_namespaced_pod(namespace, pod("task-pod", [sys.executable, "-c", script]))
    wait_for(lambda: phase(kube, namespace, "task-pod") == "Succeeded", 60, "the task pod to finish")
    source = PodLogs(kube)
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


def test_a_kfp_run_tracked_end_to_end_from_its_step_pods(
    kube: Kube,
    namespace: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stand-in runs the workflow's pods (drivers too) here; tracking finds them by label and node name."""
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("KFJUPYTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(tmp_path / "no-sa-token"))
    for name in ("KF_PIPELINES_TOKEN", "KF_PIPELINES_COOKIE", "KF_PIPELINES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    notebook = write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell("n = 3", "pipeline-parameters"),
            cell("data = list(range(n))", "step:load_data"),
            cell("model = sum(data)", "step:train"),
            cell("print(model)", "step:report"),
        ],
    )
    with KfpStandIn(kube=kube, namespace=namespace) as standin, open_store() as store:
        conn = KfpConnection(host=standin.url, namespace=namespace)
        done = submit_notebook(notebook, conn, store=store, image="registry.example/kfjupyter:1")
        kfp_id = done.kfp_run_id
        standin.start_run(kfp_id)
        (load,) = standin.run_task(kfp_id, "step-load-data", logs=("loaded 3 rows",))
        first, second = standin.run_task(
            kfp_id, "step-train", exits=(1, 0), logs=("oom, retrying", "trained")
        )
        (report,) = standin.run_task(
            kfp_id, "step-report", exits=(2,), logs=("writing report\nKeyError: 'accuracy'",)
        )
        assert standin.finish_run(kfp_id) == "FAILED"
        assert first.startswith(standin.workflows[kfp_id].name + "-retry-system-container-impl-")
        assert load.startswith(standin.workflows[kfp_id].name + "-system-container-impl-")
        labelled = kube.core.list_namespaced_pod(namespace, label_selector=f"pipeline/runid={kfp_id}").items
        assert len(labelled) == 8  # root driver, three step drivers, four executor attempts

        report_ = sync_kfp_runs(store, [done.record.id], pod_logs=KubernetesRunPods(kube))
        assert report_.errors == [] and report_.synced[0].status == "failed"
        steps = {s.name: s for s in store.get_steps(done.record.id)}
        texts = {name: strip(store.read_log(done.record.id, name).text) for name in steps}
        assert texts == {
            "load_data": ["loaded 3 rows"],
            "train": ["oom, retrying", "trained"],
            "report": ["writing report", "KeyError: 'accuracy'"],
        }
        assert (steps["train"].status, steps["train"].attempt) == ("succeeded", 2)
        assert steps["report"].error == (
            "the step's container exited with code 2: writing report\nKeyError: 'accuracy'"
        )
        for pod_name in (load, first, second, report):  # the pods go; the logs stay
            kube.core.delete_namespaced_pod(pod_name, namespace, grace_period_seconds=0)
        assert main(["runs", "show", done.record.id]) == 0
    out = capsys.readouterr().out
    assert f"run {done.record.id}  failed" in out and "KeyError: 'accuracy'" in out
    assert "report" in out and "upstream_failed" not in out


def strip(text: str) -> list[str]:
    """Log lines without their RFC 3339 timestamps."""
    return [line.split(" ", 1)[1] for line in text.splitlines()]


def test_the_lab_shows_a_failed_kfp_steps_message_and_keeps_its_log(
    kube: Kube, cluster: ClusterState, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Jupyter server reads the run's pods through its kubeconfig while it refreshes the run."""
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    settings = {"kfp_host": "", "kfp_token": TOKEN, "kfp_image": IMAGE, "kfp_namespace": namespace}
    with KfpStandIn(token=TOKEN, kube=kube, namespace=namespace) as standin:
        settings["kfp_host"] = standin.url
        with configured_lab(tmp_path / "lab", settings) as lab:
            write_notebook(lab.root / "nb.ipynb", CELLS)
            status, body = post(lab, "/kfjupyter/api/notebooks/submit", {"path": "nb.ipynb"})
            assert status == 202, body
            run_id, kfp_id = body["run_id"], body["kfp_run_id"]
            standin.start_run(kfp_id)
            standin.run_task(kfp_id, "step-make", logs=("made the data",))
            standin.run_task(
                kfp_id, "step-train", exits=(1,), logs=("Traceback...\nZeroDivisionError: division by zero",)
            )
            assert standin.finish_run(kfp_id) == "FAILED"

            def detail() -> dict[str, Any]:
                code, reply = lab.request(f"/kfjupyter/api/runs/{run_id}", token=lab.token)
                assert code == 200, reply
                return dict(reply)

            body = wait_for(lambda: (b := detail())["run"]["status"] == "failed" and b, 60, "the failed run")
            steps = {s["name"]: s for s in body["steps"]}
            assert steps["train"]["error"] == (
                "the step's container exited with code 1: Traceback...\nZeroDivisionError: division by zero"
            )
            assert body["run"]["error"] == f"step 'train' failed: {steps['train']['error']}"
            code, log = lab.request(f"/kfjupyter/api/runs/{run_id}/logs/make", token=lab.token)
            assert code == 200 and "made the data" in str(log), log
    assert standin.errors == []
