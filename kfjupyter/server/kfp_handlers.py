"""``POST notebooks/compile`` and ``POST notebooks/submit``: a notebook as Kubeflow Pipelines YAML or run.

Both compile with the same core as ``kfjupyter compile`` / ``kfjupyter submit``
(:func:`kfjupyter.kfp.pipeline.compile_to_yaml`, :func:`kfjupyter.runs.kfp_submit.submit`) in a
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
from functools import partial
from pathlib import Path, PurePosixPath

from kfjupyter.errors import Forbidden, InvalidInput
from kfjupyter.runs.backend import NotebookStart
from kfjupyter.runs.kfp_submit import COMPILE_LOCK, checked_pipeline
from kfjupyter.runs.operations import start_run
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.kfp_options import KfpOptions
from kfjupyter.server.models_pipelines import CompileRequest, CompileResult, SubmitRequest, SubmitResult
from kfjupyter.server.paths import confine, confine_file, relative_to_root
from kfjupyter.server.requests import opened_store, run_context
from kfjupyter.store import Engine, KfpDetails, RunRecord


def compile_file(notebook: Path, output: Path, parameters: Mapping[str, str], image: str | None) -> int:
    """Write ``notebook`` as KFP v2 YAML to ``output``; return the pipeline's step count (blocking)."""
    from kfjupyter.kfp.pipeline import compile_to_yaml

    pipeline, values = checked_pipeline(notebook, parameters, image)
    with COMPILE_LOCK:
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
    root_dir: str,
    notebook: Path,
    parameters: Mapping[str, str],
    experiment: str | None,
    image: str | None,
) -> RunRecord:
    """Submit ``notebook`` to KFP and record the run (blocking); ``UpstreamFailed`` when KFP fails."""
    start = NotebookStart(
        notebook=notebook, parameters=parameters, engine=Engine.KFP, experiment=experiment, image=image
    )
    with opened_store() as store:
        return start_run(run_context(store, options, root_dir, allow_hidden=False), start).wait()


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
        root = self.serverapp.root_dir
        run = await asyncio.to_thread(
            submit, options, root, notebook, body.parameters, body.experiment, image
        )
        link = run.details.link if isinstance(run.details, KfpDetails) else None
        self.reply(SubmitResult(run_id=run.id, kfp_run_id=run.external_id or "", url=link or ""), status=202)


def kfp_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The routes of this module under ``api_prefix`` (e.g. ``/kfjupyter/api``)."""
    return [
        (rf"{api_prefix}/notebooks/compile/?", CompileHandler),
        (rf"{api_prefix}/notebooks/submit/?", SubmitHandler),
    ]
