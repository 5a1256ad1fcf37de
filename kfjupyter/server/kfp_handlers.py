"""``POST notebooks/compile`` and ``POST notebooks/submit``: a notebook as Kubeflow Pipelines YAML or run.

Both compile with the same core as ``kfjupyter compile`` / ``kfjupyter submit``
(:func:`kfjupyter.kfp.pipeline.compile_to_yaml`, :func:`kfjupyter.kfp.submit.submit_notebook`) in a
worker thread, one compile at a time (the kfp SDK builds pipelines in global state). Paths are
confined to the server's root directory. Submitting uses the server's ``c.KfJupyterApp.kfp_*``
settings: none configured is a 409; Kubeflow Pipelines unreachable or refusing is a 502 with the
submit core's message; a bad notebook, parameter or image is a 400 before anything is uploaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from kfjupyter.compiler.ir import JsonValue, Pipeline
from kfjupyter.compiler.lint import compile_notebook, raise_on_errors
from kfjupyter.compiler.parameters import resolve_parameters
from kfjupyter.errors import Conflict, Forbidden, InvalidInput, KfJupyterError
from kfjupyter.kfp.connection import KfpConnection, configured_host, resolve_connection
from kfjupyter.kfp.names import check_task_names
from kfjupyter.notebook.diagnostics import Diagnostic
from kfjupyter.server.errors import UpstreamFailed
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.launch import confine, confine_file, relative_to_root
from kfjupyter.server.models_pipelines import CompileRequest, CompileResult, SubmitRequest, SubmitResult
from kfjupyter.server.runs_handlers import opened_store

if TYPE_CHECKING:  # the kfp SDK is imported on first use: it slows down the server's start
    from kfjupyter.kfp.submit import Submitted

#: The environment variable naming the default step image (as :mod:`kfjupyter.kfp.pipeline` reads it).
IMAGE_ENV = "KFJUPYTER_IMAGE"
#: One kfp compile at a time: the SDK keeps the pipeline being built in global state.
_COMPILE_LOCK = threading.Lock()
NO_HOST = (
    "No Kubeflow Pipelines endpoint is configured: set c.KfJupyterApp.kfp_host to the KFP API URL "
    "(e.g. http://ml-pipeline-ui.kubeflow) in jupyter_server_config.py, or $KFJUPYTER_KFP_HOST "
    "(or $KF_PIPELINES_ENDPOINT) in the server's environment, and restart the server"
)


@dataclass(frozen=True)
class KfpOptions:
    """The server's Kubeflow Pipelines settings (``c.KfJupyterApp.kfp_*``)."""

    host: str = ""
    token: str = ""
    cookie: str = ""
    namespace: str = ""
    ui_host: str = ""
    image: str = ""

    def default_image(self) -> str | None:
        """The image every step gets unless a request names one: ``kfp_image``, else ``$KFJUPYTER_IMAGE``."""
        return self.image or os.environ.get(IMAGE_ENV) or None

    def connection(self) -> KfpConnection:
        """The connection these settings describe; ``Conflict`` when there is no usable host.

        Empty settings fall back as for every front door
        (:func:`~kfjupyter.kfp.connection.resolve_connection`).
        """
        if not configured_host(self.host):
            raise Conflict(NO_HOST, reason="no_kfp_host")
        try:
            return resolve_connection(
                host=self.host,
                token=self.token,
                cookie=self.cookie,
                namespace=self.namespace,
                ui_host=self.ui_host,
                how="set c.KfJupyterApp.kfp_host",
            )
        except InvalidInput as error:
            raise Conflict(f"c.KfJupyterApp.kfp_host is not usable: {error.message}") from None


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


def _overrides(parameters: Mapping[str, str]) -> list[str]:
    return [f"{name}={value}" for name, value in parameters.items()]


def checked_pipeline(
    notebook: Path, parameters: Mapping[str, str], image: str | None
) -> tuple[Pipeline, dict[str, JsonValue]]:
    """Compile ``notebook`` for a cluster and resolve its parameters; ``InvalidInput`` for any problem."""
    pipeline, diagnostics = compile_notebook(notebook, target="cluster")
    raise_on_errors(diagnostics)
    if not pipeline.steps:
        raise InvalidInput(no_steps_message(diagnostics), reason="no_steps")
    values = resolve_parameters(pipeline, None, _overrides(parameters))
    check_task_names(s.name for s in pipeline.steps)
    check_images(pipeline, image)
    return pipeline, values


