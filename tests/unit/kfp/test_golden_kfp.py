"""Golden tests: each tests/golden/kfp/<case>/notebook.ipynb compiles to its expected.yaml.

The image is fixed to ``registry.example/kfjupyter:golden``. After a deliberate change, regenerate
with ``KFJUPYTER_UPDATE_GOLDEN=1 pytest tests/unit/kfp/test_golden_kfp.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.kfp.pipeline import compile_to_yaml

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "kfp"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "notebook.ipynb").is_file())
UPDATE = os.environ.get("KFJUPYTER_UPDATE_GOLDEN") == "1"
IMAGE = "registry.example/kfjupyter:golden"


def render(case: str) -> str:
    pipeline, _ = compile_notebook(GOLDEN / case / "notebook.ipynb", target="cluster")
    return compile_to_yaml(pipeline, image=IMAGE)


def test_cases_are_discovered() -> None:
    assert len(CASES) >= 3


@pytest.mark.parametrize("case", CASES)
def test_golden_kfp_yaml(case: str) -> None:
    actual = render(case)
    expected_path = GOLDEN / case / "expected.yaml"
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.is_file(), f"no {expected_path}; run with KFJUPYTER_UPDATE_GOLDEN=1 to create it"
    assert actual == expected_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_golden_compilation_is_deterministic(case: str) -> None:
    assert render(case) == render(case)
