"""Build real .ipynb files for tests with nbformat."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nbformat


def cell(source: str, *tags: str) -> nbformat.NotebookNode:
    node = nbformat.v4.new_code_cell(source)
    node.metadata["tags"] = list(tags)
    return node


def write_notebook(path: Path, cells: Sequence[nbformat.NotebookNode], language: str = "python") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": language, "display_name": "Python 3"}
    nb.cells = list(cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
