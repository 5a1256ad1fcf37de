"""Many runs started at once over REST: each answer names the run its own request started.

Ten ``POST notebooks/run`` of one notebook with ten different parameter values are sent together,
then ten ``POST runs/{id}/rerun``; every reply must name a distinct run that ran with that
request's value (its recorded parameters and what its step printed).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.store import open_store
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import wait_for_end

pytestmark = pytest.mark.integration

COUNT = 10


def post(lab: LabServer, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    return lab.request(f"/kfjupyter/api/{path}", token=lab.token, method="POST", body=body)


def together(lab: LabServer, requests: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Send every request at once; the run id each reply named, in request order."""
    with ThreadPoolExecutor(len(requests)) as pool:
        replies = list(pool.map(lambda r: post(lab, *r), requests))
    for status, body in replies:
        assert status == 202, body
    return [str(body["run_id"]) for _, body in replies]


def printed_value(lab: LabServer, run_id: str) -> str:
    """The value the run's step printed to its log (``value=<n>``)."""
    with open_store(lab.root.parent / "kfjupyter") as store:
        text = store.read_log(run_id, "show", 0).text
    return text.rsplit("value=", 1)[1].split()[0]


def check_runs(lab: LabServer, run_ids: list[str], values: list[int]) -> None:
    assert len(set(run_ids)) == len(run_ids), run_ids
    for run_id, value in zip(run_ids, values, strict=True):
        detail = wait_for_end(lab, run_id, timeout=240)
        assert detail.run.status == "succeeded", detail
        assert detail.parameters["n"] == value, (run_id, detail.parameters)
        assert printed_value(lab, run_id) == str(value)


@pytest.fixture(scope="module")
def notebook(lab_server: LabServer) -> str:
    write_notebook(
        lab_server.root / "concurrent" / "values.ipynb",
        [cell("n = 0", "pipeline-parameters"), cell("print(f'value={n}')", "step:show")],
    )
    return "concurrent/values.ipynb"


def test_concurrent_starts_each_answer_their_own_run(lab_server: LabServer, notebook: str) -> None:
    values = list(range(100, 100 + COUNT))
    run_ids = together(
        lab_server,
        [
            ("notebooks/run", {"path": notebook, "parameters": {"n": str(v)}, "no_cache": True})
            for v in values
        ],
    )
    check_runs(lab_server, run_ids, values)


def test_concurrent_reruns_each_answer_their_own_run(lab_server: LabServer, notebook: str) -> None:
    status, body = post(lab_server, "notebooks/run", {"path": notebook, "parameters": {"n": "1"}})
    assert status == 202, body
    first = str(body["run_id"])
    assert wait_for_end(lab_server, first).run.status == "succeeded"
    values = list(range(200, 200 + COUNT))
    run_ids = together(lab_server, [(f"runs/{first}/rerun", {"parameters": {"n": str(v)}}) for v in values])
    assert first not in run_ids
    check_runs(lab_server, run_ids, values)


def test_a_started_run_is_in_the_store_when_the_answer_comes(lab_server: LabServer, notebook: str) -> None:
    status, body = post(lab_server, "notebooks/run", {"path": notebook, "parameters": {"n": "7"}})
    assert status == 202, body
    with open_store(Path(lab_server.root.parent / "kfjupyter")) as store:
        run = store.get_run(body["run_id"])
    assert run.parameters["n"] == 7 and run.notebook == str(lab_server.root / notebook)
    assert wait_for_end(lab_server, run.id).run.status == "succeeded"
