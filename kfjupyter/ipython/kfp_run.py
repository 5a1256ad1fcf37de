"""``%kf run --backend kfp``: compile the notebook and start it on Kubeflow Pipelines.

The same core as ``kfjupyter submit`` and the Lab (:func:`kfjupyter.runs.operations.submit_to_kfp`):
the run is recorded in the run store with its KFP run id, and the KFP run id and UI link are
printed. The options (``--host``, ``--token``, ``--cookie``, ``--namespace``, ``--ui-host``) come
first; what they leave out is resolved as for every front door
(:func:`~kfjupyter.kfp.connection.resolve_connection`: ``$KFJUPYTER_KFP_HOST``, else
``$KF_PIPELINES_ENDPOINT``; ``$KF_PIPELINES_TOKEN`` or the mounted token; ``$KF_PIPELINES_COOKIE``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kfjupyter.errors import InvalidInput
from kfjupyter.store.details import Engine

#: Options of ``%kf run`` that only mean something for one backend, with the backend.
KFP_ONLY = ("host", "token", "cookie", "namespace", "ui_host", "experiment", "image")
LOCAL_ONLY = ("no_cache", "widget")


def add_options(run: argparse.ArgumentParser) -> None:
    """Add ``--backend`` and the KFP host, credential and submission options to ``%kf run``."""
    run.add_argument(
        "--backend",
        choices=[Engine.LOCAL.value, Engine.KFP.value],
        default=Engine.LOCAL.value,
        help="run here (default) or on KFP",
    )
    kfp = run.add_argument_group("Kubeflow Pipelines (--backend kfp)")
    kfp.add_argument(
        "--host", "--kfp-host", default=None, metavar="URL", help="KFP API URL (default $KFJUPYTER_KFP_HOST)"
    )
    kfp.add_argument("--token", default=None, help="bearer token (default $KF_PIPELINES_TOKEN)")
    kfp.add_argument("--cookie", default=None, help="cookie header (default $KF_PIPELINES_COOKIE)")
    kfp.add_argument(
        "--namespace", default=None, help="namespace of the run (multi-user Kubeflow; default kubeflow)"
    )
    kfp.add_argument("--ui-host", default=None, metavar="URL", help="KFP UI URL for the link")
    kfp.add_argument("--experiment", default=None, help="KFP experiment (default 'Default')")
    kfp.add_argument("--image", default=None, help="container image of every step (default $KFJUPYTER_IMAGE)")


def on_kfp_backend(args: argparse.Namespace) -> bool:
    """Whether ``%kf run`` was asked to run on Kubeflow Pipelines (``--backend kfp``)."""
    return Engine(args.backend) is Engine.KFP


def check_backend_options(args: argparse.Namespace) -> None:
    """Refuse options given for the other backend, naming them."""
    on_kfp = on_kfp_backend(args)
    other = LOCAL_ONLY if on_kfp else KFP_ONLY
    given = [f"--{name.replace('_', '-')}" for name in other if getattr(args, name)]
    if given:
        where = "a local run" if on_kfp else "--backend kfp"
        raise InvalidInput(f"%kf run: {', '.join(given)} only applies to {where}")


def submit(notebook: Path, args: argparse.Namespace) -> None:
    """Submit ``notebook`` as ``args`` say and print the KFP run id and link."""
    from kfjupyter.kfp.connection import resolve_connection
    from kfjupyter.runs.backend import NotebookStart, RunContext
    from kfjupyter.runs.operations import submit_to_kfp
    from kfjupyter.runs.stored import parameter_overrides
    from kfjupyter.store import open_store

    try:
        connection = resolve_connection(
            host=args.host,
            token=args.token,
            cookie=args.cookie,
            namespace=args.namespace,
            ui_host=args.ui_host,
            how="pass --host URL",
        )
    except InvalidInput as error:
        raise InvalidInput(f"%kf run --backend kfp: {error.message}", reason=error.reason) from None
    start = NotebookStart(
        notebook=notebook,
        parameters=parameter_overrides(args.param, "%kf run -p"),
        engine=Engine.KFP,
        experiment=args.experiment,
        image=args.image,
    )
    with open_store() as store:
        ctx = RunContext(store, kfp=lambda: connection, kfp_image_how="pass --image")
        submitted = submit_to_kfp(ctx, start)
    print(f"run {submitted.record.id} started on Kubeflow Pipelines: KFP run {submitted.kfp_run_id}")
    print(f"  {submitted.link}")
