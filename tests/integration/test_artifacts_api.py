"""Artifact download, run cancel and the DAG edges of the REST API, against a real jupyter server."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.server.models import ArtifactList, CancelRequested, RunDetail, RunStarted
from kfjupyter.store import ArtifactRecord, open_store
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def call(lab: LabServer, path: str, *, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    return lab.request(path, token=lab.token, method=method, body=body)


def fetch(lab: LabServer, path: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` and return status, headers and the raw body (not JSON)."""
    headers = {"Authorization": f"token {token}"} if token else {}
    req = urllib.request.Request(f"{lab.base}{path}", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def start(lab: LabServer, notebook: str) -> str:
    status, body = call(
        lab, "/kfjupyter/api/notebooks/run", method="POST", body={"path": notebook, "no_cache": True}
    )
    assert status == 202, body
    return RunStarted.model_validate(body).run_id


def wait_for(lab: LabServer, run_id: str, done: Any, timeout: float = 120) -> RunDetail:
    deadline = time.monotonic() + timeout
    while True:
        status, body = call(lab, f"/kfjupyter/api/runs/{run_id}")
        assert status == 200, body
        detail = RunDetail.model_validate(body)
        if done(detail):
            return detail
        assert time.monotonic() < deadline, f"run {run_id}: {detail.run.status}"
        time.sleep(0.3)


def ended(detail: RunDetail) -> bool:
    return detail.run.status not in ("pending", "running")


def store_home(lab: LabServer) -> Path:
    return lab.root.parent / "kfjupyter"


@pytest.fixture(scope="module")
def plotted(lab_server: LabServer) -> RunDetail:
    write_notebook(
        lab_server.root / "art" / "plot.ipynb",
        [
            cell(
                "import pandas as pd\nframe = pd.DataFrame({'x': [1, 2, 3], 'y': [2.0, 4.0, 8.0]})",
                "step:load",
            ),
            cell("import matplotlib.pyplot as plt\nplt.plot(frame['x'], frame['y'])", "step:plot"),
            cell("total = float(frame['y'].sum())\nprint(total)", "step:total"),
        ],
    )
    return wait_for(lab_server, start(lab_server, "art/plot.ipynb"), ended)


def test_steps_carry_their_upstream_edges(plotted: RunDetail) -> None:
    assert plotted.run.status == "succeeded", plotted
    edges = {s.name: s.upstream for s in plotted.steps}
    assert edges == {"load": [], "plot": ["load"], "total": ["load"]}


def test_a_figure_downloads_as_png(lab_server: LabServer, plotted: RunDetail) -> None:
    run_id = plotted.run.id
    _, body = call(lab_server, f"/kfjupyter/api/runs/{run_id}/artifacts")
    artifacts = ArtifactList.model_validate(body).artifacts
    figure = next(a for a in artifacts if a.kind == "figure")
    assert figure.step == "plot" and figure.media_type == "image/png"
    status, headers, data = fetch(
        lab_server,
        f"/kfjupyter/api/runs/{run_id}/artifacts/plot/{figure.name}/download",
        lab_server.token,
    )
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in headers["Content-Security-Policy"]
    assert data.startswith(PNG_MAGIC) and len(data) == figure.size


def test_a_figure_asked_as_an_attachment_downloads_as_one(lab_server: LabServer, plotted: RunDetail) -> None:
    run_id = plotted.run.id
    _, body = call(lab_server, f"/kfjupyter/api/runs/{run_id}/artifacts")
    figure = next(a for a in ArtifactList.model_validate(body).artifacts if a.kind == "figure")
    path = f"/kfjupyter/api/runs/{run_id}/artifacts/plot/{figure.name}/download?attachment=1"
    status, headers, data = fetch(lab_server, path, lab_server.token)
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"].startswith('attachment; filename="')
    assert data.startswith(PNG_MAGIC)
    assert fetch(lab_server, path, None)[0] == 403


def test_a_value_artifact_has_a_dataframe_preview(lab_server: LabServer, plotted: RunDetail) -> None:
    _, body = call(lab_server, f"/kfjupyter/api/runs/{plotted.run.id}/artifacts")
    frame = next(a for a in ArtifactList.model_validate(body).artifacts if a.name == "frame")
    assert frame.kind == "value" and frame.preview["shape"] == [3, 2]
    assert isinstance(frame.preview["head"], list) and len(frame.preview["head"]) == 3


def test_download_refuses_anonymous_callers(lab_server: LabServer, plotted: RunDetail) -> None:
    status, _, data = fetch(
        lab_server, f"/kfjupyter/api/runs/{plotted.run.id}/artifacts/plot/figure-1/download"
    )
    assert status == 403 and not data.startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    "tail",
    [
        "plot/nope/download",
        "nope/figure-1/download",
        "..%2F..%2Fkfjupyter.db/figure-1/download",
        "plot/..%2F..%2F..%2Fkfjupyter.db/download",
        "..%2Fplot/figure-1/download",
        "plot/%2E%2E/download",
        "../../../../etc/passwd/download",
    ],
)
def test_traversal_and_unknown_artifacts_are_refused(
    lab_server: LabServer, plotted: RunDetail, tail: str
) -> None:
    status, _, data = fetch(
        lab_server, f"/kfjupyter/api/runs/{plotted.run.id}/artifacts/{tail}", lab_server.token
    )
    assert 400 <= status < 500, (status, data[:200])
    assert not data.startswith(PNG_MAGIC)


