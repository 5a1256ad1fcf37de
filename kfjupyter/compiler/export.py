"""Exporting a pipeline's graph: a JSON document for the UI and golden tests, and Graphviz DOT.

Both are deterministic: nodes in the pipeline's topological order, edges sorted. DOT output quotes
every identifier and label, so step names, variable names and pipeline names containing quotes,
backslashes, braces or newlines cannot break the document.
"""

from __future__ import annotations

from typing import Any

from kfjupyter.compiler.ir import Pipeline, Step


def graph_to_json(pipeline: Pipeline) -> dict[str, Any]:
    """Describe the pipeline as ``{"name", "parameters", "setup_cells", "nodes", "edges"}``.

    Also ``parameter_cells`` (the cells that define parameters) and ``skipped_cells`` (left out by a
    ``skip`` marker), so an editor can badge every kind of cell. Nodes carry name, kind, cells, inputs, outputs, parameters and the non-default settings; edges
    carry ``from``/``to``, the variables passed and whether the edge was declared explicitly.
    """
    nodes = [
        {
            "name": step.name,
            "kind": step.kind,
            "cells": [b.cell for b in step.blocks],
            "inputs": dict(step.inputs),
            "outputs": list(step.outputs),
            "parameters": list(step.parameters),
            "settings": step.settings.model_dump(mode="json", exclude_defaults=True),
        }
        for step in pipeline.steps
    ]
    return {
        "name": pipeline.name,
        "parameters": [{"name": p.name, "type": p.type, "default": p.default} for p in pipeline.parameters],
        "setup_cells": [b.cell for b in pipeline.setup],
        "parameter_cells": sorted({p.cell for p in pipeline.parameters}),
        "skipped_cells": list(pipeline.skipped_cells),
        "nodes": nodes,
        "edges": graph_edges(pipeline),
    }


def graph_edges(pipeline: Pipeline) -> list[dict[str, Any]]:
    """Edges ``{"from", "to", "variables", "explicit"}`` ordered by downstream step, then upstream."""
    position = {s.name: i for i, s in enumerate(pipeline.steps)}
    edges: list[dict[str, Any]] = []
    for step in pipeline.steps:
        for up in sorted(step.upstream, key=lambda n: (position.get(n, len(position)), n)):
            edges.append(
                {
                    "from": up,
                    "to": step.name,
                    "variables": sorted(v for v, producer in step.inputs.items() if producer == up),
                    "explicit": up in step.after,
                }
            )
    return edges


def graph_to_dot(pipeline: Pipeline) -> str:
    """Render the pipeline as a Graphviz ``digraph``; every string is quoted and escaped."""
    lines = [f"digraph {_quote(pipeline.name)} {{", "  rankdir=TB;", '  node [shape=box, style="rounded"];']
    for step in pipeline.steps:
        lines.append(f"  {_quote(step.name)} [label={_quote(_node_label(step))}];")
    for edge in graph_edges(pipeline):
        attrs = [f"label={_quote(', '.join(edge['variables']))}"] if edge["variables"] else []
        if edge["explicit"] and not edge["variables"]:
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {_quote(edge['from'])} -> {_quote(edge['to'])}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_label(step: Step) -> str:
    cells = [b.cell for b in step.blocks]
    span = "" if not cells else ("cell " if len(cells) == 1 else "cells ") + ", ".join(map(str, cells))
    label = step.name if step.kind == "step" else f"{step.name} (metrics)"
    return f"{label}\n{span}" if span else label


def _quote(text: str) -> str:
    """A DOT double-quoted string; newlines become centred line breaks, other control characters go."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    escaped = "".join(ch if ch >= " " or ch == "\t" else " " for ch in escaped)
    return f'"{escaped}"'
