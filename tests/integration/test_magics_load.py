"""``%kf load`` and ``%kf run --from/--only/--plan`` in a real IPython shell, on real runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from tests.support.ipython import shell
from tests.support.notebooks import cell, write_notebook

__all__ = ["shell"]


@pytest.fixture
def notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KFJUPYTER_HOME", str(tmp_path / "home"))
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell("import numpy as np", "imports"),
            cell("scale = 2", "pipeline-parameters"),
            cell("%%step load\ndata = np.arange(6.0)"),
            cell("%%step prep\nx = data * scale"),
            cell("%%step train\nmodel = x.sum()\nassert model < 0, 'not negative'"),
        ],
    )
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    return nb


def _run_id(out: str) -> str:
    return out.rsplit("run ", 1)[1].split(":", 1)[0]


def test_load_defines_the_failed_steps_inputs_and_parameters(
    shell: Any, notebook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_line_magic("kf", "run")
    out = capsys.readouterr().out
    assert "train: failed" in out
    run_id = _run_id(out)

    shell.run_line_magic("kf", f"load {run_id} train")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"loaded the inputs and parameters of step 'train' (run {run_id}): x"
    assert lines[1] == "  x: memmap 6 (from step 'prep')"
    x = shell.user_ns["x"]
    assert isinstance(x, np.memmap)  # mapped, not read
    assert x.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    result = shell.run_cell("model = x.sum()\nassert model < 0, 'not negative'")  # the failure, by hand
    assert isinstance(result.error_in_exec, AssertionError)
    capsys.readouterr()  # the traceback

    shell.run_line_magic("kf", f"load {run_id} prep")
    assert capsys.readouterr().out.splitlines()[0].endswith("): scale, data")
    assert shell.user_ns["scale"] == 2 and shell.user_ns["data"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]

    shell.user_ns.pop("x")
    shell.run_line_magic("kf", f"load {run_id} prep --outputs")
    assert capsys.readouterr().out.splitlines()[0] == f"loaded the outputs of step 'prep' (run {run_id}): x"
    assert shell.user_ns["x"].tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]

    shell.run_line_magic("kf", f"load {run_id} train --outputs")
    assert capsys.readouterr().out.strip() == (
        f"kfjupyter: step 'train' of run {run_id} has no outputs to load: it failed; "
        f"load its inputs instead (`%kf load {run_id} train`)"
    )
    shell.run_line_magic("kf", f"load {run_id} nope")
    assert capsys.readouterr().out.strip() == (
        f"kfjupyter: run {run_id} has no step 'nope'; its steps are: load, prep, train"
    )
    shell.run_line_magic("kf", "load")
    assert capsys.readouterr().out.startswith(
        "kfjupyter: %kf: the following arguments are required: RUN, STEP"
    )


def test_fix_the_cell_then_run_from_the_step(
    shell: Any, notebook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_line_magic("kf", "run")
    capsys.readouterr()
    book = nbformat.read(str(notebook), as_version=4)
    book.cells[4].source = "%%step train\nmodel = -x.sum()"
    nbformat.write(book, str(notebook))

    shell.run_line_magic("kf", "run --plan --from train")
    plan = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in plan] == [["load", "cached"], ["prep", "cached"], ["train", "run"]]
    assert "cell 4 changed since run" in plan[2]

    shell.run_line_magic("kf", "run --from train")
    out = capsys.readouterr().out
    assert "load: cached" in out and "prep: cached" in out and "train: succeeded" in out
    assert out.rstrip().endswith(": succeeded")
    shell.run_line_magic("kf", "run --only nope")
    assert capsys.readouterr().out.strip().startswith("kfjupyter: --only: the notebook has no step 'nope'")


def test_a_kubeflow_pipelines_run_without_its_compiled_pipeline_says_what_load_needs(
    shell: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kfjupyter.store import RunRecord, StepRecord, open_store

    monkeypatch.setenv("KFJUPYTER_HOME", str(tmp_path / "home"))
    with open_store() as store:
        run = store.create_run(RunRecord(kind="pipeline", name="remote", backend="kfp", external_id="abc"))
        store.upsert_steps([StepRecord(run_id=run.id, name="train", status="failed")])
        package = store.run_dir(run.id) / "pipeline.yaml"
    shell.run_line_magic("kf", f"load {run.id} train")
    assert capsys.readouterr().out.strip() == (
        f"kfjupyter: run {run.id} ran on Kubeflow Pipelines but its compiled pipeline ({package}) is gone, "
        "so which artifacts its steps read is not known here; submit the notebook again (`kfjupyter submit NB`)"
    )
    assert "train" not in shell.user_ns
