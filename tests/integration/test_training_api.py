"""The training REST API of a real jupyter server: real script jobs in real local processes."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.k8s.access import find_access
from kfjupyter.server.models import CancelRequested, LogText, RunDetail
from kfjupyter.server.models_training import (
    TrainingCancelled,
    TrainingDetail,
    TrainingList,
    TrainingStarted,
)
from tests.support.jupyter import LabServer

pytestmark = pytest.mark.integration

TINY = """\
import sys
print("tiny job args", sys.argv[1:], flush=True)
for step in range(3):
    print(f"loss={1.0 / (step + 1):.3f}", flush=True)
print("tiny job done", flush=True)
"""
SLEEPY = """\
import time
print("sleeping", flush=True)
time.sleep(120)
"""
ENDPOINTS = [
    ("GET", "/kfjupyter/api/training"),
    ("POST", "/kfjupyter/api/training"),
    ("GET", "/kfjupyter/api/training/x-1"),
    ("GET", "/kfjupyter/api/training/x-1/logs/0"),
    ("POST", "/kfjupyter/api/training/x-1/cancel"),
]


def call(lab: LabServer, path: str, *, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    return lab.request(path, token=lab.token, method=method, body=body)


def script(lab: LabServer, name: str, source: str) -> str:
    path = lab.root / "train" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return f"train/{name}"


def start(lab: LabServer, **body: Any) -> TrainingStarted:
    status, reply = call(lab, "/kfjupyter/api/training", method="POST", body=body)
    assert status == 202, reply
    return TrainingStarted.model_validate(reply)


def wait_finished(lab: LabServer, job_id: str, timeout: float = 60) -> TrainingDetail:
    deadline = time.monotonic() + timeout
    while True:
        status, body = call(lab, f"/kfjupyter/api/training/{job_id}")
        assert status == 200, body
        detail = TrainingDetail.model_validate(body)
        if detail.job.status in ("Complete", "Failed"):
            return detail
        assert time.monotonic() < deadline, f"job {job_id} still {detail.job.status}"
        time.sleep(0.2)


def wait_running(lab: LabServer, job_id: str, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status, body = call(lab, f"/kfjupyter/api/training/{job_id}/logs/0")
        assert status == 200, body
        if text in body["text"]:
            return
        assert time.monotonic() < deadline, f"job {job_id} never printed {text!r}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def tiny_job(lab_server: LabServer) -> TrainingDetail:
    started = start(
        lab_server, script=script(lab_server, "tiny.py", TINY), args=["--lr", "0.1"], name="tiny-api"
    )
    assert (started.name, started.backend) == ("tiny-api", "local")
    return wait_finished(lab_server, started.run_id)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_training_endpoint_refuses_anonymous_callers(
    lab_server: LabServer, method: str, path: str
) -> None:
    status, body = lab_server.request(path, method=method, body={} if method == "POST" else None)
    assert status == 403
    assert set(body) == {"message", "reason"}


def test_a_script_job_completes_with_its_log_and_metrics(
    lab_server: LabServer, tiny_job: TrainingDetail
) -> None:
    job = tiny_job.job
    assert (job.status, job.backend, job.num_nodes, job.procs_per_node, job.gpus_per_node) == (
        "Complete",
        "local",
        1,
        1,
        0,
    )
    assert tiny_job.script is not None and tiny_job.script.endswith("train/tiny.py")
    assert tiny_job.args == ["--lr", "0.1"]
    assert [(r.rank, r.step, r.status, r.exit_code) for r in tiny_job.ranks] == [(0, "rank-0", "Complete", 0)]
    assert tiny_job.metrics == ["loss"]

    status, body = call(lab_server, f"/kfjupyter/api/training/{job.id}/logs/0")
    assert status == 200, body
    log = LogText.model_validate(body)
    assert log.exists and log.step == "rank-0"
    assert "tiny job args ['--lr', '0.1']" in log.text and "tiny job done" in log.text
    _, body = call(lab_server, f"/kfjupyter/api/training/{job.id}/logs/0?offset={log.next_offset}")
    assert body["text"] == "" and body["next_offset"] == log.next_offset

    status, body = call(lab_server, f"/kfjupyter/api/runs/{job.id}/metrics")
    assert status == 200
    assert [m["value"] for m in body["metrics"]] == [1.0, 0.5, 0.333]


def test_jobs_are_listed_newest_first(lab_server: LabServer, tiny_job: TrainingDetail) -> None:
    status, body = call(lab_server, "/kfjupyter/api/training?limit=50")
    assert status == 200, body
    jobs = TrainingList.model_validate(body).jobs
    assert tiny_job.job.id in [j.id for j in jobs]
    created = [j.created_at for j in jobs]
    assert created == sorted(created, reverse=True)
    status, body = call(lab_server, "/kfjupyter/api/training?limit=0")
    assert status == 400 and "limit" in body["message"]


def test_a_sleeping_job_is_cancelled(lab_server: LabServer) -> None:
    started = start(lab_server, script=script(lab_server, "sleepy.py", SLEEPY))
    assert started.name == "sleepy"
    wait_running(lab_server, started.run_id, "sleeping")
    status, body = call(lab_server, f"/kfjupyter/api/training/{started.run_id}/cancel", method="POST")
    assert status == 202, body
    cancelled = TrainingCancelled.model_validate(body)
    assert (cancelled.run_id, cancelled.status) == (started.run_id, "Failed")
    detail = wait_finished(lab_server, started.run_id)
    assert detail.job.reason == "Cancelled"
    status, body = call(lab_server, f"/kfjupyter/api/runs/{started.run_id}")
    assert RunDetail.model_validate(body).run.status == "cancelled"


def test_the_runs_cancel_button_stops_a_training_job(lab_server: LabServer) -> None:
    started = start(lab_server, script=script(lab_server, "sleepy.py", SLEEPY), name="sleepy-runs")
    wait_running(lab_server, started.run_id, "sleeping")
    status, body = call(lab_server, f"/kfjupyter/api/runs/{started.run_id}/cancel", method="POST")
    assert status == 202, body
    assert CancelRequested.model_validate(body).run_id == started.run_id
    assert wait_finished(lab_server, started.run_id).job.reason == "Cancelled"
    status, body = call(lab_server, f"/kfjupyter/api/runs/{started.run_id}/cancel", method="POST")
    assert status == 409 and "cancelled" in body["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "script"),
        ({"script": "train/tiny.py", "num_nodes": 0}, "num_nodes"),
        ({"script": "train/tiny.py", "procs_per_node": "two"}, "procs_per_node"),
        ({"script": "train/tiny.py", "memory": "lots"}, "memory"),
        ({"script": "train/tiny.py", "env": {"1BAD": "x"}}, "env"),
        ({"script": "train/tiny.py", "name": "Not A Name"}, "name"),
        ({"script": "train/tiny.py", "backend": "moon"}, "backend"),
        ({"script": "train/tiny.py", "args": [1]}, "args"),
        ({"script": "train/tiny.py", "surprise": 1}, "surprise"),
        ({"script": "train/tiny.txt"}, "script"),
        ({"script": "train/tiny.py", "gpus_per_node": 64}, "gpus_per_node"),
    ],
)
def test_bad_training_bodies_are_400s_naming_the_field(
    lab_server: LabServer, tiny_job: TrainingDetail, body: dict[str, Any], field: str
) -> None:
    status, reply = call(lab_server, "/kfjupyter/api/training", method="POST", body=body)
    assert status == 400, reply
    assert field in reply["message"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [("../x.py", 403), ("train/../../x.py", 403), ("/etc/x.py", 400), ("train/missing.py", 404)],
)
def test_scripts_are_confined_to_the_root(lab_server: LabServer, path: str, expected: int) -> None:
    (lab_server.root.parent / "x.py").write_text("print('outside')\n")
    status, reply = call(lab_server, "/kfjupyter/api/training", method="POST", body={"script": path})
    assert status == expected, reply
    assert reply["message"].startswith("script:")


def test_a_symlinked_script_out_of_the_root_is_refused(lab_server: LabServer, tmp_path: Path) -> None:
    outside = tmp_path / "evil.py"
    outside.write_text("print('outside')\n")
    link = lab_server.root / "train" / "evil.py"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(outside)
    status, _ = call(lab_server, "/kfjupyter/api/training", method="POST", body={"script": "train/evil.py"})
    assert status == 403


def test_an_unavailable_kubernetes_backend_is_a_409(lab_server: LabServer, tiny_job: TrainingDetail) -> None:
    if find_access(os.environ) is not None:
        pytest.skip("cluster access is configured here")
    body = {"script": "train/tiny.py", "backend": "kubernetes", "image": "python:3.12"}
    status, reply = call(lab_server, "/kfjupyter/api/training", method="POST", body=body)
    assert status == 409, reply
    assert "Kubernetes training backend is not available" in reply["message"]


def test_unknown_jobs_and_ranks_are_404s(lab_server: LabServer, tiny_job: TrainingDetail) -> None:
    for path in ("/kfjupyter/api/training/no-such-job", "/kfjupyter/api/training/no-such-job/logs/0"):
        status, body = call(lab_server, path)
        assert status == 404 and set(body) == {"message", "reason"}
    status, body = call(lab_server, f"/kfjupyter/api/training/{tiny_job.job.id}/logs/7")
    assert status == 404 and "rank 7" in body["message"]
    status, body = call(lab_server, f"/kfjupyter/api/training/{tiny_job.job.id}/logs/x")
    assert status == 400 and "rank" in body["message"]
    status, body = call(lab_server, f"/kfjupyter/api/training/{tiny_job.job.id}/logs/0?offset=-1")
    assert status == 400 and "offset" in body["message"]
