"""The program every compiled step's container runs: ``python3 -m kfjupyter.kfp.entry``.

It reads the KFP executor input (``{{$}}``), turns it into the local runner's
:class:`~kfjupyter.runner.job.StepJob`, runs it with the same IPython step runtime
(:func:`kfjupyter.runner.child.run_job`), copies saved values into the output artifacts with a
small manifest, and reports logged metrics as the step's KFP ``Metrics`` artifact. The files the
step carries (its notebook's modules and data files) are written into a fresh working folder first,
which becomes the current directory and the head of ``sys.path``.

It does not import ``kfp``: ``import kfp`` costs about half a second (it loads the API client and
the kubernetes package), paid by every step. :func:`artifact_path` repeats the SDK's URI-to-path
rule instead, and a unit test compares it with ``kfp.dsl.Artifact(...).path``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kfjupyter.compiler.ir import JsonValue, ParamType
from kfjupyter.context import read_metrics
from kfjupyter.errors import KfJupyterError
from kfjupyter.kfp.payload import (
    JOB_INPUT,
    MANIFEST,
    METRICS_OUTPUT,
    KfpStep,
    ValueManifest,
    param_input,
    value_input,
    value_output,
)
from kfjupyter.runner.job import StepJob, StepResult, TrackedRead, ValueRef

FILES_FOLDER = "files"

#: Remote URI prefixes and where KFP mounts them in a task's container (kfp.dsl.types.artifact_types).
_MOUNTS = (("gs://", "/gcs/"), ("minio://", "/minio/"), ("s3://", "/s3/"))
_OCI, _OCI_MOUNT, _WORKSPACE = "oci://", "/oci/", "/kfp-workspace"


def artifact_path(entry: dict[str, Any]) -> Path:
    """Local path of one runtime artifact from the executor input (KFP's own URI mapping)."""
    uri: str = entry["uri"]
    path = uri
    for prefix, mount in _MOUNTS:
        if uri.startswith(prefix):
            path = mount + uri[len(prefix) :]
            break
    else:
        if uri.startswith(_OCI):
            path = _OCI_MOUNT + uri[len(_OCI) :].replace("/", "_")
    if entry.get("metadata", {}).get("_kfp_workspace") is True:
        return Path(_WORKSPACE, ".artifacts", path.lstrip("/"))
    return Path(path)


def _first(section: dict[str, Any], name: str) -> dict[str, Any]:
    artifacts: list[dict[str, Any]] = section.get("artifacts", {}).get(name, {}).get("artifacts", [])
    if not artifacts:
        raise RuntimeError(f"the executor input has no artifact {name!r}")
    return artifacts[0]


def coerce(value: JsonValue, kind: ParamType) -> JsonValue:
    """A parameter value as its declared type (KFP sends every number as a float)."""
    if kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def build_job(executor_input: dict[str, Any], work: Path) -> tuple[KfpStep, StepJob]:
    """The step payload and the local StepJob for one execution."""
    inputs = executor_input.get("inputs", {})
    values = inputs.get("parameterValues", {})
    step = KfpStep.model_validate_json(values[JOB_INPUT])
    refs: dict[str, ValueRef] = {}
    for variable in step.inputs:
        folder = artifact_path(_first(inputs, value_input(variable)))
        manifest = ValueManifest.model_validate_json((folder / MANIFEST).read_text(encoding="utf-8"))
        refs[variable] = ValueRef(
            path=str(folder / manifest.file), serializer=manifest.serializer, sha256=manifest.sha256
        )
    job = StepJob(
        run_id=os.environ.get("KFJUPYTER_RUN_ID", "kfp"),
        step=step.step,
        kind=step.kind,
        setup=step.setup,
        code=step.code,
        parameters={name: coerce(values[param_input(name)], kind) for name, kind in step.parameters.items()},
        inputs=refs,
        outputs=step.outputs,
        metrics=step.metrics,
        relink={k: list(v) for k, v in step.relink.items()},
        workdir=str(Path.cwd()),
        step_dir=str(work),
        log_path=str(work / "step.log"),
    )
    return step, job


def module_mismatches(compiled: dict[str, str], reads: Sequence[TrackedRead] | None) -> list[str]:
    """Warnings for modules the step imported here whose content differs from the compiled one."""
    here = {r.name: r for r in reads or [] if r.kind == "module"}
    return [
        f"module '{name}' here ({here[name].path}) differs from the one next to the notebook when it "
        "was compiled: the step ran this one; rebuild the image or compile again"
        for name, digest in sorted(compiled.items())
        if name in here and here[name].sha256 != digest
    ]


def publish(executor_input: dict[str, Any], result: StepResult, work: Path) -> None:
    """Copy saved values into their artifacts and write the executor output (metrics)."""
    outputs = executor_input.get("outputs", {})
    for saved in result.outputs:
        folder = artifact_path(_first(outputs, value_output(saved.name)))
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / Path(saved.path).name
        shutil.copyfile(saved.path, target)
        manifest = ValueManifest(
            name=saved.name, file=target.name, serializer=saved.serializer, sha256=saved.sha256
        )
        (folder / MANIFEST).write_text(manifest.model_dump_json(), encoding="utf-8")
    last: dict[str, float] = {}
    for record in read_metrics(work):
        last[str(record["name"])] = float(record["value"])  # type: ignore[arg-type]
    reported: dict[str, Any] = {}
    for name in [*(value_output(s.name) for s in result.outputs), METRICS_OUTPUT]:
        artifact = dict(_first(outputs, name))
        if name == METRICS_OUTPUT:
            artifact["metadata"] = {**artifact.get("metadata", {}), **last}
        reported[name] = {"artifacts": [artifact]}
    output_file = outputs.get("outputFile")
    if output_file:
        Path(output_file).parent.mkdir(parents=True, exist_ok=True)
        Path(output_file).write_text(json.dumps({"artifacts": reported}), encoding="utf-8")


def install_packages(packages: Sequence[str]) -> int:
    """``pip install`` the step's packages into this container's Python (argument list, no shell)."""
    import subprocess

    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--",
        *packages,
    ]
    return subprocess.run(command, check=False).returncode


