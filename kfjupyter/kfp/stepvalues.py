"""Load what a step of a Kubeflow Pipelines run was given (or produced), from the run's pipeline root.

``%kf load RUN STEP`` of a ``kfp`` run: the step's parameters are the run's recorded parameters;
its inputs are the output artifacts of the steps upstream, each a folder holding the saved value
and a :class:`~kfjupyter.kfp.payload.ValueManifest` (written by :mod:`kfjupyter.kfp.entry`). What
the step reads and which step produced each input come from the compiled pipeline the run keeps
(``pipeline.yaml`` in its folder of the run store), where its artifacts are from the pipeline root
and its mounts (:mod:`kfjupyter.kfp.rootpaths`). Values load with the serializer that saved them,
memory-mapped where it allows, exactly as for a local run (:class:`~kfjupyter.runner.loading.StepValues`).

When an artifact cannot be read here, the error names the step, the variable, the artifact's URI
and what to set: ``KFJUPYTER_PIPELINE_ROOT_MOUNTS`` (or mount the storage), ``KFJUPYTER_PIPELINE_ROOT``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kfjupyter.compiler.ir import JsonValue
from kfjupyter.errors import InvalidInput, NotFound
from kfjupyter.kfp.entry import coerce
from kfjupyter.kfp.payload import JOB_INPUT, MANIFEST, PACKAGE_FILE, KfpStep, ValueManifest, value_output
from kfjupyter.kfp.rootpaths import (
    MOUNTS_ENV,
    ROOT_ENV,
    local_path,
    mounts_from,
    pipeline_root,
    run_root,
    storage_of,
)
from kfjupyter.runner.loading import LoadedValue, StepValues, check_step, status_words
from kfjupyter.store import RunRecord, RunStore


@dataclass(frozen=True)
class Producer:
    """Where one input of a step comes from: the producing step, its task names and its artifact."""

    step: str
    tasks: tuple[str, ...]  # the folder names KFP may use: task name, display name
    artifact: str


@dataclass(frozen=True)
class CompiledStep:
    """One step of a compiled pipeline: its payload, its task names and its inputs' producers."""

    payload: KfpStep
    tasks: tuple[str, ...]
    producers: dict[str, Producer] = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledPipeline:
    """What loading needs from a compiled pipeline: its name, root, parameter defaults and steps."""

    name: str
    default_root: str | None
    defaults: dict[str, JsonValue]
    steps: dict[str, CompiledStep]


def _task_names(task: str, spec: Mapping[str, Any]) -> tuple[str, ...]:
    display = str(spec.get("taskInfo", {}).get("name") or "")
    return tuple(dict.fromkeys(n for n in (task, display) if n and "/" not in n and n not in (".", "..")))


