"""Live lint of an unsaved notebook through the REST API of a real jupyter server."""

from __future__ import annotations

from typing import Any

import nbformat
import pytest

from kfjupyter.server.models import LintResult
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell

LINT = "/kfjupyter/api/notebooks/lint"


def notebook(*cells: nbformat.NotebookNode) -> dict[str, Any]:
    """An in-memory nbformat v4 document, as JupyterLab's model serialises it."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.cells = list(cells)
    return dict(nb)


def lint(lab: LabServer, body: Any) -> tuple[int, Any]:
    return lab.request(LINT, token=lab.token, method="POST", body=body)


def test_lint_refuses_anonymous_callers(lab_server: LabServer) -> None:
    status, body = lab_server.request(LINT, method="POST", body={"notebook": notebook()})
    assert status == 403
    assert set(body) == {"message", "reason"}


def test_an_undefined_name_is_reported_on_its_cell_and_line(lab_server: LabServer) -> None:
    doc = notebook(
        cell("import math", "imports"),
        cell("x = 1\ny = x + missing_name", "step:first"),
    )
    status, body = lint(lab_server, {"notebook": doc})
    assert status == 200, body
    result = LintResult.model_validate(body)
    undefined = [d for d in result.diagnostics if d.code == "KF101"]
    assert len(undefined) == 1, result.diagnostics
    assert (undefined[0].severity, undefined[0].cell, undefined[0].line) == ("error", 1, 2)
    assert "missing_name" in undefined[0].message
    assert undefined[0].step == "first"


def test_the_graph_has_steps_cells_edges_and_parameters(lab_server: LabServer) -> None:
    doc = notebook(
        cell("rate = 0.5\nname = 'demo'", "pipeline-parameters"),
        cell("data = [1, 2, 3]", "step:load"),
        cell("total = sum(data) * rate", "step:train"),
        cell("print('notes')"),
    )
    status, body = lint(lab_server, {"notebook": doc, "target": "cluster"})
    assert status == 200, body
    LintResult.model_validate(body)
    graph = body["graph"]
    assert [(n["name"], n["cells"]) for n in graph["nodes"]] == [("load", [1]), ("train", [2, 3])]
    assert graph["edges"] == [{"from": "load", "to": "train", "variables": ["data"], "explicit": False}]
    assert graph["parameters"] == [
        {"name": "rate", "type": "float", "default": 0.5},
        {"name": "name", "type": "str", "default": "demo"},
    ]
    assert body["diagnostics"] == []


def test_local_target_reports_settings_a_local_run_ignores(lab_server: LabServer) -> None:
    gpu = cell("print('hi')")
    gpu.metadata["kfjupyter"] = {"step": "train", "resources": {"gpu": 1}}
    status, body = lint(lab_server, {"notebook": notebook(gpu)})
    assert status == 200, body
    assert [d["code"] for d in body["diagnostics"]] == ["KF401"]
    status, body = lint(lab_server, {"notebook": notebook(gpu), "target": "cluster"})
    assert (status, body["diagnostics"]) == (200, [])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "notebook"),
        ({"notebook": "not a notebook"}, "notebook"),
        ({"notebook": {"nbformat": 4, "cells": []}, "target": "mars"}, "target"),
        ({"notebook": {"nbformat": 4, "cells": []}, "extra": 1}, "extra"),
    ],
)
def test_bad_bodies_are_400s_naming_the_field(lab_server: LabServer, body: Any, field: str) -> None:
    status, reply = lint(lab_server, body)
    assert status == 400, reply
    assert reply["message"].startswith("Invalid request body: ")
    assert f"{field}:" in reply["message"]


def test_a_body_that_is_not_json_is_a_400(lab_server: LabServer) -> None:
    status, reply = lint(lab_server, b"{not json")
    assert status == 400
    assert "not valid JSON" in reply["message"]


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ({"nbformat": 3, "cells": []}, "format v3"),
        ({"nbformat": 4}, "no list of cells"),
        ({"cells": []}, "no 'nbformat' version"),
        ({"nbformat": 4, "cells": [], "metadata": {"kernelspec": {"language": "R"}}}, "R kernel"),
    ],
)
def test_an_unreadable_notebook_is_a_400_with_the_readers_message(
    lab_server: LabServer, doc: dict[str, Any], words: str
) -> None:
    status, reply = lint(lab_server, {"notebook": doc})
    assert status == 400, reply
    assert words in reply["message"]


def test_a_step_that_runs_a_notebook_is_checked_next_to_where_the_notebook_is_saved(
    lab_server: LabServer,
) -> None:
    folder = lab_server.root / "lint-sub"
    folder.mkdir(exist_ok=True)
    (folder / "prep.ipynb").write_text(
        nbformat.writes(nbformat.v4.new_notebook(cells=[cell("n = 3", "parameters")]))
    )
    step = nbformat.v4.new_code_cell("# runs prep.ipynb")
    step.metadata["kfjupyter"] = {"step": "prep", "notebook": "prep.ipynb", "parameters": ["lr"]}
    doc = notebook(cell("lr = 0.1", "pipeline-parameters"), step)

    def found(body: dict[str, Any]) -> list[tuple[str, str]]:
        status, answer = lint(lab_server, body)
        assert status == 200, answer
        return [
            (d.code, d.message)
            for d in LintResult.model_validate(answer).diagnostics
            if d.severity == "error"
        ]

    assert found({"notebook": doc, "path": "lint-sub/host.ipynb"}) == [
        (
            "KF602",
            "step 'prep' passes parameter 'lr' to notebook 'prep.ipynb', which has no parameter 'lr' "
            "(its parameters: n).",
        )
    ]
    # no path, or one that cannot be inside the root: linted all the same, the step said uncheckable
    for body in ({"notebook": doc}, {"notebook": doc, "path": "../outside/host.ipynb"}):
        ((code, message),) = found(body)
        assert code == "KF601" and "not read from a file" in message
