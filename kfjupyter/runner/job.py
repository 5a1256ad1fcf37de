"""What a step process is given and what it hands back.

The executor writes a :class:`StepJob` for each attempt; the step process (see
:mod:`kfjupyter.runner.child`) runs it and writes a :class:`StepResult` next to it. Both are plain
JSON files in the step's directory, so a crashed process leaves a readable trail.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Plain JSON here: the step process must not pay for building the IR models at start-up.
JsonValue = Any


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValueRef(_Model):
    """A value saved by an upstream step."""

    path: str = Field(description="Absolute path of the saved file.")
    serializer: str = Field(description="Name of the serializer that wrote it.")
    sha256: str = Field(description="Content hash of the file.")


class Source(_Model):
    """Code to run, with where it came from (for error messages)."""

    cell: int
    code: str
    first_line: int = 1


class StepJob(_Model):
    """Everything one attempt of one step needs, and nothing more."""

    run_id: str
    step: str
    kind: str = "step"
    setup: list[Source] = Field(default_factory=list)
    code: list[Source] = Field(default_factory=list)
    parameters: dict[str, JsonValue] = Field(default_factory=dict)
    inputs: dict[str, ValueRef] = Field(default_factory=dict)
    outputs: list[str] = Field(default_factory=list)
    workdir: str = Field(description="Working directory of the step (the notebook's folder).")
    step_dir: str = Field(description="Directory for this step's outputs, artifacts and result.")
    log_path: str


class SavedOutput(_Model):
    """One value the step saved for its downstream steps."""

    name: str
    path: str
    serializer: str
    size: int
    sha256: str
    preview: dict[str, JsonValue] = Field(default_factory=dict)


class StepResult(_Model):
    """What the step process reports back."""

    ok: bool
    outputs: list[SavedOutput] = Field(default_factory=list)
    figures: list[str] = Field(default_factory=list, description="Paths of rich outputs (PNG).")
    error: str | None = None
    error_cell: int | None = None
