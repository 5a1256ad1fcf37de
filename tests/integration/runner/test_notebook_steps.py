"""A step that runs another notebook: locally (API and command line), cached, and in the magic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.api import run_notebook
from kfjupyter.serializers import load_value
from kfjupyter.store import RunStore
from kfjupyter.store.files import log_path
from tests.support.cli import kf
from tests.support.ipython import shell
from tests.support.notebooks import cell, write_notebook
from tests.support.subnotebooks import code, host_notebook, prep_notebook

__all__ = ["shell"]

pytestmark = pytest.mark.integration
STEP = "%%step prep --notebook prep.ipynb --outputs rows summary\n# runs prep.ipynb"


def values(store: RunStore, run_id: str) -> dict[tuple[str, str], Any]:
    return {
        (a.step, a.name): load_value(Path(store.home) / a.path, a.serializer)
        for a in store.list_artifacts(run_id)
        if a.kind == "value"
    }


def test_its_outputs_flow_on_with_the_pipelines_parameters_and_edits_rerun_it(
    tmp_path: Path, store: RunStore
) -> None:
    prep_notebook(tmp_path)
    nb = host_notebook(tmp_path, code(STEP))
    run = run_notebook(nb, overrides=["n=4"], store=store)
    assert run.status == "succeeded", run.to_json()
    got = values(store, run.id)
    assert got[("prep", "rows")] == [0, 2, 4, 6]  # n and scale from the pipeline, not prep's 3 and 10
    assert got[("prep", "summary")] == "sub:12"  # label keeps prep's own default
    assert got[("report", "line")] == "12 sub:12"

    again = run_notebook(nb, overrides=["n=4"], store=store)
    assert [s.cached for s in again.steps] == [True, True, True]
    (tmp_path / "prep.ipynb").write_text(
        (tmp_path / "prep.ipynb").read_text().replace("i * scale", "i * scale + 1")
    )
    edited = run_notebook(nb, overrides=["n=4"], store=store)
    assert {s.name: s.cached for s in edited.steps} == {"prep": False, "report": False, "show": False}
    assert values(store, edited.id)[("prep", "rows")] == [1, 3, 5, 7]


def test_the_command_line_runs_it_and_refuses_a_parameter_it_lacks(tmp_path: Path, home: Path) -> None:
    prep_notebook(tmp_path)
    nb = host_notebook(tmp_path, code(STEP))
    done = kf(home, "run", str(nb), "--json", "-p", "scale=5")
    assert done.returncode == 0, done.stderr
    assert [(s["name"], s["status"]) for s in json.loads(done.stdout)["steps"]] == [
        ("prep", "succeeded"),
        ("report", "succeeded"),
        ("show", "succeeded"),
    ]
    logs = kf(home, "runs", "logs", json.loads(done.stdout)["run_id"], "show")
    assert "50 sub:50" in logs.stdout  # n=5, scale=5: 0+5+10+15+20

    bad = host_notebook(
        tmp_path, code(STEP.replace("summary", "summary --parameters n lr")), name="bad.ipynb"
    )
    bad.write_text(bad.read_text().replace('"n = 5\\n', '"lr = 0.1\\nn = 5\\n'))
    lint = kf(home, "lint", str(bad), "--json")
    assert lint.returncode == 1
    (finding,) = [d for d in json.loads(lint.stdout)["diagnostics"] if d["severity"] == "error"]
    assert (
        finding["code"] == "KF602" and "'lr'" in finding["message"] and "'prep.ipynb'" in finding["message"]
    )
    refused = kf(home, "run", str(bad))
    assert refused.returncode != 0 and "KF602" in refused.stderr and "Traceback" not in refused.stderr


def test_the_magic_runs_it_in_the_kernel_with_the_kernels_values(
    shell: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prep_notebook(tmp_path)
    monkeypatch.chdir(tmp_path)
    shell.user_ns["scale"] = 7
    shell.run_cell(STEP)
    assert shell.user_ns["rows"] == [0, 7, 14] and shell.user_ns["summary"] == "sub:21"
    shell.run_cell("%%step prep --notebook prep.ipynb --parameters lr\n#")
    assert (
        "notebook 'prep.ipynb' has no parameter 'lr' (its parameters: label, n, scale)"
        in capsys.readouterr().out
    )


def test_an_error_in_the_notebook_names_its_cell_there(tmp_path: Path, store: RunStore) -> None:
    write_notebook(
        tmp_path / "prep.ipynb",
        [cell("n = 3", "parameters"), cell("rows = [1]\nboom = 1 / (n - n)"), cell("summary = 's'")],
    )
    nb = host_notebook(tmp_path, code(STEP))
    run = run_notebook(nb, store=store)
    assert run.status == "failed"
    (prep,) = [s for s in run.steps if s.name == "prep"]
    assert prep.error is not None
    assert prep.error.startswith(
        "prep.ipynb cell 1 of step 'prep' raised ZeroDivisionError: division by zero"
    )
    log = log_path(Path(store.home), run.id, "prep").read_text(encoding="utf-8")
    assert 'File "prep.ipynb cell 1", line 2' in log, log