def place_files(step: KfpStep, job: StepJob, work: Path) -> None:
    """Write the step's files into ``work/files`` and run the step there (cwd and ``sys.path``)."""
    from kfjupyter.kfp.packing import unpack

    if not step.files:
        return
    folder = work / FILES_FOLDER
    folder.mkdir()
    unpack(step.files, folder)
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    job.workdir = str(folder)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one step from its executor input; the exit status is 0 only when the step succeeded."""
    parser = argparse.ArgumentParser(prog="python -m kfjupyter.kfp.entry")
    parser.add_argument("--executor-input", required=True, help="the KFP executor input JSON ({{$}})")
    args = parser.parse_args(argv)
    executor_input = json.loads(args.executor_input)
    home = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="kfjupyter-step-") as tmp:
        try:
            return _run(executor_input, Path(tmp))
        finally:
            os.chdir(home)  # out of the step's working folder before it is removed


def _run(executor_input: dict[str, Any], work: Path) -> int:
    from kfjupyter.runner.child import make_shell, run_job

    step, job = build_job(executor_input, work)
    try:
        place_files(step, job, work)
    except KfJupyterError as error:
        sys.stderr.write(f"step {step.step!r}: {error.message}\n")
        return 1
    if step.expected_packages:
        from kfjupyter.kfp.requirements import mismatches

        problems = mismatches(step.expected_packages)
        if problems:
            sys.stderr.write(
                f"step {step.step!r}: this image does not have the packages the notebook used: "
                f"{'; '.join(problems)}. Use an image with these versions, or compile with "
                "--packages auto to install them.\n"
            )
            return 1
    if step.packages_to_install and install_packages(step.packages_to_install) != 0:
        sys.stderr.write(f"step {step.step!r}: pip could not install {' '.join(step.packages_to_install)}\n")
        return 1
    os.environ["KFJUPYTER_STEP_DIR"] = job.step_dir
    os.environ["KFJUPYTER_STEP"] = job.step
    result = run_job(job, make_shell())
    for warning in module_mismatches(step.modules, result.reads):
        sys.stderr.write(f"step {step.step!r}: warning: {warning}\n")
    if not result.ok:
        sys.stderr.write(f"step {step.step!r} failed: {result.error}\n")
        return 1
    publish(executor_input, result, work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
