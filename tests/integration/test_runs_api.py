"""The runs REST API of a real jupyter server: real notebook runs in real subprocesses."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest

from kfjupyter.server.models import ArtifactList, LogText, MetricHistory, RunDetail, RunList, RunStarted
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import wait_for_end

ENDPOINTS = [
    ("GET", "/kfjupyter/api/runs"),
    ("GET", "/kfjupyter/api/runs/x-1"),
    ("DELETE", "/kfjupyter/api/runs/x-1"),
    ("GET", "/kfjupyter/api/runs/x-1/logs/step"),
    ("GET", "/kfjupyter/api/runs/x-1/metrics"),
    ("GET", "/kfjupyter/api/runs/x-1/artifacts"),
    ("POST", "/kfjupyter/api/notebooks/run"),
]


def call(lab: LabServer, path: str, *, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    return lab.request(path, token=lab.token, method=method, body=body)


@pytest.fixture(scope="module")
def finished_run(lab_server: LabServer) -> RunDetail:
    write_notebook(
        lab_server.root / "api" / "hello.ipynb",
        [
            cell("who = 'nobody'", "pipeline-parameters"),
            cell(
                "import kfjupyter\nprint('hello from', who)\nkfjupyter.log_metric('acc', 0.5)\n"
                "kfjupyter.log_metric('acc', 0.9)",
                "step:greet",
            ),
        ],
    )
    status, body = call(
        lab_server,
        "/kfjupyter/api/notebooks/run",
        method="POST",
        body={"path": "api/hello.ipynb", "parameters": {"who": "the API"}, "no_cache": True},
    )
    assert status == 202, body
    started = RunStarted.model_validate(body)
    assert started.notebook == "api/hello.ipynb"
    return wait_for_end(lab_server, started.run_id)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_refuses_anonymous_callers(lab_server: LabServer, method: str, path: str) -> None:
    status, body = lab_server.request(path, method=method, body={} if method == "POST" else None)
    assert status == 403
    assert set(body) == {"message", "reason"}


def test_a_started_notebook_runs_to_success(finished_run: RunDetail) -> None:
    assert finished_run.run.status == "succeeded", finished_run
    assert finished_run.run.duration_s is not None and finished_run.run.duration_s >= 0
    assert finished_run.parameters["who"] == "the API"
    assert [(s.name, s.status, s.cached) for s in finished_run.steps] == [("greet", "succeeded", False)]
    assert finished_run.metrics == {"acc": 0.9}


def test_the_run_is_listed_newest_first(lab_server: LabServer, finished_run: RunDetail) -> None:
    status, body = call(lab_server, "/kfjupyter/api/runs?kind=pipeline&status=succeeded&limit=5")
    assert status == 200
    page = RunList.model_validate(body)
    assert page.runs[0].id == finished_run.run.id
    created = [r.created_at for r in page.runs]
    assert created == sorted(created, reverse=True)
    _, body = call(lab_server, "/kfjupyter/api/runs?status=failed")
    assert finished_run.run.id not in {r["id"] for r in body["runs"]}


def test_the_step_log_has_its_print_and_can_be_followed(
    lab_server: LabServer, finished_run: RunDetail
) -> None:
    path = f"/kfjupyter/api/runs/{finished_run.run.id}/logs/greet"
    status, body = call(lab_server, path)
    assert status == 200, body
    log = LogText.model_validate(body)
    assert log.exists and "hello from the API" in log.text
    _, body = call(lab_server, f"{path}?offset={log.next_offset}")
    assert body["text"] == "" and body["next_offset"] == log.next_offset


def test_metrics_and_artifacts(lab_server: LabServer, finished_run: RunDetail) -> None:
    run_id = finished_run.run.id
    status, body = call(lab_server, f"/kfjupyter/api/runs/{run_id}/metrics")
    assert status == 200
    history = MetricHistory.model_validate(body)
    assert [(m.name, m.value) for m in history.metrics] == [("acc", 0.5), ("acc", 0.9)]
    (chart,) = history.charts  # the spec %kf metrics shows for the same run
    assert chart.metric == "acc" and not chart.single and chart.spec is not None
    assert chart.spec["usermeta"] == {"kfjupyter": {"metric": "acc", "series": ["greet"]}}
    status, body = call(lab_server, f"/kfjupyter/api/runs/{run_id}/artifacts")
    assert status == 200
    assert any(a.kind == "log" and a.step == "greet" for a in ArtifactList.model_validate(body).artifacts)


def test_delete_removes_the_run(lab_server: LabServer) -> None:
    write_notebook(lab_server.root / "api" / "gone.ipynb", [cell("x = 1", "step:one")])
    status, body = call(
        lab_server, "/kfjupyter/api/notebooks/run", method="POST", body={"path": "api/gone.ipynb"}
    )
    assert status == 202, body
    run_id = body["run_id"]
    wait_for_end(lab_server, run_id)
    status, _ = call(lab_server, f"/kfjupyter/api/runs/{run_id}", method="DELETE")
    assert status == 204
    status, body = call(lab_server, f"/kfjupyter/api/runs/{run_id}")
    assert status == 404 and "message" in body


@pytest.mark.parametrize(
    "path",
    [
        "/kfjupyter/api/runs/no-such-run",
        "/kfjupyter/api/runs/no-such-run/logs/greet",
        "/kfjupyter/api/runs/no-such-run/metrics",
        "/kfjupyter/api/runs/no-such-run/artifacts",
    ],
)
def test_unknown_runs_are_json_404s(lab_server: LabServer, path: str) -> None:
    status, body = call(lab_server, path)
    assert status == 404
    assert set(body) == {"message", "reason"} and body["reason"].endswith("not_found")


def test_unknown_step_is_a_404(lab_server: LabServer, finished_run: RunDetail) -> None:
    status, body = call(lab_server, f"/kfjupyter/api/runs/{finished_run.run.id}/logs/nope")
    assert status == 404 and "nope" in body["message"]


@pytest.mark.parametrize(
    ("path", "statuses"),
    [
        ("../x.ipynb", {403}),
        ("api/../../x.ipynb", {403}),
        ("/etc/passwd.ipynb", {400}),
        ("notes.txt", {400}),
        ("missing.ipynb", {404}),
    ],
)
def test_notebook_paths_are_confined_to_the_root(
    lab_server: LabServer, path: str, statuses: set[int]
) -> None:
    outside = lab_server.root.parent / "x.ipynb"
    write_notebook(outside, [cell("x = 1", "step:one")])
    status, body = call(lab_server, "/kfjupyter/api/notebooks/run", method="POST", body={"path": path})
    assert status in statuses, body
    assert body["message"].startswith("path:")


def test_a_symlink_out_of_the_root_is_refused(lab_server: LabServer) -> None:
    outside = write_notebook(lab_server.root.parent / "secret.ipynb", [cell("x = 1", "step:one")])
    link = lab_server.root / "link.ipynb"
    if not link.exists():
        link.symlink_to(outside)
    status, _ = call(lab_server, "/kfjupyter/api/notebooks/run", method="POST", body={"path": "link.ipynb"})
    assert status == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "path"),
        ({"path": 3}, "path"),
        ({"path": "a.ipynb", "parameters": {"x": 1}}, "parameters.x"),
        ({"path": "a.ipynb", "parameters": {"--x": "1"}}, "parameters"),
        ({"path": "a.ipynb", "no_cache": "maybe"}, "no_cache"),
        ({"path": "a.ipynb", "surprise": True}, "surprise"),
    ],
)
def test_bad_bodies_are_400s_naming_the_field(lab_server: LabServer, body: Any, field: str) -> None:
    status, reply = call(lab_server, "/kfjupyter/api/notebooks/run", method="POST", body=body)
    assert status == 400
    assert field in reply["message"]


def test_broken_json_is_a_400(lab_server: LabServer) -> None:
    status, reply = call(lab_server, "/kfjupyter/api/notebooks/run", method="POST", body=b"{nope")
    assert status == 400 and "JSON" in reply["message"]


def test_an_unknown_parameter_is_a_400_with_the_cli_message(lab_server: LabServer) -> None:
    write_notebook(lab_server.root / "api" / "params.ipynb", [cell("x = 1", "step:one")])
    status, reply = call(
        lab_server,
        "/kfjupyter/api/notebooks/run",
        method="POST",
        body={"path": "api/params.ipynb", "parameters": {"nope": "1"}},
    )
    assert status == 400
    assert "nope" in reply["message"]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=201", "offset=-1", "status=bogus", "kind=other", "limit=abc", "colour=red"]
)
def test_bad_list_queries_are_400s(lab_server: LabServer, query: str) -> None:
    status, reply = call(lab_server, f"/kfjupyter/api/runs?{query}")
    assert status == 400
    assert query.split("=")[0] in reply["message"]


def test_log_offset_must_be_a_number(lab_server: LabServer, finished_run: RunDetail) -> None:
    step = urllib.parse.quote("greet")
    status, reply = call(lab_server, f"/kfjupyter/api/runs/{finished_run.run.id}/logs/{step}?offset=x")
    assert status == 400 and "offset" in reply["message"]


def test_list_ignores_jupyterlab_cache_busters_and_token_arguments(lab_server: LabServer) -> None:
    status, body = lab_server.request(f"/kfjupyter/api/runs?limit=3&1795623759852&token={lab_server.token}")
    assert status == 200, body
    assert body["limit"] == 3
