"""Turn an IR step plus its upstream outputs into a :class:`StepJob` and a cache key."""

from __future__ import annotations

import ast
import glob
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from kfjupyter.compiler.ir import CodeBlock, JsonValue, Pipeline, Step
from kfjupyter.runner.cache import step_cache_key
from kfjupyter.runner.job import SavedOutput, Source, StepJob, ValueRef
from kfjupyter.runner.tracking import file_sha256


def _source(block: CodeBlock) -> Source:
    return Source(cell=block.cell, code=block.source, first_line=block.first_line, origin=block.origin)


def setup_blocks(pipeline: Pipeline, step: Step) -> list[CodeBlock]:
    """The shared set-up cells ``step`` runs before its own code, in notebook order."""
    wanted = set(step.setup)
    return [b for b in pipeline.setup if b.cell in wanted]


def preload_modules(pipeline: Pipeline) -> list[str]:
    """Top-level modules the set-up cells import: worth importing once in the fork server."""
    names: dict[str, None] = {}
    for block in pipeline.setup:
        try:
            tree = ast.parse(block.source)
        except SyntaxError:
            continue  # IPython syntax or a real error: lint reports it; nothing to preload here
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    names[alias.name] = None
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names[node.module] = None
    return list(names)


def step_parameters(step: Step, values: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    """The parameter values ``step`` reads (and only those)."""
    return {name: values[name] for name in step.parameters if name in values}


def declared_inputs(step: Step, workdir: Path, environ: Mapping[str, str]) -> dict[str, JsonValue]:
    """What the step declares it depends on: each pattern's files with their hashes, each variable's value.

    A pattern matching nothing is kept (with no files), so a file appearing later changes the key.
    """
    files: dict[str, JsonValue] = {}
    for pattern in step.settings.depends_on:
        # glob.glob, not Path.glob: a pattern may be absolute or start with '..'.
        matches = sorted(glob.glob(str(workdir / pattern), recursive=True))  # noqa: PTH207
        found = [Path(m) for m in matches]
        files[pattern] = {os.path.relpath(m, workdir): file_sha256(str(m)) for m in found if m.is_file()}
    env: dict[str, JsonValue] = {name: environ.get(name) for name in step.settings.depends_on_env}
    return {"files": files, "env": env} if files or env else {}


def cache_key(
    pipeline: Pipeline,
    step: Step,
    parameters: Mapping[str, JsonValue],
    produced: Mapping[str, Mapping[str, SavedOutput]],
    *,
    workdir: Path,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Cache key of ``step`` given the outputs its upstream steps produced (``environ``: os.environ)."""
    inputs = {name: produced[producer][name].sha256 for name, producer in step.inputs.items()}
    return step_cache_key(
        kind=step.kind,
        setup=[b.source for b in setup_blocks(pipeline, step)],
        code=[b.source for b in step.blocks],
        parameters=step_parameters(step, parameters),
        inputs=inputs,
        outputs=step.outputs,
        declared=declared_inputs(step, workdir, os.environ if environ is None else environ),
    )


def build_job(
    *,
    run_id: str,
    pipeline: Pipeline,
    step: Step,
    parameters: Mapping[str, JsonValue],
    produced: Mapping[str, Mapping[str, SavedOutput]],
    workdir: Path,
    step_dir: Path,
    log_path: Path,
) -> StepJob:
    """The job file contents for one attempt of ``step``."""
    inputs = {}
    for name, producer in step.inputs.items():
        out = produced[producer][name]
        inputs[name] = ValueRef(path=out.path, serializer=out.serializer, sha256=out.sha256)
    return StepJob(
        run_id=run_id,
        step=step.name,
        kind=step.kind,
        setup=[_source(b) for b in setup_blocks(pipeline, step)],
        code=[_source(b) for b in step.blocks],
        parameters=step_parameters(step, parameters),
        inputs=inputs,
        outputs=list(step.outputs),
        metrics=list(step.metrics),
        workdir=str(workdir),
        step_dir=str(step_dir),
        log_path=str(log_path),
        relink={k: list(v) for k, v in step.relink.items()},
        unchanged=unchanged_inputs(pipeline, step),
    )


def unchanged_inputs(pipeline: Pipeline, step: Step) -> dict[str, list[str]]:
    """Inputs ``step`` is taken to only read that a step later in the notebook reads from the same producer.

    Maps each to ``[producer, later step]``: were ``step`` to change the input, that later step would not
    see the change (the runner's unchanged-input guard checks these).
    """
    first = step.blocks[0].cell if step.blocks else -1
    found: dict[str, list[str]] = {}
    for name, producer in step.inputs.items():
        if name in step.changes:
            continue
        for other in pipeline.steps:
            later = other.blocks[0].cell > first if other.blocks else False
            if other.name != step.name and later and other.inputs.get(name) == producer:
                found[name] = [producer, other.name]
                break
    return found


def dag_of(pipeline: Pipeline) -> dict[str, Sequence[str]]:
    """Step name -> direct upstream step names, in the pipeline's topological order."""
    return {step.name: step.upstream for step in pipeline.steps}
