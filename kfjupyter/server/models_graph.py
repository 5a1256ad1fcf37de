"""REST models of a notebook's step graph, as ``POST /kfjupyter/api/notebooks/lint`` answers it.

The graph is :func:`kfjupyter.compiler.export.graph_to_json` typed field by field, so that the
committed schema (and the TypeScript generated from it) describes every field the editor reads.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from kfjupyter.compiler.ir import ParamType


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GraphParameter(_Model):
    """A pipeline parameter from the pipeline-parameters cells."""

    name: str = Field(description="Parameter name.")
    type: ParamType = Field(description="Type inferred from the default value.")
    default: JsonValue = Field(description="Default value, as the cell assigns it.")


class GraphNode(_Model):
    """One step of the graph and the cells it is made of."""

    name: str = Field(description="Step name.")
    kind: Literal["step", "metrics"] = Field(description="'metrics' for Kale's pipeline-metrics cell.")
    cells: list[int] = Field(
        description="The step's cells (0-based, all cell types counted); the first starts it."
    )
    inputs: dict[str, str] = Field(description="Variable name -> the upstream step that produces it.")
    outputs: list[str] = Field(description="Variables downstream steps read from this step.")
    parameters: list[str] = Field(description="Pipeline parameters the step reads.")
    settings: dict[str, JsonValue] = Field(description="The step's settings that differ from the defaults.")


class GraphEdge(_Model):
    """An edge ``from`` -> ``to`` with the variables passed along it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    from_: str = Field(alias="from", description="Upstream step.")
    to: str = Field(description="Downstream step.")
    variables: list[str] = Field(description="Variables passed along the edge, sorted.")
    explicit: bool = Field(description="Whether the edge was declared (prev:/after) rather than inferred.")


class LintGraph(_Model):
    """The pipeline graph of a notebook: steps in topological order, edges by downstream step."""

    name: str = Field(description="Pipeline name.")
    parameters: list[GraphParameter] = Field(description="Pipeline parameters in the order they are defined.")
    setup_cells: list[int] = Field(
        description="Cells every step runs first (imports, functions, parameters)."
    )
    parameter_cells: list[int] = Field(description="Cells that define pipeline parameters, ascending.")
    skipped_cells: list[int] = Field(description="Code cells left out by a `skip` marker.")
    nodes: list[GraphNode] = Field(description="Steps in topological order.")
    edges: list[GraphEdge] = Field(description="Edges ordered by downstream step, then upstream.")
