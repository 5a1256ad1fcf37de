"""REST models of re-running, compiling, submitting and log streaming (pydantic v2).

Part of the committed JSON schema (``rest-schema.json``) with :mod:`kfjupyter.server.models`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: Largest byte offset a log read may start from (1 TiB; beyond any real log, within every file system).
MAX_LOG_OFFSET = 1 << 40


def checked_parameters(value: dict[str, str]) -> dict[str, str]:
    """``NAME=VALUE`` overrides: names are Python identifiers, values hold no NUL (they go on a command line)."""
    bad = [name for name in value if not name.isidentifier()]
    if bad:
        raise ValueError(f"parameter names must be Python identifiers, got {bad!r}")
    nul = [name for name, text in value.items() if "\x00" in text]
    if nul:
        raise ValueError(f"parameter values must not contain NUL characters, found in {nul!r}")
    return value


def checked_image(value: str | None) -> str | None:
    """A container image reference: no whitespace or control characters."""
    if value is not None and any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("an image reference has no spaces or control characters, e.g. 'registry/name:tag'")
    return value


def checked_step(value: str | None) -> str | None:
    """A step name as a command line takes it: no NUL, no line breaks."""
    if value is not None and any(c in value for c in "\x00\n\r"):
        raise ValueError("a step name has no NUL characters or line breaks")
    return value


class RerunRequest(_Model):
    """Body of ``POST /kfjupyter/api/runs/{id}/rerun`` (every field optional)."""

    no_cache: bool = Field(False, description="Run every step even when cached outputs fit.")
    parameters: dict[str, str] = Field(
        default_factory=dict,
        description="NAME=VALUE overrides of the run's recorded parameters (pipeline runs only).",
    )
    from_step: str | None = Field(
        None,
        min_length=1,
        description="Re-run from this step: it and the steps below it run again, the steps above are "
        "taken from this run's outputs (or the cache). Local pipeline runs only.",
    )
    only: str | None = Field(
        None,
        min_length=1,
        description="Re-run this step alone, the steps above taken from this run's outputs (or the cache).",
    )

    @field_validator("from_step", "only")
    @classmethod
    def _step_fits_a_command_line(cls, value: str | None) -> str | None:
        return checked_step(value)

    @field_validator("parameters")
    @classmethod
    def _names_are_identifiers(cls, value: dict[str, str]) -> dict[str, str]:
        return checked_parameters(value)


class _ImageAndParameters(_Model):
    """Checks shared by the bodies that take an ``image`` and NAME=VALUE ``parameters``."""

    @field_validator("image", check_fields=False)
    @classmethod
    def _image_is_a_reference(cls, value: str | None) -> str | None:
        return checked_image(value)

    @field_validator("parameters", check_fields=False)
    @classmethod
    def _names_are_identifiers(cls, value: dict[str, str]) -> dict[str, str]:
        return checked_parameters(value)


class CompileRequest(_ImageAndParameters):
    """Body of ``POST /kfjupyter/api/notebooks/compile``."""

    path: str = Field(min_length=1, description="Notebook path relative to the server's root directory.")
    parameters: dict[str, str] = Field(
        default_factory=dict, description="NAME=VALUE new defaults of the notebook's parameters."
    )
    output: str | None = Field(
        None,
        min_length=1,
        description="Where to write the YAML (.yaml/.yml, relative to the root); "
        "default '<stem>.pipeline.yaml' next to the notebook.",
    )
    image: str | None = Field(
        None,
        min_length=1,
        description="Container image of every step; default the server's c.KfJupyterApp.kfp_image, "
        "then $KFJUPYTER_IMAGE, then each step's own image setting.",
    )


class CompileResult(_Model):
    """Response of ``POST /kfjupyter/api/notebooks/compile``: the YAML that was written."""

    path: str = Field(description="Path of the written YAML, relative to the server root.")
    steps: int = Field(description="Number of pipeline steps.")
    bytes: int = Field(description="Size of the written file in bytes.")


class SubmitRequest(_ImageAndParameters):
    """Body of ``POST /kfjupyter/api/notebooks/submit``."""

    path: str = Field(min_length=1, description="Notebook path relative to the server's root directory.")
    parameters: dict[str, str] = Field(
        default_factory=dict, description="NAME=VALUE parameter values of this run."
    )
    experiment: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="KFP experiment (created if missing; default 'Default').",
    )
    image: str | None = Field(
        None,
        min_length=1,
        description="Container image of every step; default as for compile.",
    )


class SubmitResult(_Model):
    """Response of ``POST /kfjupyter/api/notebooks/submit`` (202): the KFP run that was started."""

    run_id: str = Field(description="Id of the run in this server's run store (backend 'kfp').")
    kfp_run_id: str = Field(description="Id of the run on Kubeflow Pipelines.")
    url: str = Field(description="Link to the run in the KFP UI; empty when unknown.")


class LogQuery(_Model):
    """Query of ``GET runs/{id}/logs/{step}``, its ``/stream`` and ``GET training/{id}/logs/{rank}``."""

    offset: int = Field(
        0, ge=0, le=MAX_LOG_OFFSET, description="Byte offset to read from: 0, or a returned next_offset."
    )


class LogEvent(_Model):
    """Data of an ``event: log`` of ``GET runs/{id}/logs/{step}/stream`` (server-sent events)."""

    text: str = Field(description="Whole log lines (the last chunk of a finished step may lack a newline).")
    next_offset: int = Field(description="Byte offset after this text; resume the stream from it.")


class LogEnd(_Model):
    """Data of the final ``event: end`` of a log stream: the step finished and its log was sent."""

    status: str = Field(description="Final status of the step, e.g. 'succeeded', 'failed', 'cached'.")


class PlannedStep(_Model):
    """One step of a plan: whether it runs or comes from the cache, and why."""

    name: str = Field(description="Step name.")
    action: Literal["run", "cached"] = Field(description="'run', or 'cached' (its outputs are reused).")
    reasons: list[str] = Field(
        description="Why: the changed cell, input (and its step), parameter or environment; or where "
        "the reused outputs come from."
    )


class PlanResult(_Model):
    """Answer of ``POST /kfjupyter/api/notebooks/plan``, as ``kfjupyter run --plan --json`` prints it."""

    steps: list[PlannedStep] = Field(
        description="The steps the run would take, in order (skipped ones left out)."
    )


class StepValuesQuery(_Model):
    """Query of ``GET /kfjupyter/api/runs/{id}/steps/{step}/values``."""

    outputs: bool = Field(False, description="Describe the step's outputs instead of its inputs.")


class StepValue(_Model):
    """One name loading the step defines."""

    name: str = Field(description="The variable name.")
    kind: Literal["parameter", "input", "output"] = Field(description="What it is.")
    source: str = Field(description="The step that produced it ('' for a parameter).")


class StepValues(_Model):
    """Answer of ``GET runs/{id}/steps/{step}/values``: what ``%kf load`` of the step defines.

    The values themselves are loaded by running ``code`` in the notebook's kernel (the server never
    reads them): it defines them in the user's namespace and prints their names.
    """

    run_id: str = Field(description="Run id.")
    step: str = Field(description="Step name.")
    outputs: bool = Field(
        description="Whether these are the step's outputs (else its inputs and parameters)."
    )
    values: list[StepValue] = Field(description="The names it defines, parameters first.")
    code: str = Field(description="Python for an IPython kernel that loads them (runs %kf load).")


MODELS: tuple[type[BaseModel], ...] = (
    RerunRequest,
    CompileRequest,
    CompileResult,
    SubmitRequest,
    SubmitResult,
    LogQuery,
    LogEvent,
    LogEnd,
    PlanResult,
    StepValuesQuery,
    StepValues,
)
