"""Golden tests: each tests/golden/kfp/<case>/notebook.ipynb compiles to its expected.yaml.

The notebook's folder is the source of the files steps ship (``shipped-files`` has a module and a
data file next to its notebook). The image is fixed to ``registry.example/kfjupyter:golden``. After a deliberate change, regenerate
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
    notebook = golden.notebook(SUITE, case)
    pipeline, _ = compile_notebook(notebook, target="cluster")
    return compile_to_yaml(pipeline, image=IMAGE, source_dir=notebook.parent)


def test_cases_are_discovered() -> None:
    assert len(CASES) >= 4


@pytest.mark.parametrize("case", CASES)
def test_golden_kfp_yaml(case: str) -> None:
    golden.check(SUITE, case, "expected.yaml", render(case))


@pytest.mark.parametrize("case", CASES)
def test_golden_compilation_is_deterministic(case: str) -> None:
    assert render(case) == render(case)
