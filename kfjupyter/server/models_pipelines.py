"""REST models of re-running, compiling, submitting and log streaming (pydantic v2).

Part of the committed JSON schema (``rest-schema.json``) with :mod:`kfjupyter.server.models`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _identifier_names(value: dict[str, str]) -> dict[str, str]:
    bad = [name for name in value if not name.isidentifier()]
    if bad:
        raise ValueError(f"parameter names must be Python identifiers, got {bad!r}")
    return value


class RerunRequest(_Model):
    """Body of ``POST /kfjupyter/api/runs/{id}/rerun`` (every field optional)."""

    no_cache: bool = Field(False, description="Run every step even when cached outputs fit.")
    parameters: dict[str, str] = Field(
        default_factory=dict,
        description="NAME=VALUE overrides of the run's recorded parameters (pipeline runs only).",
    )

    @field_validator("parameters")
    @classmethod
    def _names_are_identifiers(cls, value: dict[str, str]) -> dict[str, str]:
        return _identifier_names(value)


class CompileRequest(_Model):
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

    @field_validator("parameters")
    @classmethod
    def _names_are_identifiers(cls, value: dict[str, str]) -> dict[str, str]:
        return _identifier_names(value)


class CompileResult(_Model):
    """Response of ``POST /kfjupyter/api/notebooks/compile``: the YAML that was written."""

    path: str = Field(description="Path of the written YAML, relative to the server root.")
    steps: int = Field(description="Number of pipeline steps.")
    bytes: int = Field(description="Size of the written file in bytes.")


class SubmitRequest(_Model):
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

    @field_validator("parameters")
    @classmethod
    def _names_are_identifiers(cls, value: dict[str, str]) -> dict[str, str]:
        return _identifier_names(value)


class SubmitResult(_Model):
    """Response of ``POST /kfjupyter/api/notebooks/submit`` (202): the KFP run that was started."""

    run_id: str = Field(description="Id of the run in this server's run store (backend 'kfp').")
    kfp_run_id: str = Field(description="Id of the run on Kubeflow Pipelines.")
    url: str = Field(description="Link to the run in the KFP UI; empty when unknown.")


class LogEvent(_Model):
    """Data of an ``event: log`` of ``GET runs/{id}/logs/{step}/stream`` (server-sent events)."""

    text: str = Field(description="Whole log lines (the last chunk of a finished step may lack a newline).")
    next_offset: int = Field(description="Byte offset after this text; resume the stream from it.")


class LogEnd(_Model):
    """Data of the final ``event: end`` of a log stream: the step finished and its log was sent."""

    status: str = Field(description="Final status of the step, e.g. 'succeeded', 'failed', 'cached'.")


MODELS: tuple[type[BaseModel], ...] = (
    RerunRequest,
    CompileRequest,
    CompileResult,
    SubmitRequest,
    SubmitResult,
    LogEvent,
    LogEnd,
)
