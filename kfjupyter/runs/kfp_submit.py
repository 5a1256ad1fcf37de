"""Submitting a notebook to Kubeflow Pipelines: the checks made before anything is uploaded.

Every front door that submits (``POST notebooks/submit``, ``kfjupyter submit``, ``%kf run --backend
kfp``, a re-run of a KFP run) goes through :func:`submit`: it compiles the notebook for a cluster
and refuses the user's mistakes (lint errors, no steps, a bad parameter, a step without an image,
files over the shipping limit) as ``InvalidInput`` before KFP is asked; what KFP then refuses or
fails is an ``UpstreamFailed``. The kfp SDK builds pipelines in global state, so one compile runs
at a time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from kfjupyter.compiler.ir import JsonValue, Pipeline
from kfjupyter.compiler.lint import compile_notebook, raise_on_errors
from kfjupyter.compiler.parameters import resolve_parameters
from kfjupyter.errors import InvalidInput, KfJupyterError, UpstreamFailed
from kfjupyter.kfp.connection import KfpConnection
from kfjupyter.kfp.names import check_task_names
from kfjupyter.kfp.requirements import PackagesMode
from kfjupyter.notebook.diagnostics import Diagnostic
from kfjupyter.notebook.reader import notebook_path
from kfjupyter.runs.backend import NotebookStart, RunContext
from kfjupyter.store import RunStore

if TYPE_CHECKING:
    from kfjupyter.kfp.submit import Submitted

#: The environment variable naming the default step image (as :mod:`kfjupyter.kfp.pipeline` reads it).
IMAGE_ENV = "KFJUPYTER_IMAGE"
#: One kfp compile (and upload) at a time: the SDK keeps the pipeline being built in global state.
COMPILE_LOCK = threading.Lock()


def check_images(pipeline: Pipeline, image: str | None, how: str | None = None) -> None:
    """``InvalidInput`` naming the first step that would have no container image, and where to set one.

    ``how``: how the front door takes an image (``pass --image``); None: the Lab's and the server's ways.
    """
    if image or os.environ.get(IMAGE_ENV):
        return
    for step in pipeline.steps:
        if step.settings.image:
            continue
        if how is not None:
            raise InvalidInput(
                f"step {step.name!r} has no container image: {how}, set ${IMAGE_ENV}, or give the step "
                "an image setting. The image needs kfjupyter installed.",
                reason="no_image",
            )
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
    notebook: Path,
    parameters: Mapping[str, str],
    image: str | None,
    *,
    ship_limit: int | None = None,
    image_how: str | None = None,
) -> tuple[Pipeline, dict[str, JsonValue]]:
    """Compile ``notebook`` for a cluster and resolve its parameters; ``InvalidInput`` for any problem."""
    pipeline, diagnostics = compile_notebook(notebook, target="cluster", ship_limit=ship_limit)
    raise_on_errors(diagnostics)
    if not pipeline.steps:
        raise InvalidInput(no_steps_message(diagnostics), reason="no_steps")
    values = resolve_parameters(pipeline, None, overrides(parameters))
    check_task_names(s.name for s in pipeline.steps)
    check_images(pipeline, image, image_how)
    return pipeline, values


def submit_checked(
    store: RunStore,
    connection: KfpConnection,
    notebook: Path,
    parameters: Mapping[str, str],
    experiment: str | None,
    image: str | None,
    *,
    ship_limit: int | None = None,
    packages: PackagesMode = "none",
    image_how: str | None = None,
) -> Submitted:
    """Check and compile, then submit ``notebook`` to KFP and record the run (blocking).

    The user's mistakes are ``InvalidInput`` before anything is uploaded; ``UpstreamFailed`` when
    KFP refuses or fails.
    """
    from kfjupyter.kfp.submit import package_notebook, submit_package  # the kfp SDK: only when submitting

    connection = connection.resolved()  # a host that is no URL is the caller's mistake
    path = notebook_path(notebook)
    checked_pipeline(path, parameters, image, ship_limit=ship_limit, image_how=image_how)
    with COMPILE_LOCK:  # also the upload: the kfp client swaps sys.stdout while it talks (quiet_kfp)
        package = package_notebook(
            path, overrides=overrides(parameters), image=image, ship_limit=ship_limit, packages=packages
        )
        try:
            return submit_package(package, connection, store=store, experiment=experiment)
        except KfJupyterError as error:
            raise UpstreamFailed.of(error) from error


def submit(ctx: RunContext, start: NotebookStart) -> Submitted:
    """Submit ``start``'s notebook through the front door's KFP connection (see :func:`submit_checked`).

    The image is the request's, else the front door's default; ``Conflict`` when this front door
    has no KFP connection.
    """
    return submit_checked(
        ctx.store,
        ctx.connection(),
        start.notebook,
        start.parameters,
        start.experiment,
        start.image or ctx.kfp_image or None,
        ship_limit=start.ship_limit,
        packages=start.packages,
        image_how=ctx.kfp_image_how,
    )
