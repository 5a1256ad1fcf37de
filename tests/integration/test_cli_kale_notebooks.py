"""Kale-tagged notebooks through the real ``kfjupyter`` command: metrics, refusals and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import kf
from tests.support.notebooks import cell, write_notebook


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_every_print_line_of_the_metrics_cell_is_recorded_parameters_included(
    tmp_path: Path, home: Path
) -> None:
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell("lr = 0.5", "pipeline-parameters"),
            cell("acc = lr * 2", "step:train"),
            cell("print(acc)\nprint(lr)", "pipeline-metrics"),
        ],
    )
    done = kf(home, "run", str(nb), "-p", "lr=0.25", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["metrics"] == {"acc": 0.5, "lr": 0.25}


def _one_object(stdout: str) -> dict[str, object]:
    body = json.loads(stdout)  # raises on two documents or on trailing text
    assert isinstance(body, dict)
    return body


def test_a_notebook_without_steps_is_refused_by_run_and_compile_and_graph_says_so(
    tmp_path: Path, home: Path
) -> None:
    nb = write_notebook(tmp_path / "plain.ipynb", [cell("import os"), cell("x = 1"), cell("y = x + 1")])
    run = kf(home, "run", str(nb))
    assert run.returncode == 2 and "KF001" in run.stderr and "Traceback" not in run.stderr
    compiled = kf(home, "compile", str(nb), "-o", str(tmp_path / "p.yaml"), "--image", "img:1")
    assert compiled.returncode == 2 and "no steps" in compiled.stderr and "Traceback" not in compiled.stderr
    assert not (tmp_path / "p.yaml").exists()
    graph = kf(home, "graph", str(nb))
    assert graph.returncode == 1 and "no steps" in graph.stdout
    lint = _one_object(kf(home, "lint", str(nb), "--json").stdout)
    assert [d["code"] for d in lint["diagnostics"]] == ["KF001"]  # type: ignore[union-attr]


def test_with_json_every_command_prints_exactly_one_object_also_when_it_refuses(
    tmp_path: Path, home: Path
) -> None:
    good = write_notebook(tmp_path / "good.ipynb", [cell("a = 1", "step:one"), cell("b = a", "step:two")])
    empty = write_notebook(tmp_path / "empty.ipynb", [cell("x = 1")])
    out = str(tmp_path / "p.yaml")
    for args in (
        ("lint", str(good)),
        ("graph", str(good)),
        ("compile", str(good), "-o", out, "--image", "img:1"),
        ("run", str(good)),
        ("runs", "list"),
    ):
        done = kf(home, *args, "--json")
        assert done.returncode == 0, (args, done.stderr)
        assert "error" not in _one_object(done.stdout)
    for args, status in (
        (("lint", str(empty)), 1),
        (("graph", str(empty)), 1),
        (("compile", str(empty), "-o", out, "--image", "img:1"), 2),
        (("run", str(empty)), 2),
        (("run", str(tmp_path / "missing.ipynb")), 2),
        (("runs", "show", "no-such-run"), 2),
    ):
        done = kf(home, *args, "--json")
        assert done.returncode == status, (args, done.stdout, done.stderr)
        body = _one_object(done.stdout)
        if status == 2:
            assert set(body) == {"error", "diagnostics"}
            assert body["error"]["message"] in done.stderr  # type: ignore[index]
    refused = _one_object(kf(home, "run", str(empty), "--json").stdout)
    assert [d["code"] for d in refused["diagnostics"]] == ["KF001"]  # type: ignore[union-attr]


def test_run_shows_lint_warnings_and_never_runs_pip_lines(tmp_path: Path, home: Path) -> None:
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell("!pip install kfjupyter-no-such-package-4242"),
            cell("n = 3", "step:make"),
            cell("pip install kfjupyter-no-such-package-4243"),
            cell("ls"),
            cell("total = n * 2", "step:use"),
        ],
    )
    done = kf(home, "run", str(nb))
    assert done.returncode == 0, done.stderr
    assert "warning KF407" in done.stderr and "kfjupyter-no-such-package-4243" in done.stderr
    body = _one_object(kf(home, "run", str(nb), "--json").stdout)
    assert body["status"] == "succeeded"
    assert "KF407" in [d["code"] for d in body["diagnostics"]]  # type: ignore[union-attr]


def test_a_kale_style_notebook_gives_the_answers_of_a_top_to_bottom_run(tmp_path: Path, home: Path) -> None:
    cells = [
        cell("!pip install kfjupyter-no-such-package-4244", "skip"),
        cell("import math", "imports"),
        cell("N = 6\nDEPTH = 2", "pipeline-parameters"),
        cell("xs = [math.sqrt(i) for i in range(N)]", "step:load_transform_data", "report:disabled"),
        cell("train, test = xs[:4], xs[4:]"),
        cell("debug = xs.copy()", "skip"),
        cell("scale = DEPTH * sum(train)"),
        cell("model = {'scale': scale}", "prev:load_transform_data", "step:train_model"),
        cell("preds = [model['scale'] * t for t in test]", "step:evaluate_model", "prev:train_model"),
        cell("accuracy = sum(preds) / len(preds)"),
        cell("print(accuracy)\nprint(N)", "pipeline-metrics"),
    ]
    nb = write_notebook(tmp_path / "kale.ipynb", cells)
    namespace: dict[str, object] = {}
    for c in cells:  # what Jupyter computes running the cells Kale keeps, top to bottom
        if "skip" not in c.metadata["tags"] and "pipeline-metrics" not in c.metadata["tags"]:
            exec(c.source, namespace)  # the test's own fixed code
    done = kf(home, "run", str(nb), "--json")
    assert done.returncode == 0, done.stderr
    assert _one_object(done.stdout)["metrics"] == {"accuracy": namespace["accuracy"], "N": 6}
    graph = _one_object(kf(home, "graph", str(nb), "--json").stdout)
    assert {n["name"]: n["cells"] for n in graph["nodes"]} == {  # type: ignore[union-attr]
        "load_transform_data": [3, 4, 6],
        "train_model": [7],
        "evaluate_model": [8, 9],
        "pipeline_metrics": [10],
    }
