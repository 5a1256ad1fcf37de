"""One KFP container component per step, built from ``kfp.dsl.structures`` objects.

Every step's container runs the same program, ``python3 -m kfjupyter.kfp.entry``, with the KFP
executor input (``{{$}}``) as its only argument. The step's code travels as the ``step_job`` input
parameter whose default is the :class:`~kfjupyter.kfp.payload.KfpStep` JSON, so no user string is
ever part of a command line, a Python source or a YAML template.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfp import dsl
from kfp.dsl import base_component, structures

from kfjupyter.compiler.ir import ParamType, Pipeline, Step
from kfjupyter.compiler.local_modules import module_hashes
from kfjupyter.compiler.shipping import ShippedFile
from kfjupyter.kfp.names import component_name
from kfjupyter.kfp.packing import pack
from kfjupyter.kfp.payload import JOB_INPUT, METRICS_OUTPUT, KfpStep, param_input, value_input, value_output
from kfjupyter.runner.job import Source
from kfjupyter.runner.planning import setup_blocks

ENTRY_COMMAND = ["python3", "-m", "kfjupyter.kfp.entry"]
ARTIFACT_TYPE = "system.Artifact@0.0.1"
METRICS_TYPE = "system.Metrics@0.0.1"
PARAM_TYPES: dict[ParamType, str] = {
    "int": "Integer",
    "float": "Float",
    "str": "String",
    "bool": "Boolean",
    "list": "List",
    "dict": "Dict",
}


@dataclass(frozen=True)
class PinnedPackages:
    """A step's imports pinned (``name==version``): to install before it runs, or to check."""

    install: tuple[str, ...] = ()
    check: tuple[str, ...] = ()


class StepComponent(base_component.BaseComponent):  # type: ignore[misc]
    """A container component whose spec was built in code (executes only on a KFP backend)."""

    def execute(self, **kwargs: Any) -> Any:
        """Not available in-process: run it through ``kfp.local`` or a KFP cluster."""
        raise NotImplementedError


def step_payload(
    pipeline: Pipeline,
    step: Step,
    source_dir: Path | None = None,
    files: list[ShippedFile] | None = None,
    pins: PinnedPackages | None = None,
) -> KfpStep:
    """The payload a step's container runs.

    ``source_dir``: the notebook's folder, to find its modules; ``files``: what the step carries
    (see :mod:`kfjupyter.compiler.shipping`); ``pins``: its imports pinned, to install or to check.
    """
    types = {p.name: p.type for p in pipeline.parameters}
    setup = setup_blocks(pipeline, step)
    modules = {}
    if source_dir is not None:
        modules = module_hashes([b.source for b in [*setup, *step.blocks]], source_dir)
    return KfpStep(
        pipeline=pipeline.name,
        step=step.name,
        kind=step.kind,
        setup=[Source(cell=b.cell, code=b.source, first_line=b.first_line, origin=b.origin) for b in setup],
        code=[
            Source(cell=b.cell, code=b.source, first_line=b.first_line, origin=b.origin) for b in step.blocks
        ],
        parameters={name: types[name] for name in step.parameters if name in types},
        inputs=sorted(step.inputs),
        outputs=list(step.outputs),
        metrics=list(step.metrics),
        relink={k: list(v) for k, v in step.relink.items()},
        modules=modules,
        files=pack(files or []),
        packages_to_install=[*step.settings.packages, *(pins.install if pins else [])],
        expected_packages=list(pins.check) if pins else [],
    )


def build_component(
    pipeline: Pipeline,
    step: Step,
    image: str,
    source_dir: Path | None = None,
    files: list[ShippedFile] | None = None,
    pins: PinnedPackages | None = None,
) -> StepComponent:
    """The container component for ``step``, running in ``image``, carrying ``files`` and ``pins``."""
    payload = step_payload(pipeline, step, source_dir, files, pins)
    # Without local modules the payload is written as before, so unchanged pipelines keep their specs.
    empty = {
        name for name in ("modules", "relink", "files", "expected_packages") if not getattr(payload, name)
    }
    # exclude_none: a cell's origin is only written for code from another notebook
    text = payload.model_dump_json(exclude=empty or None, exclude_none=True)
    inputs: dict[str, structures.InputSpec] = {
        JOB_INPUT: structures.InputSpec(
            type="String", default=text, optional=True, description="The step's code."
        )
    }
    for name, kind in payload.parameters.items():
        inputs[param_input(name)] = structures.InputSpec(
            type=PARAM_TYPES[kind], description=f"Parameter {name}."
        )
    for variable in payload.inputs:
        inputs[value_input(variable)] = structures.InputSpec(
            type=ARTIFACT_TYPE, description=f"Value of {variable} from step {step.inputs[variable]}."
        )
    outputs: dict[str, structures.OutputSpec] = {
        value_output(variable): structures.OutputSpec(type=ARTIFACT_TYPE, description=f"Value of {variable}.")
        for variable in payload.outputs
    }
    outputs[METRICS_OUTPUT] = structures.OutputSpec(type=METRICS_TYPE, description="Metrics the step logged.")
    container = structures.ContainerSpecImplementation(
        image=image,
        command=list(ENTRY_COMMAND),
        args=["--executor-input", dsl.PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER],
    )
    spec = structures.ComponentSpec(
        name=component_name(step.name),
        description=f"Notebook step {step.name}",
        inputs=inputs,
        outputs=outputs,
        implementation=structures.Implementation(container=container),
    )
    return StepComponent(component_spec=spec)
