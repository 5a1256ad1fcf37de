"""The plan, re-run from a step and what loading a step defines, over REST on a real jupyter server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from kfjupyter.server.models_pipelines import PlanResult, StepValues
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import wait_for_end

pytestmark = pytest.mark.integration
API = "/kfjupyter/api"


def call(lab: LabServer, path: str, *, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    return lab.request(f"{API}{path}", token=lab.token, method=method, body=body)


def set_cell(nb: Path, index: int, source: str) -> None:
    book = nbformat.read(str(nb), as_version=4)
    book.cells[index].source = source
    nbformat.write(book, str(nb))


@pytest.fixture(scope="module")
def failed_run(lab_server: LabServer) -> tuple[Path, str]:
    nb = write_notebook(
        lab_server.root / "iterate" / "chain.ipynb",
        [
            cell("import numpy as np", "imports"),
            cell("scale = 2", "pipeline-parameters"),
            cell("%%step load\ndata = np.arange(4.0)  # iterate-api"),
            cell("%%step prep\nx = data * scale"),
            cell("%%step train\nmodel = x.sum()\nassert model < 0, 'not negative'"),
        ],
    )
    status, reply = call(lab_server, "/notebooks/run", method="POST", body={"path": "iterate/chain.ipynb"})
    assert status == 202, reply
    detail = wait_for_end(lab_server, reply["run_id"])
    assert detail.run.status == "failed"
    return nb, detail.run.id


def test_the_plan_names_the_changed_cell_and_respects_from(
    lab_server: LabServer, failed_run: tuple[Path, str]
) -> None:
    _, run_id = failed_run
    status, body = call(lab_server, "/notebooks/plan", method="POST", body={"path": "iterate/chain.ipynb"})
    assert status == 200, body
    plan = PlanResult.model_validate(body)
    assert [(s.name, s.action) for s in plan.steps] == [
        ("load", "cached"),
        ("prep", "cached"),
        ("train", "run"),
    ]
    assert plan.steps[2].reasons == [f"it failed in run {run_id}; nothing of it was cached"]

    status, body = call(
        lab_server,
        "/notebooks/plan",
        method="POST",
        body={"path": "iterate/chain.ipynb", "parameters": {"scale": "3"}, "only": "prep"},
    )
    assert status == 200, body
    assert body == {
        "steps": [
            {"name": "load", "action": "cached", "reasons": [f"unchanged since run {run_id}"]},
            {
                "name": "prep",
                "action": "run",
                "reasons": [
                    "--only prep: it runs again",
                    f"parameter 'scale' changed (2 -> 3) since run {run_id}",
                ],
            },
        ]
    }
    status, body = call(
        lab_server, "/notebooks/plan", method="POST", body={"path": "iterate/chain.ipynb", "only": "x"}
    )
    assert status == 400 and body["message"].startswith("--only: the notebook has no step 'x'")
    status, body = call(lab_server, "/notebooks/plan", method="POST", body={"path": "../outside.ipynb"})
    assert status in (403, 404), body
    status, body = call(
        lab_server,
        "/notebooks/plan",
        method="POST",
        body={"path": "iterate/chain.ipynb", "from_step": "a\nb"},
    )
    assert status == 400 and "from_step" in body["message"]


def test_load_values_describe_the_step_and_the_code_loads_them_in_a_kernel(
    lab_server: LabServer, failed_run: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, run_id = failed_run
    status, body = call(lab_server, f"/runs/{run_id}/steps/train/values")
    assert status == 200, body
    values = StepValues.model_validate(body)
    assert [(v.name, v.kind, v.source) for v in values.values] == [("x", "input", "prep")]
    status, body = call(lab_server, f"/runs/{run_id}/steps/prep/values")
    assert [(v["name"], v["kind"]) for v in body["values"]] == [("scale", "parameter"), ("data", "input")]
    status, body = call(lab_server, f"/runs/{run_id}/steps/prep/values?outputs=true")
    assert [(v["name"], v["kind"]) for v in body["values"]] == [("x", "output")]

    # The code the Lab runs in the notebook's kernel, run in a real IPython shell against the same store.
    monkeypatch.setenv("KFJUPYTER_HOME", str(lab_server.root.parent / "kfjupyter"))
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell(config=config)
    try:
        result = shell.run_cell(values.code)
        assert result.success
        assert shell.user_ns["x"].tolist() == [0.0, 2.0, 4.0, 6.0]
    finally:
        shell.cleanup()

    status, body = call(lab_server, f"/runs/{run_id}/steps/nope/values")
    assert (
        status == 404
        and body["message"] == f"run {run_id} has no step 'nope'; its steps are: load, prep, train"
    )
    status, body = call(lab_server, f"/runs/{run_id}/steps/train/values?outputs=true")
    assert status == 400 and "has no outputs to load: it failed" in body["message"]
    status, body = call(lab_server, f"/runs/{run_id}/steps/train/values?outputs=maybe")
    assert status == 400 and "outputs" in body["message"]


def test_rerun_from_the_failed_step_takes_the_steps_above_from_the_run(
    lab_server: LabServer, failed_run: tuple[Path, str]
) -> None:
    nb, run_id = failed_run
    set_cell(nb, 2, "%%step load\ndata = np.arange(5.0)  # iterate-api, changed")  # not in the cache now
    set_cell(nb, 4, "%%step train\nmodel = -x.sum()")
    status, body = call(lab_server, f"/runs/{run_id}/rerun", method="POST", body={"from_step": "train"})
    assert status == 202, body
    detail = wait_for_end(lab_server, body["run_id"])
    assert detail.run.status == "succeeded", detail
    assert {s.name: (s.status, s.cached) for s in detail.steps} == {
        "load": ("cached", True),
        "prep": ("cached", True),
        "train": ("succeeded", False),
    }
    status, body = call(lab_server, f"/runs/{run_id}/rerun", method="POST", body={"from_step": "nope"})
    assert status == 400 and "--from: the notebook has no step 'nope'" in body["message"]
