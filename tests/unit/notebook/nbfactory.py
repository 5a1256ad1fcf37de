"""Build real notebooks with nbformat for the notebook and compiler tests."""

from __future__ import annotations

from typing import Any

import nbformat
from nbformat import v4

PYTHON_KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def code(source: str, *tags: str, kf: dict[str, Any] | None = None) -> Any:
    """A code cell with optional Kale tags and metadata.kfjupyter."""
    cell = v4.new_code_cell(source)  # type: ignore[no-untyped-call]
    if tags:
        cell.metadata["tags"] = list(tags)
    if kf is not None:
        cell.metadata["kfjupyter"] = kf
    return cell


def markdown(source: str) -> Any:
    return v4.new_markdown_cell(source)  # type: ignore[no-untyped-call]


def notebook(*cells: Any, **metadata: Any) -> Any:
    """A v4 notebook with a Python kernel and the given cells."""
    nb = v4.new_notebook()  # type: ignore[no-untyped-call]
    nb.metadata["kernelspec"] = dict(PYTHON_KERNEL)
    nb.metadata.update(metadata)
    nb.cells = list(cells)
    return nb


def write(nb: Any, path: Any) -> None:
    nbformat.write(nb, str(path))  # type: ignore[no-untyped-call]