def test_unknown_run_download_is_a_404(lab_server: LabServer) -> None:
    status, _, _ = fetch(
        lab_server, "/kfjupyter/api/runs/no-such-run/artifacts/a/b/download", lab_server.token
    )
    assert status == 404


def test_a_symlink_out_of_the_run_directory_is_refused(lab_server: LabServer, plotted: RunDetail) -> None:
    run_id = plotted.run.id
    secret = lab_server.root.parent / "secret.txt"
    secret.write_text("not for the browser")
    (store_home(lab_server) / "outside.txt").write_text("not for the browser either")
    with open_store(store_home(lab_server)) as store:
        link = store.run_dir(run_id) / "escape.txt"
        if not link.is_symlink():
            link.symlink_to(secret)
        store.add_artifact(
            ArtifactRecord(
                run_id=run_id, step="plot", name="escape", kind="file", path=f"runs/{run_id}/escape.txt"
            )
        )
        # A record pointing elsewhere under the store home is refused as well.
        store.add_artifact(
            ArtifactRecord(run_id=run_id, step="plot", name="elsewhere", kind="file", path="outside.txt")
        )
    for name in ("escape", "elsewhere"):
        status, _, data = fetch(
            lab_server, f"/kfjupyter/api/runs/{run_id}/artifacts/plot/{name}/download", lab_server.token
        )
        assert status == 403, data
        assert b"not for the browser" not in data


def test_cancel_stops_a_running_step(lab_server: LabServer) -> None:
    write_notebook(
        lab_server.root / "art" / "sleepy.ipynb",
        [cell("import time\nprint('sleeping', flush=True)\ntime.sleep(300)", "step:sleepy")],
    )
    run_id = start(lab_server, "art/sleepy.ipynb")
    wait_for(lab_server, run_id, lambda d: any(s.status == "running" for s in d.steps), timeout=60)
    status, body = call(lab_server, f"/kfjupyter/api/runs/{run_id}/cancel", method="POST")
    assert status == 202, body
    assert CancelRequested.model_validate(body).run_id == run_id
    detail = wait_for(lab_server, run_id, ended, timeout=30)
    assert detail.run.status == "cancelled", detail
    assert detail.steps[0].status in ("cancelled", "failed"), detail.steps
    status, body = call(lab_server, f"/kfjupyter/api/runs/{run_id}/cancel", method="POST")
    assert status == 409 and "cancelled" in body["message"]


def test_cancel_of_an_unknown_run_is_a_404(lab_server: LabServer) -> None:
    status, body = call(lab_server, "/kfjupyter/api/runs/no-such-run/cancel", method="POST")
    assert status == 404 and set(body) == {"message", "reason"}


def test_cancel_refuses_anonymous_callers(lab_server: LabServer) -> None:
    status, _ = lab_server.request("/kfjupyter/api/runs/no-such-run/cancel", method="POST", body={})
    assert status == 403
