"""Golden tests: each tests/golden/kfp/<case>/notebook.ipynb compiles to its expected.yaml.

The image is fixed to ``registry.example/kfjupyter:golden``. After a deliberate change, regenerate
with ``KFJUPYTER_UPDATE_GOLDEN=1 pytest tests/unit/kfp/test_golden_kfp.py`` and review the diff.
"""

from __future__ import annotations

import pytest

from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.kfp.pipeline import compile_to_yaml
from tests.support import golden

SUITE = "kfp"
CASES = golden.cases(SUITE)
IMAGE = "registry.example/kfjupyter:golden"


def render(case: str) -> str:
    pipeline, _ = compile_notebook(golden.notebook(SUITE, case), target="cluster")
    return compile_to_yaml(pipeline, image=IMAGE)


def test_cases_are_discovered() -> None:
    assert len(CASES) >= 3


@pytest.mark.parametrize("case", CASES)
def test_golden_kfp_yaml(case: str) -> None:
    golden.check(SUITE, case, "expected.yaml", render(case))


@pytest.mark.parametrize("case", CASES)
def test_golden_compilation_is_deterministic(case: str) -> None:
    assert render(case) == render(case)
