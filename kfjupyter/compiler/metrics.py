"""The ``pipeline-metrics`` cell, read as Kale reads it: one ``print(name)`` per line, each a metric.

Every ``print(name)`` line names a metric, whatever defines ``name``: an upstream step, a pipeline
parameter or set-up. A line holding just ``name`` (kfjupyter's earlier spelling), blank lines and
``#`` comments are accepted too (Kale refuses the last two); any other line is an error (KF304)
naming the cell and the line, since Kale would refuse the notebook and a run would otherwise record
something else than the cell says.
"""

from __future__ import annotations

import keyword
import re

from kfjupyter.compiler.ir import Pipeline, Step
from kfjupyter.notebook.diagnostics import Diagnostic

_PRINT_NAME = re.compile(
    r"^(?:print\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)|([A-Za-z_][A-Za-z0-9_]*))\s*;?\s*(#.*)?$"
)


def metric_names(step: Step) -> tuple[list[str], list[Diagnostic]]:
    """The names the metrics step records, in order, and an error for every other line."""
    names: list[str] = []
    diags: list[Diagnostic] = []
    for block in step.blocks:
        for offset, raw in enumerate(block.source.splitlines()):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            match = _PRINT_NAME.match(line)
            number = block.first_line + offset
            name = (match.group(1) or match.group(2)) if match else ""
            if match is None or raw[:1].isspace() or keyword.iskeyword(name):
                diags.append(
                    Diagnostic(
                        severity="error",
                        code="KF304",
                        cell=block.cell,
                        line=number,
                        message=f"line {number} of the pipeline-metrics cell {block.cell} is not "
                        f"'print(<name>)': {line[:80]!r}.",
                        hint="Compute the value in a step above, and keep only one print(name) per line "
                        "in the metrics cell (each one is a metric).",
                        step=step.name,
                    )
                )
            elif name not in names:
                names.append(name)
    return names, diags


def with_metrics(pipeline: Pipeline) -> tuple[Pipeline, list[Diagnostic]]:
    """``pipeline`` with each metrics step's metric names filled in, plus the KF304 findings."""
    diags: list[Diagnostic] = []
    steps = []
    for step in pipeline.steps:
        if step.kind == "metrics":
            names, found = metric_names(step)
            diags.extend(found)
            step = step.model_copy(update={"metrics": names})
        steps.append(step)
    return pipeline.model_copy(update={"steps": steps}), diags
