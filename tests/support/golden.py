"""Golden files discovered from a directory: ``tests/golden/<suite>/<case>/notebook.ipynb``.

``KFJUPYTER_UPDATE_GOLDEN=1`` rewrites the expected files; review the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN_ROOT = Path(__file__).resolve().parents[1] / "golden"
UPDATE = os.environ.get("KFJUPYTER_UPDATE_GOLDEN") == "1"


def cases(suite: str) -> list[str]:
    """Names of the cases of ``suite`` (folders holding a notebook.ipynb), sorted."""
    return sorted(p.name for p in (GOLDEN_ROOT / suite).iterdir() if (p / "notebook.ipynb").is_file())


def notebook(suite: str, case: str) -> Path:
    """The input notebook of one case."""
    return GOLDEN_ROOT / suite / case / "notebook.ipynb"


def check(suite: str, case: str, expected_name: str, actual: str) -> None:
    """Compare ``actual`` with the case's expected file (writing it first in update mode)."""
    expected_path = GOLDEN_ROOT / suite / case / expected_name
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.is_file(), f"no {expected_path}; run with KFJUPYTER_UPDATE_GOLDEN=1 to create it"
    assert actual == expected_path.read_text(encoding="utf-8")
