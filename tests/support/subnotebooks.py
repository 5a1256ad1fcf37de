"""A pipeline notebook with a step that runs another notebook (for the notebook-step tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat

from tests.support.notebooks import cell, write_notebook


def code(source: str, **kfjupyter: Any) -> nbformat.NotebookNode:
    node = nbformat.v4.new_code_cell(source)
    if kfjupyter:
        node.metadata["kfjupyter"] = kfjupyter
    return node


def prep_notebook(folder: Path, *, tag: str = "parameters") -> Path:
    """``prep.ipynb``: parameters n, scale, label (papermill's tag by default); defines rows, summary."""
    return write_notebook(
        folder / "prep.ipynb",
        [
            cell("n = 3\nscale = 10\nlabel = 'sub'", tag),
            cell("rows = [i * scale for i in range(n)]"),
            cell("summary = f'{label}:{sum(rows)}'"),
        ],
    )


def host_notebook(folder: Path, step_cell: nbformat.NotebookNode, name: str = "host.ipynb") -> Path:
    """Parameters n=5, scale=2; ``step_cell``; then a step ``report`` reading rows and summary."""
    return write_notebook(
        folder / name,
        [
            cell("n = 5\nscale = 2", "pipeline-parameters"),
            step_cell,
            code("total = sum(rows)\nline = f'{total} {summary}'", step="report"),
            code("print(line)", step="show"),
        ],
    )
