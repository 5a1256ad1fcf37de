"""``POST runs/{id}/rerun`` on a real jupyter server: real runs, the real cache, real training jobs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.server.models import RunDetail, RunStarted
from kfjupyter.store import RunRecord, open_store
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import wait_for_end

pytestmark = pytest.mark.integration

PARAMS = "who = 'nobody'\nn = 3\nrate = 0.25\nloud = True\ntags = ['a', 'b']"


def call(lab: LabServer, path: str, *, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    return lab.request(path, token=lab.token, method=method, body=body)


def rerun(lab: LabServer, run_id: str, body: Any = None) -> tuple[int, Any]:
    return call(
        lab, f"/kfjupyter/api/runs/{run_id}/rerun", method="POST", body=body if body is not None else {}
    )


def started(lab: LabServer, path: str, **body: Any) -> RunDetail:
    status, reply = call(lab, "/kfjupyter/api/notebooks/run", method="POST", body={"path": path, **body})
    assert status == 202, reply
    return wait_for_end(lab, reply["run_id"])


def cached(detail: RunDetail) -> dict[str, bool]:
    return {s.name: s.cached for s in detail.steps}


def store_home(lab: LabServer) -> Path:
    return lab.root.parent / "kfjupyter"


@pytest.fixture(scope="module")
def first_run(lab_server: LabServer) -> RunDetail:
    write_notebook(
        lab_server.root / "rerun" / "greet.ipynb",
        [
            cell(PARAMS, "pipeline-parameters"),
            cell("data = list(range(4))  # rerun-api prep", "step:prep"),
            cell("print('hello', who, n, rate, loud, tags, sum(data))", "step:report"),
        ],
    )
    detail = started(lab_server, "rerun/greet.ipynb", parameters={"n": "5"})
    assert detail.run.status == "succeeded", detail
    return detail


def test_rerun_with_a_changed_parameter_runs_only_the_steps_that_use_it(
    lab_server: LabServer, first_run: RunDetail
) -> None:
    status, body = rerun(lab_server, first_run.run.id, {"parameters": {"who": "again"}})
    assert status == 202, body
    again = RunStarted.model_validate(body)
    assert again.notebook == "rerun/greet.ipynb" and again.run_id != first_run.run.id
    detail = wait_for_end(lab_server, again.run_id)
    assert detail.run.status == "succeeded", detail
    assert detail.parameters == {**first_run.parameters, "who": "again"}
    assert detail.parameters["n"] == 5  # the recorded value, not the notebook's default
    assert cached(detail) == {"prep": True, "report": False}

    # Nothing changed: every step hits the cache, so every typed value round-tripped exactly.
    status, body = rerun(lab_server, again.run_id)
    assert status == 202, body
    same = wait_for_end(lab_server, body["run_id"])
    assert same.parameters == detail.parameters
    assert cached(same) == {"prep": True, "report": True}


def test_rerun_without_cache_runs_every_step(lab_server: LabServer, first_run: RunDetail) -> None:
    status, body = rerun(lab_server, first_run.run.id, {"no_cache": True})
    assert status == 202, body
    detail = wait_for_end(lab_server, body["run_id"])
    assert detail.run.status == "succeeded"
    assert cached(detail) == {"prep": False, "report": False}


def test_an_active_run_cannot_be_rerun(lab_server: LabServer) -> None:
    write_notebook(
        lab_server.root / "rerun" / "slow.ipynb",
        [cell("import time\nprint('napping', flush=True)\ntime.sleep(60)", "step:nap")],
    )
    status, body = call(
        lab_server, "/kfjupyter/api/notebooks/run", method="POST", body={"path": "rerun/slow.ipynb"}
    )
    assert status == 202, body
    run_id = body["run_id"]
    try:
        status, reply = rerun(lab_server, run_id)
        assert status == 409, reply
        assert run_id in reply["message"]
    finally:
        deadline = time.monotonic() + 60
        while not any(
            s["status"] == "running" for s in call(lab_server, f"/kfjupyter/api/runs/{run_id}")[1]["steps"]
        ):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        status, reply = call(lab_server, f"/kfjupyter/api/runs/{run_id}/cancel", method="POST")
        assert status == 202, reply
        assert wait_for_end(lab_server, run_id, timeout=30).run.status == "cancelled"


def test_a_deleted_notebook_is_a_404_naming_it(lab_server: LabServer) -> None:
    path = write_notebook(lab_server.root / "rerun" / "gone soon.ipynb", [cell("x = 1", "step:one")])
    detail = started(lab_server, "rerun/gone soon.ipynb")
    path.unlink()
    status, reply = rerun(lab_server, detail.run.id)
    assert status == 404, reply
    assert "rerun/gone soon.ipynb" in reply["message"]


def test_an_unknown_parameter_is_a_400(lab_server: LabServer, first_run: RunDetail) -> None:
    status, reply = rerun(lab_server, first_run.run.id, {"parameters": {"nope": "1"}})
    assert status == 400 and "nope" in reply["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"parameters": {"x": 1}}, "parameters.x"),
        ({"parameters": {"--x": "1"}}, "parameters"),
        ({"no_cache": "maybe"}, "no_cache"),
        ({"surprise": True}, "surprise"),
        ([], "body"),
    ],
)
def test_bad_bodies_are_400s_naming_the_field(
    lab_server: LabServer, first_run: RunDetail, body: Any, field: str
) -> None:
    status, reply = rerun(lab_server, first_run.run.id, body)
    assert status == 400, reply
    assert field in reply["message"]


def test_unknown_runs_and_anonymous_callers(lab_server: LabServer) -> None:
    status, reply = rerun(lab_server, "no-such-run")
    assert status == 404 and set(reply) == {"message", "reason"}
    status, reply = lab_server.request("/kfjupyter/api/runs/no-such-run/rerun", method="POST", body={})
    assert status == 403


def test_a_notebook_outside_the_root_is_refused(lab_server: LabServer, tmp_path: Path) -> None:
    outside = write_notebook(tmp_path / "elsewhere.ipynb", [cell("x = 1", "step:one")])
    with open_store(store_home(lab_server)) as store:
        run = store.create_run(
            RunRecord(
                kind="pipeline", name="elsewhere", notebook=str(outside), backend="local", status="failed"
            )
        )
    status, reply = rerun(lab_server, run.id)
    assert status == 403, reply


def test_a_script_training_job_is_relaunched(lab_server: LabServer) -> None:
    script = lab_server.root / "rerun" / "fit.py"
    script.write_text("import sys\nprint('fit', sys.argv[1:], flush=True)\nprint('loss=0.5')\n")
    status, body = call(
        lab_server, "/kfjupyter/api/training", method="POST", body={"script": "rerun/fit.py", "args": ["-x"]}
    )
    assert status == 202, body
    first = wait_for_end(lab_server, body["run_id"])
    assert first.run.status == "succeeded", first

    status, body = rerun(lab_server, first.run.id)
    assert status == 202, body
    again = RunStarted.model_validate(body)
    assert again.notebook == "rerun/fit.py" and again.run_id != first.run.id
    detail = wait_for_end(lab_server, again.run_id)
    assert (detail.run.kind, detail.run.name, detail.run.status) == ("training", "fit", "succeeded")
    _, log = call(lab_server, f"/kfjupyter/api/training/{again.run_id}/logs/0")
    assert "fit ['-x']" in log["text"]
    status, reply = rerun(lab_server, first.run.id, {"parameters": {"lr": "1"}})
    assert status == 400 and "parameters" in reply["message"]


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        ({"entrypoint": {"kind": "function", "function": "fit"}}, "function"),
        ({"entrypoint": {"kind": "script", "path": "/x.py", "args": []}, "env_names": ["SECRET"]}, "SECRET"),
    ],
)
def test_training_jobs_that_cannot_be_relaunched_are_409s(
    lab_server: LabServer, parameters: dict[str, Any], words: str
) -> None:
    with open_store(store_home(lab_server)) as store:
        run = store.create_run(
            RunRecord(
                kind="training", name="fn-job", backend="local", status="succeeded", parameters=parameters
            )
        )
    status, reply = rerun(lab_server, run.id)
    assert status == 409, reply
    assert words in reply["message"]
