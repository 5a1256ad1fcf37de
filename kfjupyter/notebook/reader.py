"""Reading ``.ipynb`` files into a small typed view of cells.

Owns everything about getting a notebook into memory: reading the file, JSON decoding, nbformat
version and kernel-language checks, and normalising each cell's source to one string. Every problem
is an :class:`~kfjupyter.errors.InvalidInput` with one line that names the notebook and what to do.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from kfjupyter.errors import InvalidInput

NotebookSource = Union[str, "os.PathLike[str]", Mapping[str, Any], "Notebook"]


@dataclass(frozen=True)
class Cell:
    """One notebook cell: its position, type, source text and metadata."""

    index: int
    cell_type: str
    source: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def tags(self) -> list[str]:
        """The cell's Jupyter tags (``metadata.tags``), strings only."""
        tags = self.metadata.get("tags")
        if not isinstance(tags, list):
            return []
        return [t for t in tags if isinstance(t, str)]


@dataclass(frozen=True)
class Notebook:
    """A notebook that passed the reader's checks."""

    cells: tuple[Cell, ...]
    metadata: Mapping[str, Any]
    name: str
    path: Path | None = None


def notebook_path(path: str | os.PathLike[str]) -> Path:
    """The absolute, symlink-free path of a notebook; InvalidInput for a loop or an unusable path."""
    try:
        return Path(path).resolve()
    except RuntimeError:  # Python 3.11 resolve(): "Symlink loop from ..."
        raise InvalidInput(
            f"notebook {os.fspath(path)!r} is a loop of symbolic links; check the path."
        ) from None
    except OSError as exc:  # a name too long, a loop on 3.13+
        raise InvalidInput(
            f"cannot use the notebook path {os.fspath(path)!r}: {exc.strerror or exc}."
        ) from None


def read_notebook(source: NotebookSource) -> Notebook:
    """Load a notebook from a path, a JSON-like dict (or ``NotebookNode``) or pass a Notebook through.

    Raises InvalidInput for an unreadable file, invalid JSON, nbformat older than 4, a malformed
    notebook structure or a kernel that is not Python.
    """
    if isinstance(source, Notebook):
        return source
    if isinstance(source, Mapping):
        return _from_dict(source, label="the notebook", path=None)
    path = Path(source)
    label = f"notebook {str(path)!r}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{label} does not exist; check the path.", reason="not_found") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{label} is not UTF-8 text ({exc.reason}); is it really an .ipynb file?"
        ) from None
    except OSError as exc:
        raise InvalidInput(
            f"cannot read {label}: {exc.strerror or exc}; check the path and permissions."
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{label} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "open it in JupyterLab and save it again, or restore it from version control."
        ) from None
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{label} is not a notebook (the JSON top level is not an object).")
    return _from_dict(data, label=label, path=path)


def _from_dict(data: Mapping[str, Any], *, label: str, path: Path | None) -> Notebook:
    major = data.get("nbformat")
    if not isinstance(major, int) or isinstance(major, bool):
        raise InvalidInput(f"{label} has no 'nbformat' version; is it really an .ipynb file?")
    if major < 4:
        raise InvalidInput(
            f"{label} uses notebook format v{major}; open and save it in JupyterLab to upgrade it to v4."
        )
    node = data  # nbformat (and its 1 s jsonschema import) is not needed to read cells
    metadata = node.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise InvalidInput(f"{label} has malformed metadata (not an object); save it again from JupyterLab.")
    _check_language(metadata, label)
    raw_cells = node.get("cells")
    if not isinstance(raw_cells, list):
        raise InvalidInput(f"{label} has no list of cells; save it again from JupyterLab.")
    cells = tuple(_cell(i, raw, label) for i, raw in enumerate(raw_cells))
    return Notebook(cells=cells, metadata=metadata, name=_pipeline_name(metadata, path), path=path)


def _cell(index: int, raw: Any, label: str) -> Cell:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("cell_type"), str):
        raise InvalidInput(
            f"{label}: cell {index} is malformed (no cell_type); save it again from JupyterLab."
        )
    source = raw.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    if not isinstance(source, str):
        raise InvalidInput(f"{label}: cell {index} has a malformed source; save it again from JupyterLab.")
    metadata = raw.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        metadata = {}
    return Cell(index=index, cell_type=raw["cell_type"], source=source, metadata=metadata)


def _check_language(metadata: Mapping[str, Any], label: str) -> None:
    language: object = None
    kernelspec = metadata.get("kernelspec")
    if isinstance(kernelspec, Mapping):
        language = kernelspec.get("language")
    info = metadata.get("language_info")
    if not language and isinstance(info, Mapping):
        language = info.get("name")
    if isinstance(language, str) and language and language.strip().lower() != "python":
        raise InvalidInput(
            f"{label} uses a {language} kernel; kfjupyter pipelines need Python: "
            "switch the kernel (Kernel > Change Kernel) to a Python 3 kernel."
        )


def _pipeline_name(metadata: Mapping[str, Any], path: Path | None) -> str:
    for key in ("kfjupyter", "kubeflow_notebook"):
        section = metadata.get(key)
        if isinstance(section, Mapping):
            name = section.get("pipeline_name")
            if isinstance(name, str) and name.strip():
                return name.strip()
    if path is not None:
        slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
        if slug:
            return slug
    return "pipeline"