def read_compiled(text: str) -> CompiledPipeline:
    """The steps of a pipeline YAML compiled by kfjupyter (``InvalidInput`` when it is not one)."""
    try:
        spec = next(yaml.safe_load_all(text))  # a second document holds the Kubernetes platform spec
        components: dict[str, Any] = spec.get("components", {})
        tasks: dict[str, Any] = spec["root"]["dag"]["tasks"]
        name = str(spec["pipelineInfo"]["name"])
    except (yaml.YAMLError, StopIteration, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput(
            f"the compiled pipeline is not a KFP pipeline spec: {exc}", detail=repr(exc)
        ) from exc
    payloads: dict[str, KfpStep] = {}
    for task, body in tasks.items():
        component = components.get(str(body.get("componentRef", {}).get("name")), {})
        job = component.get("inputDefinitions", {}).get("parameters", {}).get(JOB_INPUT)
        if job is None:
            continue  # not a notebook step (e.g. a volume-creating task)
        try:
            payloads[task] = KfpStep.model_validate_json(job["defaultValue"])
        except (KeyError, ValidationError) as exc:
            raise InvalidInput(f"task {task!r} of the compiled pipeline has no valid step payload") from exc
    steps: dict[str, CompiledStep] = {}
    for task, payload in payloads.items():
        producers = {}
        for key, source in tasks[task].get("inputs", {}).get("artifacts", {}).items():
            out = source.get("taskOutputArtifact", {})
            producer = str(out.get("producerTask", ""))
            if producer in payloads:
                variable = str(key).removeprefix("in_")
                producers[variable] = Producer(
                    payloads[producer].step,
                    _task_names(producer, tasks[producer]),
                    str(out.get("outputArtifactKey") or value_output(variable)),
                )
        steps[payload.step] = CompiledStep(payload, _task_names(task, tasks[task]), producers)
    defaults = {
        str(k): v["defaultValue"]
        for k, v in spec["root"].get("inputDefinitions", {}).get("parameters", {}).items()
        if isinstance(v, dict) and "defaultValue" in v
    }
    return CompiledPipeline(name, spec.get("defaultPipelineRoot") or None, defaults, steps)


def compiled_pipeline(store: RunStore, run: RunRecord) -> CompiledPipeline:
    """The compiled pipeline ``run`` kept when it was submitted."""
    package = store.run_dir(run.id) / PACKAGE_FILE
    try:
        text = package.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(
            f"run {run.id} ran on Kubeflow Pipelines but its compiled pipeline ({package}) is gone, so which "
            "artifacts its steps read is not known here; submit the notebook again (`kfjupyter submit NB`)"
        ) from None
    return read_compiled(text)


@dataclass(frozen=True)
class _Where:
    """The pipeline root of one run, its URI, and its folder here (None: no mount covers it)."""

    root: str
    uri: str
    folder: Path | None


class _Locator:
    """Finds the saved value of one artifact of a run, or says why it cannot be read here."""

    def __init__(self, run: RunRecord, compiled: CompiledPipeline, environ: Mapping[str, str]) -> None:
        root = pipeline_root(environ, compiled.default_root)
        uri = run_root(root, compiled.name, str(run.external_id))
        self.where = _Where(root, uri, local_path(uri, mounts_from(environ)))

    def find(
        self, what: str, step: str, tasks: tuple[str, ...], artifact: str, status: str
    ) -> tuple[str, str]:
        """The saved file and serializer in artifact ``artifact`` of ``step``, which ran as task ``tasks``.

        ``what`` names the value in errors; ``status`` is the step's, to say why nothing is there.
        """
        uri = f"{self.where.uri}/{tasks[0]}/{artifact}"
        if self.where.folder is None:
            raise InvalidInput(self._unmapped(what, uri))
        try:
            folder = self._latest(self.where.folder, tasks, artifact)
            if folder is None:
                raise NotFound(self._missing(what, uri, step, status))
            manifest = ValueManifest.model_validate_json((folder / MANIFEST).read_text(encoding="utf-8"))
        except PermissionError as exc:
            raise InvalidInput(
                f"cannot load {what}: its artifact {uri} is at {exc.filename or self.where.folder}, which "
                "this user may not read; make the mounted pipeline root readable here",
                detail=repr(exc),
            ) from exc
        except ValidationError as exc:
            raise InvalidInput(
                f"cannot load {what}: its artifact {uri} has no valid kfjupyter value manifest",
                detail=str(exc),
            ) from exc
        path = folder / manifest.file
        if Path(manifest.file).name != manifest.file or not path.is_file():
            raise NotFound(f"cannot load {what}: its artifact {folder} lacks the file {manifest.file!r}")
        return str(path), manifest.serializer

    @staticmethod
    def _latest(run_folder: Path, tasks: tuple[str, ...], artifact: str) -> Path | None:
        """The newest folder of ``artifact`` holding a manifest: ``{task}/{artifact}`` or ``{task}/{salt}/{artifact}``."""
        found: list[Path] = []
        for task in tasks:
            base = run_folder / task
            found += [d for d in (base / artifact, *base.glob(f"*/{artifact}")) if (d / MANIFEST).is_file()]
        return max(found, key=lambda d: (d / MANIFEST).stat().st_mtime_ns, default=None)

    def _unmapped(self, what: str, uri: str) -> str:
        storage = storage_of(self.where.root)
        return (
            f"cannot load {what}: its value is the Kubeflow Pipelines artifact {uri}, and no directory "
            f"here is mapped to {storage}. Mount the pipeline root's storage on this machine and set "
            f"{MOUNTS_ENV}='{storage}=/path/to/the/mount' (comma-separated URI-PREFIX=DIRECTORY pairs); "
            f"if the cluster's pipeline root is not {self.where.root}, set {ROOT_ENV} to it"
        )

    def _missing(self, what: str, uri: str, step: str, status: str) -> str:
        here = self.where.folder / uri.removeprefix(self.where.uri + "/") if self.where.folder else uri
        state = "" if status in ("succeeded", "cached") else f" (step {step!r} {status_words(status)})"
        mounted = (
            ""
            if local_path(self.where.root, [])
            else f" is mounted at the directory {MOUNTS_ENV} maps it to and"
        )
        return (
            f"cannot load {what}: its artifact {uri} is not at {here}{state}. Check that the pipeline "
            f"root {self.where.root}{mounted} is the cluster's pipeline root ({ROOT_ENV}), and that step "
            f"{step!r} produced it"
        )


_NO_OUTPUTS = ("failed", "upstream_failed", "skipped", "cancelled")


def describe_kfp(
    store: RunStore,
    run_id: str,
    step: str,
    *,
    outputs: bool = False,
    environ: Mapping[str, str] | None = None,
) -> StepValues:
    """What ``load`` of ``step`` in KFP run ``run_id`` defines, its artifacts resolved to paths here.

    Inputs: the step's parameters (the run's recorded values) and the values of its input
    artifacts; ``outputs``: the values it saved. ``environ`` (default ``os.environ``) holds
    ``KFJUPYTER_PIPELINE_ROOT`` and ``KFJUPYTER_PIPELINE_ROOT_MOUNTS``.
    """
    run = check_step(store, run_id, step)
    compiled = compiled_pipeline(store, run)
    mine = compiled.steps.get(step)
    if mine is None:
        raise NotFound(f"the compiled pipeline of run {run_id} has no step {step!r}")
    statuses = {s.name: s.status for s in store.get_steps(run_id)}
    locator = _Locator(run, compiled, os.environ if environ is None else environ)
    found = StepValues(run_id, step, outputs)
    if outputs:
        if statuses[step] in _NO_OUTPUTS:
            raise InvalidInput(
                f"step {step!r} of run {run_id} has no outputs to load: it {status_words(statuses[step])}; "
                f"load its inputs instead (`%kf load {run_id} {step}`)"
            )
        for variable in mine.payload.outputs:
            what = f"output {variable!r} of step {step!r} (run {run_id})"
            path, serializer = locator.find(what, step, mine.tasks, value_output(variable), statuses[step])
            found.entries.append(LoadedValue(variable, "output", step, path, serializer))
        return found
    for name, kind in mine.payload.parameters.items():
        value = run.parameters.get(name, compiled.defaults.get(name))
        found.parameters[name] = coerce(value, kind)
        found.entries.append(LoadedValue(name, "parameter", ""))
    for variable in mine.payload.inputs:
        producer = mine.producers.get(variable)
        if producer is None:
            raise InvalidInput(
                f"the compiled pipeline of run {run_id} does not say where {variable!r} comes from"
            )
        what = f"input {variable!r} of step {step!r} (run {run_id}, from step {producer.step!r})"
        status = statuses.get(producer.step, "pending")
        path, serializer = locator.find(what, producer.step, producer.tasks, producer.artifact, status)
        found.entries.append(LoadedValue(variable, "input", producer.step, path, serializer))
    return found
