"""The typed lint graph of the REST API carries exactly what ``graph_to_json`` describes.

``POST notebooks/lint`` answers ``LintResult``, whose ``graph`` is typed field by field (so the
generated TypeScript knows it). A key ``graph_to_json`` gains without the model would be refused
(the models forbid unknown fields); these cases catch that before a user's editor does.
"""

from __future__ import annotations

import json

import pytest

from kfjupyter.compiler.export import graph_to_json
from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.server.models import LintResult
from tests.support import golden

CASES = golden.cases("graph")


@pytest.mark.parametrize("case", CASES)
def test_the_typed_graph_answers_the_same_json_as_graph_to_json(case: str) -> None:
    pipeline, diagnostics = compile_notebook(golden.notebook("graph", case))
    graph = json.loads(json.dumps(graph_to_json(pipeline)))
    answered = json.loads(LintResult(diagnostics=diagnostics, graph=graph).model_dump_json())
    assert answered["graph"] == graph
    assert answered["diagnostics"] == [d.model_dump(mode="json") for d in diagnostics]


def test_the_cases_cover_every_part_of_the_graph() -> None:
    graphs = [graph_to_json(compile_notebook(golden.notebook("graph", case))[0]) for case in CASES]
    assert any(g["parameters"] for g in graphs)
    assert any(g["edges"] and any(e["explicit"] for e in g["edges"]) for g in graphs)
    assert any(node["settings"] for g in graphs for node in g["nodes"])
    assert any(node["inputs"] for g in graphs for node in g["nodes"])
