"""Trainer version detection and the mapping of CR conditions and pods onto the job status."""

from __future__ import annotations

from typing import Any

import pytest

from kfjupyter.training.k8s_status import job_state, node_rank, pod_selector, trainer_version
from kfjupyter.training.k8s_sync import _stamp


def _crd(*fields: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    props = {f: {"type": "object"} for f in ("runtimeRef", "trainer", *fields)}
    schema = {"openAPIV3Schema": {"properties": {"spec": {"properties": props}}}}
    return {
        "metadata": {"labels": labels or {}},
        "spec": {"versions": [{"name": "v1alpha1", "schema": schema}]},
    }


@pytest.mark.parametrize(
    ("public", "crd", "expected", "how"),
    [
        ({"kubeflow_trainer_version": "v2.1.0"}, _crd("runtimePatches"), "v2.1", "ConfigMap"),
        ({"kubeflow_trainer_version": "2.0.1"}, _crd(), "v2.0", "ConfigMap"),
        ({"kubeflow_trainer_version": "v2.7.0"}, _crd(), "v2.3", "ConfigMap"),
        (None, _crd("runtimePatches"), "v2.3", "runtimePatches"),
        (None, _crd("podTemplateOverrides"), "v2.1", "podTemplateOverrides"),
        (None, _crd("podSpecOverrides"), "v2.0", "podSpecOverrides"),
        (
            {"kubeflow_trainer_version": "dev"},
            _crd(labels={"app.kubernetes.io/version": "v2.2.0"}),
            "v2.2",
            "label",
        ),
        (None, {"spec": {"versions": [{"name": "v1alpha1"}]}}, "v2.3", "assuming the newest"),
    ],
)
def test_trainer_version(public: dict[str, str] | None, crd: dict[str, Any], expected: str, how: str) -> None:
    version, found_by = trainer_version(public, crd)
    assert version == expected and how in found_by


def _pod(name: str, phase: str, labels: dict[str, str], exit_code: int | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase}
    if exit_code is not None:
        status["containerStatuses"] = [
            {"name": "node", "state": {"terminated": {"exitCode": exit_code, "reason": "Error"}}}
        ]
    return {"metadata": {"name": name, "labels": labels}, "status": status}


def _node(index: int, phase: str, exit_code: int | None = None) -> dict[str, Any]:
    labels = {
        "jobset.sigs.k8s.io/jobset-name": "j",
        "jobset.sigs.k8s.io/replicatedjob-name": "node",
        "batch.kubernetes.io/job-completion-index": str(index),
    }
    return _pod(f"j-node-0-{index}", phase, labels, exit_code)


def _cr(*conditions: tuple[str, str]) -> dict[str, Any]:
    return {
        "status": {
            "conditions": [{"type": t, "status": s, "reason": t, "message": f"m-{t}"} for t, s in conditions]
        }
    }


def test_trainjob_status_table() -> None:
    assert job_state("TrainJob", _cr(), [], 2).status == "Created"
    assert job_state("TrainJob", _cr(), [_node(0, "Running"), _node(1, "Pending")], 2).status == "Created"
    running = job_state("TrainJob", _cr(), [_node(1, "Running"), _node(0, "Running")], 2)
    assert running.status == "Running" and [n.node for n in running.nodes] == [0, 1]
    done = job_state("TrainJob", _cr(("Complete", "True")), [_node(0, "Succeeded")], 1)
    assert done.status == "Complete" and done.nodes[0].finished and not done.nodes[0].started
    failed = job_state("TrainJob", _cr(("Complete", "False"), ("Failed", "True")), [_node(0, "Failed", 3)], 1)
    assert (failed.status, failed.reason, failed.error) == ("Failed", "Failed", "m-Failed")
    assert (
        failed.nodes[0].exit_code == 3
        and failed.nodes[0].started
        and "exit code 3" in (failed.nodes[0].error or "")
    )
    assert job_state("TrainJob", _cr(("Suspended", "True")), [], 1).status == "Created"


def test_initializer_pods_are_not_nodes() -> None:
    init = _pod("j-init", "Running", {"jobset.sigs.k8s.io/replicatedjob-name": "dataset-initializer"})
    assert node_rank("TrainJob", init) is None
    assert job_state("TrainJob", _cr(), [init], 1).status == "Created"


def test_pytorchjob_ranks_and_status() -> None:
    def replica(kind: str, index: int, phase: str) -> dict[str, Any]:
        labels = {
            "training.kubeflow.org/replica-type": kind,
            "training.kubeflow.org/replica-index": str(index),
        }
        return _pod(f"p-{kind}-{index}", phase, labels)

    pods = [replica("worker", 1, "Running"), replica("master", 0, "Running"), replica("worker", 0, "Running")]
    assert [node_rank("PyTorchJob", p) for p in pods] == [2, 0, 1]
    assert job_state("PyTorchJob", _cr(("Created", "True")), pods[:2], 3).status == "Created"
    assert job_state("PyTorchJob", _cr(("Running", "True")), pods[:2], 3).status == "Running"
    assert job_state("PyTorchJob", _cr(("Succeeded", "True")), pods, 3).status == "Complete"
    assert pod_selector("PyTorchJob", "p") == "training.kubeflow.org/job-name=p"
    assert pod_selector("TrainJob", "j") == "jobset.sigs.k8s.io/jobset-name=j"


def test_log_line_timestamps() -> None:
    ts, text = _stamp("2026-11-25T17:26:14.123456000Z loss=0.5")
    assert text == "loss=0.5" and ts is not None and abs(ts - 1795627574.123456) < 1e-3
    assert _stamp("no stamp here") == (None, "no stamp here")


def _started(index: int, phase: str, started: str, finished: str | None = None) -> dict[str, Any]:
    pod = _node(index, phase)
    state: dict[str, Any] = {"running": {"startedAt": started}}
    if finished is not None:
        state = {"terminated": {"exitCode": 0, "startedAt": started, "finishedAt": finished}}
    pod["status"]["containerStatuses"] = [{"name": "node", "state": state}]
    return pod


def test_a_node_whose_trainer_started_makes_the_job_and_its_ranks_running_with_times() -> None:
    # node 0 logs while node 1 still waits for its image: the job runs (it is not "Created")
    state = job_state(
        "TrainJob", _cr(), [_started(0, "Running", "2026-11-25T17:26:14Z"), _node(1, "Pending")], 2
    )
    assert state.status == "Running"
    first, second = state.nodes
    assert (first.status, first.started_at, first.finished_at) == ("Running", 1795627574.0, None)
    assert (second.status, second.started_at) == ("Created", None)
    # the trainer container runs while the pod is still Pending (a sidecar or a slow status): Running
    pending = job_state("TrainJob", _cr(), [_started(0, "Pending", "2026-11-25T17:26:14Z")], 1)
    assert pending.status == "Running" and pending.nodes[0].status == "Running"
    done = job_state(
        "TrainJob",
        _cr(("Complete", "True")),
        [_started(0, "Succeeded", "2026-11-25T17:26:14Z", "2026-11-25T17:26:20.5Z")],
        1,
    )
    assert (done.nodes[0].started_at, done.nodes[0].finished_at) == (1795627574.0, 1795627580.5)
    assert _started(0, "Running", "not a time")["status"]["containerStatuses"]
    assert job_state("TrainJob", _cr(), [_started(0, "Running", "not a time")], 1).nodes[0].started_at is None