def compile_file(notebook: Path, output: Path, parameters: Mapping[str, str], image: str | None) -> int:
    """Write ``notebook`` as KFP v2 YAML to ``output``; return the pipeline's step count (blocking)."""
    from kfjupyter.kfp.pipeline import compile_to_yaml

    pipeline, values = checked_pipeline(notebook, parameters, image)
    with _COMPILE_LOCK:
        text = compile_to_yaml(pipeline, values=values, image=image, source_dir=notebook.resolve().parent)
    write_whole(output, text)
    return len(pipeline.steps)


def write_whole(path: Path, text: str, field: str = "output") -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: a crash leaves the old file or the new.

    Raises ``InvalidInput`` (naming ``field``) when a folder on the way is a file or the file
    system refuses the name, ``Forbidden`` when the folder is not writable.
    """
    # One name per process and thread: two compiles of the same output never share a temporary.
    temporary = path.with_name(f".{path.name[:100]}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        temporary.replace(path)
    except PermissionError:
        raise Forbidden(
            f"{field}: the server may not write {path.name!r} there; pick another folder"
        ) from None
    except (FileExistsError, NotADirectoryError):
        raise InvalidInput(
            f"{field}: a folder on the way to {path.name!r} is a file; pick another path"
        ) from None
    except OSError as error:
        raise InvalidInput(f"{field}: cannot write {path.name!r} ({error.strerror or error})") from None
    finally:
        with contextlib.suppress(OSError):  # gone after the rename, or never made
            temporary.unlink()


def submit(
    options: KfpOptions,
    notebook: Path,
    parameters: Mapping[str, str],
    experiment: str | None,
    image: str | None,
) -> Submitted:
    """Submit ``notebook`` to KFP and record the run (blocking); ``UpstreamFailed`` when KFP fails."""
    from kfjupyter.kfp.submit import submit_notebook

    connection = options.connection()
    checked_pipeline(notebook, parameters, image)  # a 400 for the user's mistakes, before any upload
    with opened_store() as store, _COMPILE_LOCK:
        try:
            return submit_notebook(
                notebook,
                connection,
                store=store,
                overrides=_overrides(parameters),
                experiment=experiment,
                image=image,
            )
        except KfJupyterError as error:
            raise UpstreamFailed(error.message, detail=error.detail) from error


def default_output(path: str) -> str:
    """``dir/nb.ipynb`` -> ``dir/nb.pipeline.yaml``."""
    relative = PurePosixPath(path.replace("\\", "/"))
    return str(relative.with_name(f"{relative.stem}.pipeline.yaml"))


class CompileHandler(KfJupyterHandler):
    """``POST /kfjupyter/api/notebooks/compile``: ``{path, parameters?, output?, image?}`` -> the YAML file."""

    @api("write")
    async def post(self) -> None:
        """Compile the notebook and write the YAML inside the server root."""
        body = self.parse_body(CompileRequest)
        root = self.serverapp.root_dir
        hidden = self.allow_hidden
        notebook = await asyncio.to_thread(partial(confine, allow_hidden=hidden), root, body.path)  # reads it
        output = confine_file(
            root,
            body.output or default_output(body.path),
            suffixes=(".yaml", ".yml"),
            kind="YAML file",
            field="output",
            must_exist=False,
            allow_hidden=hidden,
        )
        image = body.image or self.settings["kfjupyter_kfp"].image or None
        steps = await asyncio.to_thread(compile_file, notebook, output, body.parameters, image)
        self.reply(
            CompileResult(path=relative_to_root(root, output), steps=steps, bytes=output.stat().st_size)
        )


class SubmitHandler(KfJupyterHandler):
    """``POST /kfjupyter/api/notebooks/submit``: start the notebook on Kubeflow Pipelines; 202."""

    @api("execute")
    async def post(self) -> None:
        """Submit the notebook with the server's KFP settings; 409 when none are configured."""
        body = self.parse_body(SubmitRequest)
        options: KfpOptions = self.settings["kfjupyter_kfp"]
        options.connection()
        confined = partial(confine, allow_hidden=self.allow_hidden)
        notebook = await asyncio.to_thread(confined, self.serverapp.root_dir, body.path)
        image = body.image or options.image or None
        done = await asyncio.to_thread(submit, options, notebook, body.parameters, body.experiment, image)
        self.reply(SubmitResult(run_id=done.record.id, kfp_run_id=done.kfp_run_id, url=done.link), status=202)


def kfp_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The routes of this module under ``api_prefix`` (e.g. ``/kfjupyter/api``)."""
    return [
        (rf"{api_prefix}/notebooks/compile/?", CompileHandler),
        (rf"{api_prefix}/notebooks/submit/?", SubmitHandler),
    ]
