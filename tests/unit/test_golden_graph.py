"""Golden tests: each tests/golden/graph/<case>/notebook.ipynb compiles to its expected.json.

expected.json holds ``graph_to_json`` of the pipeline and the diagnostics. After a deliberate change,
regenerate with ``KFJUPYTER_UPDATE_GOLDEN=1 pytest tests/unit/test_golden_graph.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.compiler.export import graph_to_json
from kfjupyter.compiler.lint import compile_notebook

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "graph"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "notebook.ipynb").is_file())
UPDATE = os.environ.get("KFJUPYTER_UPDATE_GOLDEN") == "1"


def render(case: str) -> dict[str, Any]:
    pipeline, diagnostics = compile_notebook(GOLDEN / case / "notebook.ipynb")
    return {
        "graph": graph_to_json(pipeline),
        "diagnostics": [d.model_dump(mode="json") for d in diagnostics],
    }


def test_cases_are_discovered() -> None:
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES)
def test_golden_graph(case: str) -> None:
    actual = json.dumps(render(case), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    expected_path = GOLDEN / case / "expected.json"
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.is_file(), f"no {expected_path}; run with KFJUPYTER_UPDATE_GOLDEN=1 to create it"
    assert actual == expected_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_compilation_is_deterministic(case: str) -> None:
    assert render(case) == render(case)
