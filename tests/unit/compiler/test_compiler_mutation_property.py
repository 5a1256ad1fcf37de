"""Property, many cases: the compiled data flow, run as the local runner runs it, equals top to bottom.

Each step runs in a fresh namespace: set-up code, then deep copies of its inputs from the steps that
produce them (containers re-linked to the objects they hold), then its cells; it keeps what later steps read. (The real runner does the same with
processes and serialized values; tests/integration/runner/test_mutation_property.py runs it.)
"""

from __future__ import annotations

import contextlib
import copy
import io
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.runner.guard import relink
from tests.support.mutation_programs import Program, notebook_cells, parse_printed, programs, top_to_bottom


def as_the_runner_would(cells: list[tuple[str, str]]) -> dict[str, Any]:
    raw = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [
            {"cell_type": "code", "id": f"c{i}", "source": s, "metadata": {"tags": [t]}, "outputs": [],
             "execution_count": None}
            for i, (s, t) in enumerate(cells)
        ],
    }  # fmt: skip
    pipeline, diagnostics = compile_notebook(raw)
    assert [d for d in diagnostics if d.severity == "error"] == []
    produced: dict[str, dict[str, Any]] = {}
    out = io.StringIO()
    for step in pipeline.steps:
        namespace: dict[str, Any] = {}
        for block in pipeline.setup:
            exec(compile(block.source, "<setup>", "exec"), namespace)
        for name, producer in step.inputs.items():
            namespace[name] = copy.deepcopy(produced[producer][name])
        relink(namespace, step.relink)
        with contextlib.redirect_stdout(out):
            for block in step.blocks:
                exec(compile(block.source, "<cell>", "exec"), namespace)
        produced[step.name] = {n: copy.deepcopy(namespace[n]) for n in step.outputs}
    return parse_printed(out.getvalue())


@given(st.lists(programs(), min_size=1, max_size=3))
def test_compiled_data_flow_gives_top_to_bottom_values(progs: list[Program]) -> None:
    cells = notebook_cells(progs)
    assert as_the_runner_would(cells) == top_to_bottom(cells), "\n\n".join(s for s, _ in cells)
