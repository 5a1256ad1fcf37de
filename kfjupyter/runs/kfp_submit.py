"""Submitting a notebook to Kubeflow Pipelines: the checks made before anything is uploaded.

Every front door that submits (``POST notebooks/submit``, a re-run of a KFP run) compiles the
notebook for a cluster and refuses the user's mistakes (lint errors, no steps, a bad parameter, a
step without an image) as ``InvalidInput`` before KFP is asked; what KFP then refuses or fails is an
``UpstreamFailed``. The kfp SDK builds pipelines in global state, so one compile runs at a time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from kfjupyter.compiler.ir import JsonValue, Pipeline
from kfjupyter.compiler.lint import compile_notebook, raise_on_errors
from kfjupyter.compiler.parameters import resolve_parameters
from kfjupyter.errors import InvalidInput, KfJupyterError, UpstreamFailed
from kfjupyter.kfp.connection import KfpConnection
from kfjupyter.kfp.names import check_task_names
from kfjupyter.notebook.diagnostics import Diagnostic
from kfjupyter.store import RunRecord, RunStore

#: The environment variable naming the default step image (as :mod:`kfjupyter.kfp.pipeline` reads it).
IMAGE_ENV = "KFJUPYTER_IMAGE"
#: One kfp compile at a time: the SDK keeps the pipeline being built in global state.
COMPILE_LOCK = threading.Lock()


def check_images(pipeline: Pipeline, image: str | None) -> None:
    """``InvalidInput`` naming the first step that would have no container image, and where to set one."""
    if image or os.environ.get(IMAGE_ENV):
        return
    for step in pipeline.steps:
        if not step.settings.image:
            raise InvalidInput(
                f"image: step {step.name!r} has no container image. Enter one in the Image field of the "
                "Compile dialog (or send 'image'), set c.KfJupyterApp.kfp_image in jupyter_server_config.py "
                f"or ${IMAGE_ENV} for the server, or give the step an image in its step settings. "
                "The image needs kfjupyter installed.",
                reason="no_image",
            )


def no_steps_message(diagnostics: list[Diagnostic]) -> str:
    """The lint's KF001 finding as one line: an empty pipeline cannot be compiled or submitted."""
    for diagnostic in diagnostics:
        if diagnostic.code == "KF001":
            return f"KF001: {diagnostic.message} {diagnostic.hint}".strip()
    return "KF001: the notebook has no steps, so the pipeline is empty. Mark a cell as a step."


def overrides(parameters: Mapping[str, str]) -> list[str]:
    """``parameters`` as ``NAME=VALUE`` overrides."""
    return [f"{name}={value}" for name, value in parameters.items()]


def checked_pipeline(
    notebook: Path, parameters: Mapping[str, str], image: str | None
) -> tuple[Pipeline, dict[str, JsonValue]]:
    """Compile ``notebook`` for a cluster and resolve its parameters; ``InvalidInput`` for any problem."""
    pipeline, diagnostics = compile_notebook(notebook, target="cluster")
    raise_on_errors(diagnostics)
    if not pipeline.steps:
        raise InvalidInput(no_steps_message(diagnostics), reason="no_steps")
    values = resolve_parameters(pipeline, None, overrides(parameters))
    check_task_names(s.name for s in pipeline.steps)
    check_images(pipeline, image)
    return pipeline, values


def submit_checked(
    store: RunStore,
    connection: KfpConnection,
    notebook: Path,
    parameters: Mapping[str, str],
    experiment: str | None,
    image: str | None,
) -> RunRecord:
    """Check, then submit ``notebook`` to KFP and record the run (blocking); ``UpstreamFailed`` when KFP fails."""
    from kfjupyter.kfp.submit import submit_notebook  # imports the kfp SDK: only when submitting

    checked_pipeline(notebook, parameters, image)  # the user's mistakes, before any upload
    with COMPILE_LOCK:
        try:
            done = submit_notebook(
                notebook,
                connection,
                store=store,
                overrides=overrides(parameters),
                experiment=experiment,
                image=image,
            )
        except KfJupyterError as error:
            raise UpstreamFailed.of(error) from error
    return done.record
