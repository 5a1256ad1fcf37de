"""Wire step components into a KFP pipeline and compile it to deterministic v2 YAML.

The pipeline's signature is built from the notebook's typed parameters (``inspect.Parameter``
objects, with any ``NAME=VALUE`` overrides as new defaults) and handed to ``kfp.dsl.pipeline``;
its body creates one task per step in the IR's topological order. ``kfp.compiler`` writes the YAML.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import json_format
from kfp import dsl
from kfp.dsl.types import type_utils

from kfjupyter.compiler.ir import JsonValue, Pipeline, Step
from kfjupyter.compiler.shipping import check_limit, pipeline_files, ship_limit, step_sources
from kfjupyter.errors import InvalidInput
from kfjupyter.kfp.components import PinnedPackages, build_component
from kfjupyter.kfp.names import check_task_names
from kfjupyter.kfp.payload import param_input, value_input, value_output
from kfjupyter.kfp.requirements import PackagesMode, StepRequirements, pipeline_requirements
from kfjupyter.kfp.settings import apply_settings, create_volumes

IMAGE_ENV = "KFJUPYTER_IMAGE"
_ANNOTATIONS: dict[str, type] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "list": list,
    "dict": dict,
}


def resolve_image(step: Step, image: str | None) -> str:
    """--image, else $KFJUPYTER_IMAGE, else the step's own image setting; InvalidInput if none."""
    chosen = image or os.environ.get(IMAGE_ENV) or step.settings.image
    if not chosen:
        raise InvalidInput(
            f"step {step.name!r} has no container image: pass --image, set ${IMAGE_ENV}, "
            "or give the step an image setting. The image needs kfjupyter installed."
        )
    return chosen


def _signature(pipeline: Pipeline, values: Mapping[str, JsonValue]) -> inspect.Signature:
    params = [
        inspect.Parameter(
            p.name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=values.get(p.name, p.default),
            annotation=_ANNOTATIONS[p.type],
        )
        for p in pipeline.parameters
    ]
    return inspect.Signature(params)


def build_pipeline(
    pipeline: Pipeline,
    *,
    values: Mapping[str, JsonValue] | None = None,
    image: str | None = None,
    source_dir: Path | None = None,
    limit: int | None = None,
    packages: PackagesMode = "none",
    requirements: Mapping[str, StepRequirements] | None = None,
) -> Any:
    """The ``kfp.dsl`` graph component for ``pipeline`` (parameter defaults from ``values``).

    ``source_dir`` is the notebook's folder: the modules steps import from there and the files they
    name travel in each step's payload (so they also join its KFP cache key), at most ``limit``
    bytes in all (default: :func:`~kfjupyter.compiler.shipping.ship_limit`). ``packages``:
    ``"auto"`` installs each step's imports pinned at this environment's versions, ``"check"`` has
    the container check them (``requirements``: from :func:`step_requirements_of`, else computed).
    """
    values = dict(values or {})
    check_task_names(s.name for s in pipeline.steps)
    shipped = pipeline_files(pipeline, source_dir) if source_dir is not None else {}
    check_limit(shipped, ship_limit(limit))
    pins: dict[str, PinnedPackages] = {}
    if packages != "none":
        found = requirements if requirements is not None else step_requirements_of(pipeline, source_dir)
        for name, needs in found.items():
            pinned = tuple(needs.pins)
            pins[name] = (
                PinnedPackages(install=pinned) if packages == "auto" else PinnedPackages(check=pinned)
            )
    components = {
        s.name: build_component(
            pipeline, s, resolve_image(s, image), source_dir, shipped.get(s.name), pins.get(s.name)
        )
        for s in pipeline.steps
    }
    names = [p.name for p in pipeline.parameters]

    def body(*args: Any) -> None:
        channels = dict(zip(names, args, strict=True))
        tasks: dict[str, Any] = {}
        created = create_volumes([s.settings for s in pipeline.steps])
        for step in pipeline.steps:
            kwargs: dict[str, Any] = {param_input(n): channels[n] for n in step.parameters if n in channels}
            for variable, producer in sorted(step.inputs.items()):
                kwargs[value_input(variable)] = tasks[producer].outputs[value_output(variable)]
            task = components[step.name](**kwargs)
            task.set_display_name(step.name)
            explicit = sorted(set(step.after) - set(step.inputs.values()))
            if explicit:
                task.after(*(tasks[name] for name in explicit))
            apply_settings(task, step.settings, step=step.name, created=created)
            tasks[step.name] = task

    body.__signature__ = _signature(pipeline, values)  # type: ignore[attr-defined]
    body.__annotations__ = {p.name: _ANNOTATIONS[p.type] for p in pipeline.parameters}
    return dsl.pipeline(name=pipeline_name(pipeline.name), description=f"Notebook {pipeline.name}")(body)


def step_requirements_of(pipeline: Pipeline, source_dir: Path | None) -> dict[str, StepRequirements]:
    """Each step's third-party imports, pinned at this environment's versions."""
    steps = {
        s.name: ([b.source for b in step_sources(pipeline, s)], list(s.settings.packages))
        for s in pipeline.steps
    }
    return pipeline_requirements(steps, source_dir)


def pipeline_name(name: str) -> str:
    """The KFP pipeline name: lower case letters, digits and dashes."""
    safe = "".join(c if c.isalnum() and c.isascii() else "-" for c in name.lower()).strip("-")
    return "-".join(part for part in safe.split("-") if part) or "notebook"


def compile_to_yaml(
    pipeline: Pipeline,
    *,
    values: Mapping[str, JsonValue] | None = None,
    image: str | None = None,
    source_dir: Path | None = None,
    limit: int | None = None,
    packages: PackagesMode = "none",
    requirements: Mapping[str, StepRequirements] | None = None,
) -> str:
    """Compile ``pipeline`` to KFP v2 IR YAML text (identical bytes for identical input).

    ``source_dir``, ``limit``, ``packages``, ``requirements``: what travels with the steps and what
    they install or check (see :func:`build_pipeline`).

    The specs come from the kfp compiler (``GraphComponent.pipeline_spec`` / ``platform_spec``) and
    are dumped exactly as ``kfp.compiler.Compiler`` dumps them, minus its ``# Inputs:`` comment
    header: kfp 2.17 writes parameter defaults into that header unescaped, so a default containing
    a newline produces YAML that ``kfp.components.load_component_from_file`` cannot read back.
    """
    graph = build_pipeline(
        pipeline,
        values=values,
        image=image,
        source_dir=source_dir,
        limit=limit,
        packages=packages,
        requirements=requirements,
    )
    with type_utils.TypeCheckManager(enable=True):
        documents = [json_format.MessageToDict(graph.pipeline_spec)]
        if len(graph.platform_spec.platforms) > 0:
            documents.append(json_format.MessageToDict(graph.platform_spec))
    text: str = yaml.safe_dump_all(documents, sort_keys=True, allow_unicode=False)
    return text
