"""KFP runs in the Lab stay current and can be cancelled: the server asks KFP (the stand-in).

Reading a run (detail, or the list) refreshes an unfinished KFP run from its server, throttled;
``POST runs/{id}/cancel`` terminates it through the server's KFP connection. The stand-in checks
every request against ``kfp_server_api``'s models and records the terminations.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kfjupyter.server.kfp_live import REFRESH_S
from tests.integration.test_kfp_api import CELLS, IMAGE, TOKEN, configured_lab, post
from tests.support.jupyter import LabServer
from tests.support.kfp_context import checked_standin
from tests.support.kfp_standin import KfpStandIn
from tests.support.notebooks import write_notebook

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def standin() -> Iterator[KfpStandIn]:
    with checked_standin(token=TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, standin: KfpStandIn) -> Iterator[LabServer]:
    home = tmp_path_factory.mktemp("kfplive")
    settings = {"kfp_host": standin.url, "kfp_token": TOKEN, "kfp_image": IMAGE}
    with configured_lab(home, settings) as server:
        write_notebook(server.root / "live.ipynb", CELLS)
        yield server


def submitted(lab: LabServer, standin: KfpStandIn) -> tuple[str, str]:
    status, body = post(lab, "/kfjupyter/api/notebooks/submit", {"path": "live.ipynb"})
    assert status == 202, body
    assert standin.runs[body["kfp_run_id"]].state == "PENDING"
    return body["run_id"], body["kfp_run_id"]


def until(read: Callable[[], Any], wanted: Callable[[Any], bool], timeout: float = 4 * REFRESH_S + 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if wanted(value):
            return value
        assert time.monotonic() < deadline, f"still {value!r}"
        time.sleep(0.3)


def detail(lab: LabServer, run_id: str) -> dict[str, Any]:
    status, body = lab.request(f"/kfjupyter/api/runs/{run_id}", token=lab.token)
    assert status == 200, body
    return dict(body)


def test_the_detail_follows_the_kfp_run(lab: LabServer, standin: KfpStandIn) -> None:
    run_id, kfp_id = submitted(lab, standin)
    assert detail(lab, run_id)["run"]["status"] == "pending"
    standin.start_run(kfp_id)
    until(lambda: detail(lab, run_id)["run"]["status"], lambda s: s == "running")
    standin.run_task(kfp_id, "step-make")
    standin.run_task(kfp_id, "step-train")
    standin.finish_run(kfp_id)
    body = until(lambda: detail(lab, run_id), lambda b: b["run"]["status"] == "succeeded")
    assert body["external_id"] == kfp_id
    assert [(s["name"], s["status"]) for s in body["steps"]] == [
        ("make", "succeeded"),
        ("train", "succeeded"),
    ]


def test_the_list_refreshes_its_unfinished_kfp_runs(lab: LabServer, standin: KfpStandIn) -> None:
    run_id, kfp_id = submitted(lab, standin)
    standin.start_run(kfp_id)
    standin.run_task(kfp_id, "step-make", exits=(3,))
    assert standin.finish_run(kfp_id) == "FAILED"

    def listed() -> dict[str, Any]:
        status, body = lab.request("/kfjupyter/api/runs?backend=kfp&limit=50", token=lab.token)
        assert status == 200, body
        return next(r for r in body["runs"] if r["id"] == run_id)

    run = until(listed, lambda r: r["status"] == "failed")
    # This server has no cluster to read the pod from; the message says which step and why it is short.
    assert run["error"] == (
        "step 'make' failed: the step failed on Kubeflow Pipelines; its pod could not be read from the cluster"
    )
    steps = {s["name"]: s["status"] for s in detail(lab, run_id)["steps"]}
    assert steps == {"make": "failed", "train": "upstream_failed"}


def test_cancel_terminates_the_kfp_run_which_ends_cancelled(lab: LabServer, standin: KfpStandIn) -> None:
    run_id, kfp_id = submitted(lab, standin)
    standin.start_run(kfp_id)
    standin.run_task(kfp_id, "step-make", exits=(None,))
    until(lambda: detail(lab, run_id)["run"]["status"], lambda s: s == "running")
    status, body = post(lab, f"/kfjupyter/api/runs/{run_id}/cancel", None)
    assert status == 202, body
    assert standin.terminated == [kfp_id] and standin.runs[kfp_id].state == "CANCELING"

    status, body = post(lab, f"/kfjupyter/api/runs/{run_id}/cancel", None)  # still canceling: asked once
    assert status == 202, body
    assert standin.terminated == [kfp_id] and standin.errors == []

    assert standin.finish_run(kfp_id) == "FAILED"  # a real server ends a terminated run FAILED
    body = until(lambda: detail(lab, run_id), lambda b: b["run"]["status"] == "cancelled")
    assert {s["name"]: s["status"] for s in body["steps"]} == {"make": "cancelled", "train": "cancelled"}
    assert body["run"]["error"] is None
    status, body = post(lab, f"/kfjupyter/api/runs/{run_id}/cancel", None)
    assert status == 409 and "cancelled" in body["message"], body
    assert standin.terminated == [kfp_id]


def test_a_run_that_ended_on_kfp_is_not_terminated(lab: LabServer, standin: KfpStandIn) -> None:
    run_id, kfp_id = submitted(lab, standin)
    standin.start_run(kfp_id)
    standin.run_task(kfp_id, "step-make")
    standin.run_task(kfp_id, "step-train")
    standin.finish_run(kfp_id)  # ended on KFP; this server has not refreshed it yet
    status, body = post(lab, f"/kfjupyter/api/runs/{run_id}/cancel", None)
    assert status == 409 and "succeeded" in body["message"], body
    assert kfp_id not in standin.terminated
