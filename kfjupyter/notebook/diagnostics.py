"""Diagnostics: the typed findings that notebook parsing and lint report about a notebook.

A :class:`Diagnostic` points at a cell and line and says what is wrong and how to fix it. The notebook
layer reports problems with cell markers (tags, ``metadata.kfjupyter``, ``%%step``); the compiler adds
name resolution, graph and parameter findings. Codes are stable: ``KF0xx`` notebook structure,
``KF1xx`` names and data flow, ``KF2xx`` step graph, ``KF3xx`` parameters, ``KF4xx`` settings that a
local run ignores, ``KF5xx`` what travels with the steps to a cluster, ``KF6xx`` steps that run notebooks. The full table lives in
:mod:`kfjupyter.compiler.lint`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warning", "info"]


class Diagnostic(BaseModel):
    """One finding about a notebook, located by cell and line."""

    # Serialized with every field, defaults included: the REST schema lists them all as required.
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_serialization_defaults_required=True)

    severity: Severity = Field(description="'error' blocks a run; 'warning' and 'info' do not.")
    code: str = Field(description="Stable code, e.g. 'KF101'.")
    cell: int | None = Field(None, description="0-based cell index (all cell types counted); None: notebook.")
    line: int | None = Field(None, description="1-based line in the cell; None when the whole cell is meant.")
    message: str = Field(description="What is wrong, in one sentence.")
    hint: str = Field("", description="How to fix it.")
    step: str | None = Field(None, description="The step the finding belongs to, when there is one.")


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Return diagnostics ordered by cell, then line (notebook-level ones first), then code."""
    return sorted(
        diagnostics,
        key=lambda d: (
            -1 if d.cell is None else d.cell,
            0 if d.line is None else d.line,
            d.code,
            d.message,
        ),
    )


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    """Return True when any diagnostic is an error."""
    return any(d.severity == "error" for d in diagnostics)
