"""Submit and track through the real ``kfp.Client`` / ``kfp_server_api`` against the KFP API stand-in.

No KFP server can run here; :mod:`tests.support.kfp_standin` serves the v2beta1 endpoints over real
HTTP and validates every request and response against the ``kfp_server_api`` models.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kfjupyter.cli.main import main
from kfjupyter.errors import Conflict, InvalidInput
from kfjupyter.kfp.connection import KfpConnection
from kfjupyter.kfp.submit import submit_notebook
from kfjupyter.kfp.sync import sync_kfp_runs
from kfjupyter.kfp.terminate import terminate_run
from kfjupyter.store import KfpDetails, RunStore
from tests.support.kfp_standin import ContractError, KfpStandIn, parse_model
from tests.support.notebooks import cell, write_notebook

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_kfp_context")]
IMAGE = "registry.example/kfjupyter:1"


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    return write_notebook(
        tmp_path / "Train Model.ipynb",
        [
            cell("n = 3\nlabel = 'a'", "pipeline-parameters"),
            cell("data = list(range(n))", "step:make"),
            cell("total = sum(data)", "step:train"),
        ],
    )


def finish(standin: KfpStandIn, run_id: str, train: int = 0) -> str:
    """Run both steps (``train`` exiting with that code) and end the run as its workflow ends."""
    standin.run_task(run_id, "step-make")
    standin.run_task(run_id, "step-train", exits=(train,))
    return standin.finish_run(run_id)


def test_submit_uploads_starts_and_records_a_kfp_run(
    standin: KfpStandIn, notebook: Path, store: RunStore
) -> None:
    conn = KfpConnection(host=standin.url)
    first = submit_notebook(notebook, conn, store=store, overrides=["n=5"], experiment="nbs", image=IMAGE)
    second = submit_notebook(notebook, conn, store=store, experiment="nbs", image=IMAGE)

    assert len(standin.pipelines) == 1 and len(standin.versions) == 2 and len(standin.experiments) == 1
    (pipeline,) = standin.pipelines.values()
    assert pipeline.display_name == "train-model"
    kfp_run = standin.runs[first.kfp_run_id]
    assert kfp_run.runtime_config.parameters == {"n": 5, "label": "a"}
    assert kfp_run.experiment_id == first.experiment_id
    assert standin.runs[second.kfp_run_id].pipeline_version_reference.pipeline_version_id in standin.versions

    record = store.get_run(first.record.id)
    assert (record.backend, record.external_id, record.owner_pid) == ("kfp", first.kfp_run_id, None)
    assert isinstance(record.details, KfpDetails) and record.details.host == standin.url
    assert first.link == f"{standin.url}/#/runs/details/{first.kfp_run_id}"
    assert [(s.name, s.status) for s in store.get_steps(record.id)] == [
        ("make", "pending"),
        ("train", "pending"),
    ]
    assert store.mark_interrupted(alive=lambda pid: False) == []
    assert (store.run_dir(record.id) / "pipeline.yaml").read_text(encoding="utf-8").startswith("components:")


def test_sync_tracks_states_and_steps_over_http(standin: KfpStandIn, notebook: Path, store: RunStore) -> None:
    done = submit_notebook(notebook, KfpConnection(host=standin.url), store=store, image=IMAGE)
    standin.start_run(done.kfp_run_id)
    standin.run_task(done.kfp_run_id, "step-make", exits=(None,))
    report = sync_kfp_runs(store)
    assert report.errors == [] and [r.status for r in report.synced] == ["running"]
    assert [s.status for s in store.get_steps(done.record.id)] == ["running", "pending"]

    standin.complete_task(done.kfp_run_id, "step-make")
    standin.run_task(done.kfp_run_id, "step-train", exits=(1,))
    assert standin.finish_run(done.kfp_run_id) == "FAILED"
    (record,) = sync_kfp_runs(store).synced  # no cluster access: the message says so
    steps = {s.name: s for s in store.get_steps(done.record.id)}
    assert (steps["make"].status, steps["train"].status) == ("succeeded", "failed")
    assert record.status == "failed" and "could not be read" in (steps["train"].error or "")
    assert sync_kfp_runs(store).synced == []  # nothing unfinished left


def test_an_unreachable_server_is_reported_not_raised(notebook: Path, store: RunStore) -> None:
    with KfpStandIn() as server:
        done = submit_notebook(notebook, KfpConnection(host=server.url), store=store, image=IMAGE)
    report = sync_kfp_runs(store, timeout_s=1)
    assert report.synced == [] and "could not read KFP run" in report.errors[0]
    assert store.get_run(done.record.id).status == "pending"


def test_token_and_cookie_reach_the_server(
    notebook: Path, store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with KfpStandIn(token="s3cret", cookie="authservice_session=abc") as server:
        conn = KfpConnection(host=server.url, cookie="authservice_session=abc")
        with pytest.raises(InvalidInput, match=r"refused .* pass --token"):
            submit_notebook(notebook, conn, store=store, image=IMAGE)
        monkeypatch.setenv("KF_PIPELINES_TOKEN", "s3cret")
        done = submit_notebook(notebook, conn, store=store, image=IMAGE)
        server.start_run(done.kfp_run_id)
        finish(server, done.kfp_run_id)
        assert sync_kfp_runs(store, cookie=conn.cookie).synced[0].status == "succeeded"


def test_the_cli_submits_and_runs_list_and_show_sync(
    standin: KfpStandIn,
    notebook: Path,
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["submit", str(notebook), "--kfp-host", standin.url, "--image", IMAGE, "-p", "n=7", "--json"]
    assert main(args) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["status"] == "pending" and body["link"].endswith(body["kfp_run_id"])
    assert standin.runs[body["kfp_run_id"]].runtime_config.parameters["n"] == 7

    standin.start_run(body["kfp_run_id"])
    standin.run_task(body["kfp_run_id"], "step-make", exits=(None,))
    assert main(["runs", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)["runs"]
    assert (listed["id"], listed["backend"], listed["status"]) == (body["run_id"], "kfp", "running")

    standin.complete_task(body["kfp_run_id"], "step-make")
    standin.run_task(body["kfp_run_id"], "step-train")
    standin.finish_run(body["kfp_run_id"])
    assert main(["runs", "show", body["run_id"]]) == 0
    out = capsys.readouterr().out
    assert f"run {body['run_id']}  succeeded" in out and "(kfp)" in out
    assert main(["runs", "show", body["run_id"], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [(s["name"], s["status"], s["duration_s"]) for s in shown["steps"]] == [
        ("make", "succeeded", 2.0),  # the stand-in's workflow clock ticks a second per node event
        ("train", "succeeded", 3.0),
    ]
    assert main(["runs", "sync", body["run_id"], "--no-logs"]) == 0
    assert "succeeded" in capsys.readouterr().out


def test_the_cli_finds_the_host_where_the_magics_and_the_server_do(
    standin: KfpStandIn,
    notebook: Path,
    home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KF_PIPELINES_ENDPOINT", "http://127.0.0.1:9")  # second in line: not used
    monkeypatch.setenv("KFJUPYTER_KFP_HOST", standin.url)
    assert main(["submit", str(notebook), "--image", IMAGE, "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["kfp_run_id"] in standin.runs and body["link"].startswith(standin.url)
    monkeypatch.delenv("KFJUPYTER_KFP_HOST")
    monkeypatch.delenv("KF_PIPELINES_ENDPOINT")
    assert main(["submit", str(notebook), "--image", IMAGE]) != 0
    assert "no Kubeflow Pipelines host; pass --kfp-host or set $KFJUPYTER_KFP_HOST" in capsys.readouterr().err


def test_the_standin_rejects_bodies_outside_the_published_models() -> None:
    assert parse_model(b'{"display_name": "x", "experiment_id": "e"}', "V2beta1Run").display_name == "x"
    with pytest.raises(ContractError, match="pipelineSpec"):
        parse_model(b'{"display_name": "x", "pipelineSpec": {}}', "V2beta1Run")


def test_a_run_terminated_on_kfp_shows_cancelled_in_the_cli(
    standin: KfpStandIn, notebook: Path, home: Path, capsys: pytest.CaptureFixture[str], store: RunStore
) -> None:
    done = submit_notebook(notebook, KfpConnection(host=standin.url), store=store, image=IMAGE)
    standin.start_run(done.kfp_run_id)
    standin.run_task(done.kfp_run_id, "step-make", exits=(None,))
    conn = KfpConnection(host=standin.url)
    assert terminate_run(store.get_run(done.record.id), conn) == done.kfp_run_id
    assert standin.runs[done.kfp_run_id].state == "CANCELING"
    assert terminate_run(store.get_run(done.record.id), conn) == done.kfp_run_id  # canceling: not asked again
    assert standin.terminated == [done.kfp_run_id]

    assert main(["runs", "list", "--json"]) == 0  # the list's refresh sees CANCELING
    (listed,) = json.loads(capsys.readouterr().out)["runs"]
    assert listed["status"] == "running"
    assert standin.finish_run(done.kfp_run_id) == "FAILED"
    assert main(["runs", "show", done.record.id]) == 0
    out = capsys.readouterr().out
    assert f"run {done.record.id}  cancelled" in out
    assert [
        line.split()[:2]
        for line in out.splitlines()
        if line.startswith("  make") or line.startswith("  train")
    ] == [
        ["make", "cancelled"],
        ["train", "cancelled"],
    ]
    with pytest.raises(Conflict, match="cancelled"):
        terminate_run(store.get_run(done.record.id), conn)


def test_submit_ships_the_notebooks_files_and_pins_its_imports(
    standin: KfpStandIn,
    tmp_path: Path,
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import importlib.metadata

    import yaml

    from kfjupyter.kfp.payload import KfpStep

    folder = tmp_path / "shipped"
    folder.mkdir()
    (folder / "helper.py").write_text("def f():\n    return 1\n")
    (folder / "big.csv").write_text("1\n" * 600_000)
    nb = write_notebook(
        folder / "nb.ipynb",
        [cell("import yaml\nfrom helper import f\nx = f()\nrows = open('big.csv').read()", "step:make")],
    )
    base = ["submit", str(nb), "--kfp-host", standin.url, "--image", IMAGE, "--json"]
    assert main([*base, "--ship-limit", "1MB"]) != 0  # 1.2 MB of files: within the default 5 MB only
    err = capsys.readouterr().err
    assert "big.csv (1.2 MB, step make)" in err and "--ship-limit" in err
    assert main([*base, "--packages", "check"]) == 0
    body = json.loads(capsys.readouterr().out)
    package = yaml.safe_load((home / "runs" / body["run_id"] / "pipeline.yaml").read_text(encoding="utf-8"))
    default = package["components"]["comp-step-make"]["inputDefinitions"]["parameters"]["step_job"][
        "defaultValue"
    ]
    step = KfpStep.model_validate_json(default)
    assert [f.path for f in step.files] == ["big.csv", "helper.py"]
    assert step.expected_packages == [f"PyYAML=={importlib.metadata.version('PyYAML')}"]
