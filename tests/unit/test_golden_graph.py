"""Golden tests: each tests/golden/graph/<case>/notebook.ipynb compiles to its expected.json.

expected.json holds ``graph_to_json`` of the pipeline and the diagnostics. After a deliberate change,
regenerate with ``KFJUPYTER_UPDATE_GOLDEN=1 pytest tests/unit/test_golden_graph.py`` and review the diff.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from kfjupyter.compiler.export import graph_to_json
from kfjupyter.compiler.lint import compile_notebook
from tests.support import golden

SUITE = "graph"
CASES = golden.cases(SUITE)


def render(case: str) -> dict[str, Any]:
    pipeline, diagnostics = compile_notebook(golden.notebook(SUITE, case))
    return {
        "graph": graph_to_json(pipeline),
        "diagnostics": [d.model_dump(mode="json") for d in diagnostics],
    }


def test_cases_are_discovered() -> None:
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES)
def test_golden_graph(case: str) -> None:
    actual = json.dumps(render(case), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    golden.check(SUITE, case, "expected.json", actual)


@pytest.mark.parametrize("case", CASES)
def test_compilation_is_deterministic(case: str) -> None:
    assert render(case) == render(case)
