"""Helpers for the Kale conformance tests: compile a fixture notebook and read its groups back."""

from __future__ import annotations

from typing import Any

from kfjupyter.compiler.export import graph_to_json
from kfjupyter.compiler.ir import Pipeline
from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.notebook.diagnostics import Diagnostic
from kfjupyter.notebook.reader import read_notebook
from tests.unit.notebook.nbfactory import notebook


def build(*cells: Any, target: str = "local", **metadata: Any) -> tuple[Pipeline, list[Diagnostic]]:
    """Compile a notebook made of ``cells`` (and notebook ``metadata``) for ``target``."""
    nb = read_notebook(notebook(*cells, **metadata))
    return compile_notebook(nb, target="cluster" if target == "cluster" else "local")


def cells_per_step(pipeline: Pipeline) -> dict[str, list[int]]:
    """Step name -> the notebook cells it runs (0-based, markdown counted), as ``graph --json`` says."""
    return {node["name"]: node["cells"] for node in graph_to_json(pipeline)["nodes"]}


def codes(diagnostics: list[Diagnostic], severity: str | None = None) -> list[str]:
    """The codes of ``diagnostics`` (of one severity, when given), in order."""
    return [d.code for d in diagnostics if severity is None or d.severity == severity]
