"""The one model of what a cell says about itself, whichever syntax said it.

Kale tags, ``metadata.kfjupyter`` and a ``%%step`` first line are three spellings of the same
:class:`CellMark`: the cell's role (a step, shared set-up, parameters, metrics or skipped), the step
name, explicit upstream steps and the settings the cell asks for (:class:`MarkSettings`; ``None``
means "not said", the compiler fills defaults). This module also owns the step-name rule.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["step", "imports", "functions", "parameters", "metrics", "skip"]
Syntax = Literal["tags", "metadata", "magic"]

STEP_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
METRICS_STEP_NAME = "pipeline_metrics"
#: Longest step name: it becomes a file name, a store key and part of Kubernetes object names.
MAX_STEP_NAME_LENGTH = 100
#: Most retries of one step (each retry is a full new attempt).
MAX_RETRIES = 100
#: Longest time limit of one attempt, in seconds (30 days).
MAX_TIMEOUT_S = 30 * 24 * 3600


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MarkSettings(_Frozen):
    """Settings one cell asks for; ``None`` or empty means the cell did not say."""

    cpu: str | None = Field(None, description="CPU quantity, e.g. '2' or '500m'.")
    memory: str | None = Field(None, description="Memory quantity, e.g. '4Gi'.")
    gpu: int | None = Field(None, ge=0, description="Number of GPUs.")
    gpu_type: str | None = Field(None, description="Accelerator resource or type, e.g. 'nvidia.com/gpu'.")
    extra_limits: dict[str, str] = Field(default_factory=dict, description="Other resource limits.")
    image: str | None = Field(None, description="Container image for cluster runs.")
    retries: int | None = Field(
        None, ge=0, le=MAX_RETRIES, description=f"Retries of a failed step (at most {MAX_RETRIES})."
    )
    timeout_s: float | None = Field(
        None,
        gt=0,
        le=MAX_TIMEOUT_S,
        description=f"Time limit of one attempt, seconds (at most {MAX_TIMEOUT_S}, 30 days).",
    )
    cache: bool | None = Field(None, description="Whether outputs may come from the cache.")
    depends_on: tuple[str, ...] = Field(
        (),
        description="Files or glob patterns (relative to the notebook) whose contents join the step's cache key.",
    )
    depends_on_env: tuple[str, ...] = Field(
        (), description="Environment variables whose values join the step's cache key."
    )
    annotations: dict[str, str] = Field(default_factory=dict, description="Pod annotations.")
    labels: dict[str, str] = Field(default_factory=dict, description="Pod labels.")
    secrets: tuple[tuple[str, str, str], ...] = Field((), description="(secret, key, ENV) triples.")
    packages: tuple[str, ...] = Field((), description="Packages its pip install lines ask for.")
    pure: bool | None = Field(
        None,
        description="The step only reads the objects it receives: calls whose effects the analysis cannot "
        "tell are not taken as changes, so steps reading the same object can run in parallel (runs check it).",
    )


class SubNotebook(_Frozen):
    """A step that runs another notebook, papermill-style, and hands on the variables it declares."""

    path: str = Field(min_length=1, description="The notebook to run, relative to this notebook's folder.")
    outputs: tuple[str, ...] = Field((), description="Variables it defines that later steps may read.")
    parameters: tuple[str, ...] | None = Field(
        None,
        description="Pipeline parameters passed to it (they override its parameters cell); None: every "
        "pipeline parameter it also declares.",
    )


class CellMark(_Frozen):
    """What one cell declares: role, step name, explicit upstream steps and settings."""

    role: Role = Field(
        description="Step's first cell, set-up (imports/functions), parameters, metrics or skip."
    )
    syntax: Syntax = Field(description="Which notebook syntax declared it.")
    step: str | None = Field(None, description="Step name, for role 'step'.")
    after: tuple[str, ...] = Field((), description="Explicit upstream steps (Kale prev:, --after, after).")
    settings: MarkSettings = Field(default_factory=MarkSettings, description="Execution settings.")
    first_line: int = Field(1, description="Line where the code starts (2 when a %%step line is removed).")
    notebook: SubNotebook | None = Field(
        None, description="For a step: the notebook it runs instead of code."
    )

    def same_meaning(self, other: CellMark) -> bool:
        """Return True when two marks agree on role, step name and upstream steps."""
        return (self.role, self.step, set(self.after), self.notebook) == (
            other.role,
            other.step,
            set(other.after),
            other.notebook,
        )


def is_valid_step_name(name: str) -> bool:
    """Return True when ``name`` follows the step-name rule ``^[a-z_][a-z0-9_]*$``, not too long."""
    return len(name) <= MAX_STEP_NAME_LENGTH and STEP_NAME_RE.match(name) is not None


def step_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a step name, as the end of a sentence; None when it can."""
    if len(name) > MAX_STEP_NAME_LENGTH:
        return f"is {len(name)} characters long; use at most {MAX_STEP_NAME_LENGTH} characters"
    if STEP_NAME_RE.match(name) is None:
        return "is not valid: use lower-case letters, digits and '_', not starting with a digit"
    return None


def shown_step_name(name: str) -> str:
    """``repr`` of a step name for a message, a long one cut in the middle."""
    return repr(name if len(name) <= 40 else f"{name[:20]}...{name[-10:]}")


def suggest_step_name(name: str) -> str:
    """Return a valid step name close to ``name`` (lower case, other characters become '_')."""
    candidate = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_") or "step"
    if candidate[0].isdigit():
        candidate = "step_" + candidate
    return candidate[:MAX_STEP_NAME_LENGTH]
