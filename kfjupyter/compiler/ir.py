"""Typed pipeline IR: the one model every notebook syntax compiles to.

Kale tags, ``metadata.kfjupyter`` and ``%%step`` all produce a :class:`Pipeline`. The local runner,
the KFP compiler, lint and the UI consume it. Models are immutable pydantic v2 objects with
``extra="forbid"`` so a typo in a field is an error, not a silently ignored setting.
"""

from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeAliasType

from kfjupyter.notebook.marks import MAX_RETRIES, MAX_STEP_NAME_LENGTH, MAX_TIMEOUT_S

# A named recursive alias: pydantic cannot build a schema from a plain recursive Union alias.
JsonValue = TypeAliasType(
    "JsonValue", "Union[None, bool, int, float, str, list[JsonValue], dict[str, JsonValue]]"
)
ParamType = Literal["int", "float", "str", "bool", "list", "dict"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resources(_Frozen):
    """Compute a step asks for; honoured on clusters, reported as ignored locally."""

    cpu: str | None = Field(None, description="CPU request/limit, Kubernetes quantity (e.g. '2', '500m').")
    memory: str | None = Field(None, description="Memory request/limit, Kubernetes quantity (e.g. '4Gi').")
    gpu: int = Field(0, ge=0, description="Number of GPUs.")
    gpu_type: str | None = Field(
        None, description="Accelerator type/resource (e.g. 'nvidia.com/gpu' or a node label value)."
    )
    extra_limits: dict[str, str] = Field(
        default_factory=dict, description="Other resource limits by resource name (from Kale's limit: tags)."
    )


class StepSettings(_Frozen):
    """Per-step execution settings, from any of the three notebook syntaxes."""

    resources: Resources = Field(default_factory=Resources, description="Compute resources.")
    image: str | None = Field(None, description="Container image for cluster runs.")
    retries: int = Field(
        0,
        ge=0,
        le=MAX_RETRIES,
        description=f"How many times a failed step is retried (at most {MAX_RETRIES}).",
    )
    timeout_s: float | None = Field(
        None,
        gt=0,
        le=MAX_TIMEOUT_S,
        description=f"Wall-clock limit for one attempt, in seconds (at most {MAX_TIMEOUT_S}: 30 days).",
    )
    cache: bool = Field(True, description="Whether the step's outputs may be reused from the cache.")
    depends_on: list[str] = Field(
        default_factory=list,
        description="Files or glob patterns (relative to the notebook) whose contents join the cache key.",
    )
    depends_on_env: list[str] = Field(
        default_factory=list, description="Environment variables whose values join the cache key."
    )
    node_selector: dict[str, str] = Field(default_factory=dict, description="Kubernetes node selector.")
    tolerations: list[dict[str, str]] = Field(default_factory=list, description="Kubernetes tolerations.")
    volumes: list[dict[str, str]] = Field(
        default_factory=list, description="PVC mounts: {'pvc': name, 'mount_path': path}."
    )
    secrets: list[dict[str, str]] = Field(
        default_factory=list, description="Secrets as env: {'secret': name, 'key': key, 'env': VAR}."
    )
    annotations: dict[str, str] = Field(default_factory=dict, description="Pod annotations.")
    labels: dict[str, str] = Field(default_factory=dict, description="Pod labels.")
    packages: list[str] = Field(
        default_factory=list,
        description="Packages from the notebook's pip install lines: installed in the step's container on a "
        "cluster (KFP packages_to_install), reported and not installed when running locally.",
    )


class CodeBlock(_Frozen):
    """The source of one notebook cell, as written (IPython syntax allowed)."""

    cell: int = Field(description="Index of the cell in the notebook (0-based, all cell types counted).")
    source: str = Field(description="The cell's source text, with any %%step line removed.")
    first_line: int = Field(1, description="Line number in the cell where `source` starts (1-based).")
    origin: str | None = Field(
        None, description="Where the code comes from when not from this cell (a step's notebook's cell)."
    )


class Parameter(_Frozen):
    """A typed pipeline parameter from a `pipeline-parameters` cell."""

    name: str
    type: ParamType
    default: JsonValue
    cell: int


class Step(_Frozen):
    """One pipeline step: consecutive cells run together in one process."""

    name: str = Field(
        min_length=1, max_length=MAX_STEP_NAME_LENGTH, description="Step name, unique in the pipeline."
    )
    kind: Literal["step", "metrics"] = Field(
        "step", description="'metrics' for Kale's pipeline-metrics cell."
    )
    blocks: list[CodeBlock]
    after: list[str] = Field(default_factory=list, description="Explicit upstream steps (prev:/after).")
    inputs: dict[str, str] = Field(
        default_factory=dict, description="Variable name -> the upstream step that produces it."
    )
    outputs: list[str] = Field(
        default_factory=list, description="Variables downstream steps read from this step."
    )
    parameters: list[str] = Field(default_factory=list, description="Pipeline parameters this step reads.")
    changes: list[str] = Field(
        default_factory=list,
        description="Objects this step receives and changes in place (or may change); later steps take them "
        "from it. Its other inputs are checked unchanged after it runs.",
    )
    metrics: list[str] = Field(
        default_factory=list, description="Names a metrics step records (its print(name) lines)."
    )
    relink: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Containers this step receives that hold, in the notebook, the very objects named here "
        "(combine = [a, b]); the step re-links them after loading, so changes through one reach the other.",
    )
    setup: list[int] = Field(
        default_factory=list, description="Cells of shared set-up (imports/functions) this step needs."
    )
    settings: StepSettings = Field(default_factory=StepSettings)

    @property
    def upstream(self) -> list[str]:
        """All direct upstream steps: explicit edges plus data edges, sorted."""
        return sorted(set(self.after) | set(self.inputs.values()))


class Pipeline(_Frozen):
    """A whole notebook compiled to steps, in a topological order."""

    name: str
    setup: list[CodeBlock] = Field(default_factory=list, description="imports/functions and pre-step cells.")
    parameters: list[Parameter] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    skipped_cells: list[int] = Field(
        default_factory=list, description="Code cells left out of the pipeline by a 'skip' marker."
    )

    def step(self, name: str) -> Step:
        """Return the step called ``name``; KeyError when there is none."""
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)
