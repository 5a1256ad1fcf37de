"""Every front door submits and syncs Kubeflow Pipelines runs through :mod:`kfjupyter.runs`.

``kfjupyter submit`` and ``runs sync`` against the KFP API stand-in (real HTTP, the real kfp
client), compared with what the Lab's path (:func:`kfjupyter.runs.operations.start_run`) does.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from kfjupyter.cli.main import main
from kfjupyter.errors import InvalidInput, UpstreamFailed
from kfjupyter.kfp.connection import KfpConnection
from kfjupyter.runs.backend import NotebookStart, RunContext
from kfjupyter.runs.kfp_submit import submit_checked
from kfjupyter.runs.operations import start_run, submit_to_kfp, sync_kfp_runs
from kfjupyter.store import Engine, KfpDetails, RunStore, RunUpdate
from tests.support.kfp_standin import KfpStandIn
from tests.support.notebooks import cell, write_notebook

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_kfp_context")]
IMAGE = "registry.example/kfjupyter:1"


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    return write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell("n = 3", "pipeline-parameters"),
            cell("data = list(range(n))", "step:make"),
            cell("total = sum(data)", "step:train"),
        ],
    )


def test_the_cli_and_the_labs_path_submit_the_same_package(
    standin: KfpStandIn, notebook: Path, store: RunStore, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["submit", str(notebook), "--kfp-host", standin.url, "--image", IMAGE, "-p", "n=7", "--json"]
    assert main(args) == 0
    body = json.loads(capsys.readouterr().out)
    assert set(body) == {"run_id", "kfp_run_id", "link", "pipeline_id", "experiment_id", "status"}

    ctx = RunContext(store, kfp=lambda: KfpConnection(host=standin.url))
    start = NotebookStart(notebook, {"n": "7"}, engine=Engine.KFP, image=IMAGE)
    lab = start_run(ctx, start).wait()

    cli = store.get_run(body["run_id"])
    assert (cli.backend, lab.backend) == (Engine.KFP, Engine.KFP)
    assert cli.parameters == lab.parameters == {"n": 7}
    assert cli.notebook == lab.notebook == str(notebook.resolve())
    packages = [(store.run_dir(r.id) / "pipeline.yaml").read_bytes() for r in (cli, lab)]
    assert packages[0] == packages[1]
    remote = [standin.runs[r.external_id or ""].runtime_config.parameters for r in (cli, lab)]
    assert remote == [{"n": 7}, {"n": 7}]


def test_a_step_without_an_image_is_refused_before_any_upload_in_each_front_doors_words(
    standin: KfpStandIn, notebook: Path, store: RunStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["submit", str(notebook), "--kfp-host", standin.url, "--json"]) == 2
    out, err = capsys.readouterr()
    assert "kfjupyter: error: step 'make' has no container image: pass --image, set $KFJUPYTER_IMAGE" in err
    assert json.loads(out)["error"]["reason"] == "no_image"

    lab = RunContext(store, kfp=lambda: KfpConnection(host=standin.url))
    with pytest.raises(InvalidInput, match="Image field of the Compile dialog") as raised:
        start_run(lab, NotebookStart(notebook, engine=Engine.KFP))
    assert raised.value.reason == "no_image"
    assert standin.pipelines == {} and standin.runs == {} and store.list_runs() == []


def test_a_notebook_mistake_is_invalid_input_and_a_kfp_refusal_an_upstream_failure(
    tmp_path: Path, notebook: Path, store: RunStore
) -> None:
    folder = tmp_path / "shipped"
    folder.mkdir()
    (folder / "big.csv").write_text("1\n" * 600_000)
    shipping = write_notebook(folder / "nb.ipynb", [cell("rows = open('big.csv').read()", "step:make")])
    with KfpStandIn(token="s3cret") as server:
        conn = KfpConnection(host=server.url)
        with pytest.raises(InvalidInput, match=r"big\.csv") as mistake:
            submit_checked(store, conn, shipping, {}, None, IMAGE, ship_limit=1_000_000)
        assert not isinstance(mistake.value, UpstreamFailed)
        with pytest.raises(UpstreamFailed, match=r"refused .* pass --token") as refused:
            submit_checked(store, conn, notebook, {}, None, IMAGE)
        assert refused.value.exit_status == 2
        assert server.pipelines == {} and server.errors == []
    assert store.list_runs() == []


def test_submit_to_kfp_answers_the_kfp_ids_and_refuses_a_local_start(
    standin: KfpStandIn, notebook: Path, store: RunStore
) -> None:
    ctx = RunContext(store, kfp=lambda: KfpConnection(host=standin.url))
    with pytest.raises(InvalidInput, match="not to local"):
        submit_to_kfp(ctx, NotebookStart(notebook, image=IMAGE))
    submitted = submit_to_kfp(ctx, NotebookStart(notebook, engine=Engine.KFP, image=IMAGE))
    assert submitted.kfp_run_id in standin.runs
    assert store.get_run(submitted.record.id).external_id == submitted.kfp_run_id
    assert submitted.link == f"{standin.url}/#/runs/details/{submitted.kfp_run_id}"


def test_runs_sync_asks_the_given_host_instead_of_the_recorded_one(
    standin: KfpStandIn, notebook: Path, store: RunStore, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = RunContext(store, kfp=lambda: KfpConnection(host=standin.url))
    record = submit_to_kfp(ctx, NotebookStart(notebook, engine=Engine.KFP, image=IMAGE)).record
    moved = KfpDetails(host="http://127.0.0.1:9", link="http://127.0.0.1:9/#/runs")  # nothing listens there
    store.update_run(record.id, RunUpdate(details=moved))
    kfp_id = record.external_id or ""
    standin.start_run(kfp_id)
    standin.run_task(kfp_id, "step-make")
    standin.run_task(kfp_id, "step-train")
    assert standin.finish_run(kfp_id) == "SUCCEEDED"

    report = sync_kfp_runs(RunContext(store), timeout_s=1)  # every unfinished run, at its recorded host
    assert report.synced == [] and "http://127.0.0.1:9" in report.errors[0]
    nothing = sync_kfp_runs(RunContext(store), [], timeout_s=1)  # no runs asked: none, not every one
    assert (nothing.synced, nothing.errors) == ([], [])
    assert main(["runs", "sync", record.id, "--no-logs"]) == 1
    assert "could not read KFP run" in capsys.readouterr().err

    assert main(["runs", "sync", record.id, "--no-logs", "--kfp-host", standin.url]) == 0
    assert capsys.readouterr().out.split() == [record.id, "succeeded", kfp_id]
    assert [s.status for s in store.get_steps(record.id)] == ["succeeded", "succeeded"]
    assert sync_kfp_runs(RunContext(store)).synced == []  # nothing unfinished left


def test_submit_watch_follows_the_run_to_its_end(
    standin: KfpStandIn, notebook: Path, store: RunStore, capsys: pytest.CaptureFixture[str]
) -> None:
    def kfp_runs_it() -> None:  # what the cluster does once the run is there
        deadline = time.monotonic() + 30
        while not standin.runs and time.monotonic() < deadline:
            time.sleep(0.05)
        (kfp_id,) = standin.runs
        time.sleep(0.5)  # the watch most likely sees it pending first
        standin.start_run(kfp_id)
        standin.run_task(kfp_id, "step-make")
        standin.run_task(kfp_id, "step-train")
        standin.finish_run(kfp_id)

    cluster = threading.Thread(target=kfp_runs_it)
    cluster.start()
    args = ["submit", str(notebook), "--kfp-host", standin.url, "--image", IMAGE, "--watch", "--json"]
    try:
        assert main(args) == 0
    finally:
        cluster.join()
    out, err = capsys.readouterr()
    body = json.loads(out)
    assert body["status"] == "succeeded" and store.get_run(body["run_id"]).status == "succeeded"
    lines = err.splitlines()  # the kfp client's own lines come first
    first = lines.index(f"run {body['run_id']} (KFP {body['kfp_run_id']}): {body['link']}")
    states = [line.split()[0] for line in lines[first + 1 :]]  # one line per change the watch saw
    assert states[-1] == "succeeded" and set(states) <= {"pending", "running", "succeeded"}
    assert lines[-1].split() == ["succeeded", "make=succeeded", "train=succeeded"]
