"""``POST notebooks/compile`` and ``notebooks/submit`` on real jupyter servers, against the KFP stand-in.

No KFP server can run here: :mod:`tests.support.kfp_standin` serves the v2beta1 API over real HTTP
and checks every request against the ``kfp_server_api`` models. The servers are configured the way
an admin would, with ``c.KfJupyterApp.kfp_*`` in ``jupyter_server_config.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp.components import load_component_from_file

from kfjupyter.server.models import RunDetail
from kfjupyter.server.models_pipelines import CompileResult, SubmitResult
from tests.support.jupyter import LabServer, free_port, running_lab
from tests.support.kfp_context import checked_standin, without_kfp_context
from tests.support.kfp_standin import KfpStandIn
from tests.support.notebooks import cell, write_notebook

pytestmark = pytest.mark.integration
IMAGE = "registry.example/kfjupyter:1"
TOKEN = "s3cret"
COMPILE = "/kfjupyter/api/notebooks/compile"
SUBMIT = "/kfjupyter/api/notebooks/submit"
CELLS = [
    cell("n = 3\nlabel = 'a'", "pipeline-parameters"),
    cell("data = list(range(n))", "step:make"),
    cell("total = sum(data)\nprint(label, total)", "step:train"),
]


def post(lab: LabServer, path: str, body: Any) -> tuple[int, Any]:
    return lab.request(path, token=lab.token, method="POST", body=body)


@contextmanager
def configured_lab(
    home: Path, settings: dict[str, str], environ: dict[str, str] | None = None
) -> Iterator[LabServer]:
    """A real lab with ``c.KfJupyterApp`` settings, no user KFP context and no credentials.

    ``environ`` is set in the server's environment (the KFP variables are removed otherwise).
    """
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "jupyter_server_config.json").write_text(json.dumps({"KfJupyterApp": settings}))
    with pytest.MonkeyPatch.context() as env:
        without_kfp_context(env, home)
        for name, value in (environ or {}).items():
            env.setenv(name, value)
        with running_lab(home) as lab:
            yield lab


@pytest.fixture(scope="module")
def standin() -> Iterator[KfpStandIn]:
    with checked_standin(token=TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def kfp_lab(tmp_path_factory: pytest.TempPathFactory, standin: KfpStandIn) -> Iterator[LabServer]:
    home = tmp_path_factory.mktemp("kfplab")
    settings = {"kfp_host": standin.url, "kfp_token": TOKEN, "kfp_image": IMAGE}
    with configured_lab(home, settings) as lab:
        write_notebook(lab.root / "kfp" / "Train Model.ipynb", CELLS)
        yield lab


# -- compile ----------------------------------------------------------------------------------------


def test_compile_writes_kfp_yaml_next_to_the_notebook(kfp_lab: LabServer) -> None:
    status, body = post(kfp_lab, COMPILE, {"path": "kfp/Train Model.ipynb", "parameters": {"n": "5"}})
    assert status == 200, body
    result = CompileResult.model_validate(body)
    assert (result.path, result.steps) == ("kfp/Train Model.pipeline.yaml", 2)
    written = kfp_lab.root / result.path
    assert result.bytes == written.stat().st_size
    spec = next(yaml.safe_load_all(written.read_text()))
    assert sorted(spec["root"]["dag"]["tasks"]) == ["step-make", "step-train"]
    assert spec["root"]["inputDefinitions"]["parameters"]["n"]["defaultValue"] == 5
    component = load_component_from_file(str(written))
    assert component.name == "train-model"
    images = {e["container"]["image"] for e in spec["deploymentSpec"]["executors"].values()}
    assert images == {IMAGE}


def test_compile_to_a_chosen_output_creates_its_directory(kfp_lab: LabServer) -> None:
    status, body = post(
        kfp_lab,
        COMPILE,
        {"path": "kfp/Train Model.ipynb", "output": "out/nested/p.yml", "image": "other/image:2"},
    )
    assert status == 200, body
    assert body["path"] == "out/nested/p.yml"
    text = (kfp_lab.root / "out" / "nested" / "p.yml").read_text()
    assert "other/image:2" in text and IMAGE not in text


def test_compile_reports_lint_errors_naming_the_cell(kfp_lab: LabServer) -> None:
    write_notebook(
        kfp_lab.root / "kfp" / "broken.ipynb",
        [cell("n = 3\nprint(n)", "pipeline-parameters"), cell("x = n", "step:one")],
    )
    status, body = post(kfp_lab, COMPILE, {"path": "kfp/broken.ipynb"})
    assert status == 400, body
    assert "cell" in body["message"] and "KF301" in body["message"]
    assert not (kfp_lab.root / "kfp" / "broken.pipeline.yaml").exists()


def test_compile_without_any_image_is_a_400_naming_the_step(lab_server: LabServer) -> None:
    if os.environ.get("KFJUPYTER_IMAGE"):
        pytest.skip("KFJUPYTER_IMAGE gives every step an image")
    write_notebook(lab_server.root / "kfp" / "noimage.ipynb", CELLS)
    status, body = post(lab_server, COMPILE, {"path": "kfp/noimage.ipynb"})
    assert status == 400, body
    assert body["message"].startswith("image:") and "'make'" in body["message"]


def test_compile_of_a_notebook_without_steps_is_a_400_with_the_lint_finding(kfp_lab: LabServer) -> None:
    write_notebook(kfp_lab.root / "kfp" / "scratch.ipynb", [cell("x = 1"), cell("print(x)")])
    status, body = post(kfp_lab, COMPILE, {"path": "kfp/scratch.ipynb"})
    assert status == 400, body
    assert "KF001" in body["message"] and "no steps" in body["message"]
    assert not (kfp_lab.root / "kfp" / "scratch.pipeline.yaml").exists()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"path": "../x.ipynb"}, 403, "path"),
        ({"path": "/etc/x.ipynb"}, 400, "path"),
        ({"path": "kfp/Train Model.ipynb", "output": "../x.yaml"}, 403, "output"),
        ({"path": "kfp/Train Model.ipynb", "output": "/tmp/x.yaml"}, 400, "output"),
        ({"path": "kfp/Train Model.ipynb", "output": "kfp/x.json"}, 400, "output"),
        ({"path": "kfp/Train Model.ipynb", "output": "outside-link/x.yaml"}, 403, "output"),
        ({"path": "kfp/Train Model.ipynb", "output": "kfp"}, 400, "output"),
        ({"path": "kfp/Train Model.ipynb", "parameters": {"nope": "1"}}, 400, "nope"),
        ({"path": "kfp/Train Model.ipynb", "parameters": {"n": "many"}}, 400, "'n'"),
        ({"path": "kfp/Train Model.ipynb", "parameters": {"n": 5}}, 400, "parameters.n"),
        ({"path": "kfp/Train Model.ipynb", "extra": 1}, 400, "extra"),
        ({}, 400, "path"),
    ],
)
def test_bad_compile_requests(
    kfp_lab: LabServer, tmp_path: Path, body: dict[str, Any], status: int, field: str
) -> None:
    link = kfp_lab.root / "outside-link"
    if not link.is_symlink():
        link.symlink_to(tmp_path)
    code, reply = post(kfp_lab, COMPILE, body)
    assert code == status, reply
    assert field in reply["message"]
    assert not (tmp_path / "x.yaml").exists()


# -- submit -----------------------------------------------------------------------------------------


def test_submit_starts_a_kfp_run_and_records_it(kfp_lab: LabServer, standin: KfpStandIn) -> None:
    status, body = post(
        kfp_lab,
        SUBMIT,
        {"path": "kfp/Train Model.ipynb", "parameters": {"n": "7"}, "experiment": "notebooks"},
    )
    assert status == 202, body
    result = SubmitResult.model_validate(body)
    remote = standin.runs[result.kfp_run_id]
    assert remote.runtime_config.parameters == {"n": 7, "label": "a"}
    assert [e.display_name for e in standin.experiments.values()] == ["notebooks"]
    assert result.url == f"{standin.url}/#/runs/details/{result.kfp_run_id}"

    status, detail_body = kfp_lab.request(f"/kfjupyter/api/runs/{result.run_id}", token=kfp_lab.token)
    assert status == 200, detail_body
    detail = RunDetail.model_validate(detail_body)
    assert (detail.run.backend, detail.run.status) == ("kfp", "pending")
    assert [s.name for s in detail.steps] == ["make", "train"]


def test_the_server_finds_kfp_where_the_cli_and_magics_do(
    tmp_path_factory: pytest.TempPathFactory, standin: KfpStandIn
) -> None:
    """No kfp_host/kfp_token settings: $KFJUPYTER_KFP_HOST and $KF_PIPELINES_TOKEN, as everywhere."""
    home = tmp_path_factory.mktemp("envkfp")
    environ = {"KFJUPYTER_KFP_HOST": standin.url, "KF_PIPELINES_TOKEN": TOKEN}
    with configured_lab(home, {"kfp_image": IMAGE}, environ) as lab:
        status, health = lab.request("/kfjupyter/api/health", token=lab.token)
        assert status == 200, health
        kfp = [b for b in health["backends"] if b["name"] == "kfp"]
        assert [b["detail"] for b in kfp] == [standin.url]
        write_notebook(lab.root / "nb.ipynb", CELLS)
        status, body = post(lab, SUBMIT, {"path": "nb.ipynb"})
    assert status == 202, body
    assert SubmitResult.model_validate(body).kfp_run_id in standin.runs


def test_a_kfp_run_is_rerun_on_kfp_once_it_ended(kfp_lab: LabServer, standin: KfpStandIn) -> None:
    status, body = post(kfp_lab, SUBMIT, {"path": "kfp/Train Model.ipynb", "parameters": {"n": "4"}})
    assert status == 202, body
    first = SubmitResult.model_validate(body)
    rerun = f"/kfjupyter/api/runs/{first.run_id}/rerun"

    standin.start_run(first.kfp_run_id)
    status, reply = post(kfp_lab, rerun, {})
    assert status == 409 and "running" in reply["message"], reply  # synced from KFP first

    standin.run_task(first.kfp_run_id, "step-make")
    standin.run_task(first.kfp_run_id, "step-train")
    assert standin.finish_run(first.kfp_run_id) == "SUCCEEDED"
    status, reply = post(kfp_lab, rerun, {"no_cache": True})
    assert status == 400 and "no_cache" in reply["message"], reply
    status, reply = post(kfp_lab, rerun, {"parameters": {"label": "b"}})
    assert status == 202, reply
    assert reply["notebook"] == "kfp/Train Model.ipynb" and reply["run_id"] != first.run_id
    again = [r for r in standin.runs.values() if r.run_id != first.kfp_run_id][-1]
    assert again.runtime_config.parameters == {"n": 4, "label": "b"}


def test_submit_refused_by_kfp_is_a_502_with_the_core_message(
    kfp_lab: LabServer, standin: KfpStandIn
) -> None:
    standin.token = "rotated"
    try:
        status, body = post(kfp_lab, SUBMIT, {"path": "kfp/Train Model.ipynb"})
    finally:
        standin.token = TOKEN
    assert status == 502, body
    assert "refused" in body["message"] and "401" in body["message"]


def test_submit_checks_the_notebook_before_calling_kfp(kfp_lab: LabServer, standin: KfpStandIn) -> None:
    write_notebook(
        kfp_lab.root / "kfp" / "bad.ipynb",
        [cell("n = 3\nprint(n)", "pipeline-parameters"), cell("x = n", "step:one")],
    )
    before = len(standin.requests)
    status, body = post(kfp_lab, SUBMIT, {"path": "kfp/bad.ipynb"})
    assert status == 400 and "KF301" in body["message"], body
    status, body = post(kfp_lab, SUBMIT, {"path": "kfp/Train Model.ipynb", "parameters": {"nope": "1"}})
    assert status == 400 and "nope" in body["message"], body
    write_notebook(
        kfp_lab.root / "kfp" / "clash.ipynb",
        [cell("a = 1", "step:train"), cell("b = a", "step:train_driver")],
    )
    status, body = post(kfp_lab, SUBMIT, {"path": "kfp/clash.ipynb"})
    assert status == 400, body
    assert body["message"].startswith(
        "step 'train_driver' becomes the Kubeflow Pipelines task 'step-train-driver', the name of the driver"
    ), body
    assert len(standin.requests) == before


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"path": "../x.ipynb"}, 403, "path"),
        ({"path": "/x.ipynb"}, 400, "path"),
        ({"path": "kfp/missing.ipynb"}, 404, "path"),
        ({"path": "kfp/Train Model.ipynb", "experiment": 3}, 400, "experiment"),
        ({"path": "kfp/Train Model.ipynb", "parameters": []}, 400, "parameters"),
    ],
)
def test_bad_submit_requests(kfp_lab: LabServer, body: dict[str, Any], status: int, field: str) -> None:
    code, reply = post(kfp_lab, SUBMIT, body)
    assert code == status, reply
    assert field in reply["message"]


def test_submit_without_a_kfp_host_is_a_409(lab_server: LabServer) -> None:
    write_notebook(lab_server.root / "kfp" / "nohost.ipynb", CELLS)
    status, body = post(lab_server, SUBMIT, {"path": "kfp/nohost.ipynb"})
    assert status == 409, body
    assert body["message"].startswith(
        "No Kubeflow Pipelines endpoint is configured: set c.KfJupyterApp.kfp_host"
    )


def test_submit_to_an_unreachable_kfp_is_a_502(tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("deadkfp")
    with configured_lab(home, {"kfp_host": f"http://127.0.0.1:{free_port()}", "kfp_image": IMAGE}) as lab:
        write_notebook(lab.root / "nb.ipynb", CELLS)
        status, body = post(lab, SUBMIT, {"path": "nb.ipynb"})
    assert status == 502, body
    assert "could not connect" in body["message"] and "Kubeflow Pipelines" in body["message"]


@pytest.mark.parametrize("path", [COMPILE, SUBMIT])
def test_compile_and_submit_refuse_anonymous_callers(lab_server: LabServer, path: str) -> None:
    status, body = lab_server.request(path, method="POST", body={"path": "x.ipynb"})
    assert status == 403 and set(body) == {"message", "reason"}
