"""kfjupyter's own cell metadata: the ``metadata.kfjupyter`` object, validated by a pydantic schema.

Example::

    {"kfjupyter": {"step": "train", "after": ["load"],
                   "resources": {"gpu": 1, "gpu_type": "nvidia.com/gpu", "memory": "8Gi"},
                   "retries": 2, "timeout": 3600, "cache": false, "pure": true}}
    {"kfjupyter": {"role": "imports"}}
    {"kfjupyter": {"step": "prep", "notebook": "prep.ipynb", "outputs": ["df"], "parameters": ["n"]}}

Unknown fields are errors (a typo must not silently drop a GPU request). The JupyterLab metadata form
is generated from :class:`KfCellMetadata`'s JSON schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.marks import (
    ENV_NAME_RE,
    MAX_RETRIES,
    MAX_STEP_NAME_LENGTH,
    MAX_TIMEOUT_S,
    CellMark,
    MarkSettings,
    Role,
    SubNotebook,
)

METADATA_KEY = "kfjupyter"


class ResourcesSpec(BaseModel):
    """Compute resources a step asks for."""

    model_config = ConfigDict(extra="forbid")

    cpu: str | None = Field(None, description="CPU quantity, e.g. '2' or '500m'.")
    memory: str | None = Field(None, description="Memory quantity, e.g. '4Gi'.")
    gpu: int = Field(0, ge=0, description="Number of GPUs.")
    gpu_type: str | None = Field(None, description="Accelerator resource or type, e.g. 'nvidia.com/gpu'.")

    @field_validator("cpu", mode="before")
    @classmethod
    def _cpu_number(cls, value: object) -> object:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return value


class KfCellMetadata(BaseModel):
    """Schema of ``metadata.kfjupyter`` on a code cell."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = Field(None, description="What the cell is; 'step' when 'step' is given.")
    step: str | None = Field(
        None, description=f"Step name (lower case letters, digits, '_'; at most {MAX_STEP_NAME_LENGTH})."
    )
    after: list[str] = Field(default_factory=list, description="Steps that must finish first.")
    resources: ResourcesSpec | None = Field(None, description="CPU, memory and GPUs.")
    image: str | None = Field(None, description="Container image for cluster runs.")
    retries: int | None = Field(
        None, ge=0, le=MAX_RETRIES, description=f"Retries of a failed step (0 to {MAX_RETRIES})."
    )
    timeout: float | None = Field(
        None,
        gt=0,
        le=MAX_TIMEOUT_S,
        description=f"Time limit of one attempt, in seconds (at most {MAX_TIMEOUT_S}: 30 days).",
    )
    cache: bool | None = Field(None, description="Whether outputs may come from the cache.")
    pure: bool | None = Field(
        None,
        description="The step only reads the objects it receives: calls whose effects cannot be told "
        "(e.g. model.predict(X), plot(df)) are not taken as changes, so the steps reading the same object "
        "can run in parallel. A run fails the step if it does change an input.",
    )
    notebook: str | None = Field(
        None,
        description="Run this notebook (relative to this one) as the step, papermill-style: its "
        "parameters cell is overridden by the pipeline parameters passed to it.",
    )
    outputs: list[str] = Field(
        default_factory=list, description="With 'notebook': the variables it defines that later steps read."
    )
    parameters: list[str] | None = Field(
        None,
        description="With 'notebook': the pipeline parameters passed to it (default: every pipeline "
        "parameter it also declares).",
    )
    depends_on: list[str] = Field(
        default_factory=list,
        description="Files or glob patterns, relative to the notebook, that the step reads in ways the "
        "cache cannot see (a subprocess, a compiled library): their contents join its cache key.",
    )
    depends_on_env: list[str] = Field(
        default_factory=list,
        description="Environment variables the step's result depends on: their values join its cache key.",
    )

    @field_validator("depends_on")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        if any(not p.strip() for p in value):
            raise ValueError("a file or glob pattern may not be empty")
        return value

    @field_validator("depends_on_env")
    @classmethod
    def _env_names(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not ENV_NAME_RE.match(v)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not an environment variable name (letters, digits, '_')")
        return value

    @model_validator(mode="after")
    def _role_and_step(self) -> KfCellMetadata:
        if self.role is None and self.step is not None:
            self.role = "step"
        if self.role == "step" and not self.step:
            raise ValueError("a step needs a name: set 'step'")
        if self.role not in (None, "step") and self.step is not None:
            raise ValueError(f"'step' is only allowed with role 'step', not {self.role!r}")
        has_settings = bool(
            self.after
            or self.resources
            or self.image
            or self.timeout
            or self.depends_on
            or self.depends_on_env
        ) or any(v is not None for v in (self.retries, self.cache, self.pure))
        if (self.outputs or self.parameters is not None) and self.notebook is None:
            raise ValueError("'outputs' and 'parameters' go with 'notebook' (a step that runs a notebook)")
        if self.notebook is not None and self.role != "step":
            raise ValueError("'notebook' is only allowed on a step: set 'step'")
        if self.role not in (None, "step") and has_settings:
            raise ValueError(f"step settings are only allowed on a step, not on role {self.role!r}")
        return self


def parse_cell_metadata(metadata: Mapping[str, Any], cell: int) -> CellMark | None:
    """Read ``metadata.kfjupyter`` into a CellMark; None when absent or empty.

    Raises InvalidInput naming the cell and the offending field when the object does not match the
    schema.
    """
    raw = metadata.get(METADATA_KEY)
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"cell {cell}: metadata.kfjupyter must be an object, not {type(raw).__name__}.")
    try:
        spec = KfCellMetadata.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        where = f"metadata.kfjupyter.{field}" if field else "metadata.kfjupyter"
        raise InvalidInput(f"cell {cell}: {where}: {first['msg']}.", detail=str(exc)) from None
    if spec.role is None:
        return None
    res = spec.resources or ResourcesSpec()
    settings = MarkSettings(
        cpu=res.cpu,
        memory=res.memory,
        gpu=res.gpu if spec.resources is not None else None,
        gpu_type=res.gpu_type,
        image=spec.image,
        retries=spec.retries,
        timeout_s=spec.timeout,
        cache=spec.cache,
        pure=spec.pure,
        depends_on=tuple(spec.depends_on),
        depends_on_env=tuple(spec.depends_on_env),
    )
    sub = None
    if spec.notebook is not None:
        sub = SubNotebook(
            path=spec.notebook,
            outputs=tuple(dict.fromkeys(spec.outputs)),
            parameters=tuple(dict.fromkeys(spec.parameters)) if spec.parameters is not None else None,
        )
    return CellMark(
        role=spec.role,
        syntax="metadata",
        step=spec.step,
        after=tuple(dict.fromkeys(spec.after)),
        settings=settings,
        notebook=sub,
    )
