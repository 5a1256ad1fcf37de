"""``%kf cancel RUN`` and ``%kf rerun RUN [-p NAME=VALUE]... [--no-cache] [--from|--only STEP] [--widget]``.

Thin translations over :mod:`kfjupyter.runs.operations`, the core the REST API and the command line
call. A Kubeflow Pipelines run is reached at the server it was submitted to (credentials from the
environment, as for ``%kf run --backend kfp``).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kfjupyter.runs.backend import RunContext
    from kfjupyter.store import RunStore


def add_parsers(sub: Any) -> None:
    """Add ``cancel`` and ``rerun`` to the ``%kf`` parser."""
    from kfjupyter.runs.command_line import add_rerun_options

    cancel = sub.add_parser("cancel", help="stop a pending or running run")
    cancel.add_argument("run_id", metavar="RUN")
    rerun = sub.add_parser("rerun", help="start a finished run again (its parameters, or changed ones)")
    add_rerun_options(rerun)
    rerun.add_argument("--widget", action="store_true", help="show the new run live")


def _context(store: RunStore, run_id: str) -> RunContext:
    """The magics' run context: a KFP run is reached at its recorded server, else ``$KFJUPYTER_KFP_HOST``."""
    from kfjupyter.kfp.connection import resolve_connection
    from kfjupyter.runs.backend import RunContext
    from kfjupyter.store import KfpDetails

    details = store.get_run(run_id).details
    recorded = details.host if isinstance(details, KfpDetails) else None
    return RunContext(
        store=store, kfp=lambda: resolve_connection(host=recorded, how="the run records none; give one")
    )


def cancel(args: argparse.Namespace) -> None:
    """``%kf cancel RUN``."""
    from kfjupyter.runs.operations import cancel_run
    from kfjupyter.store import open_store

    with open_store() as store:
        cancelled = cancel_run(_context(store, args.run_id), args.run_id)
    where = f" (process {cancelled.pid})" if cancelled.pid else ""
    print(f"run {args.run_id}: asked to stop{where}")


def rerun(args: argparse.Namespace) -> None:
    """``%kf rerun RUN``: start it again and print the new run (or follow it in a widget)."""
    from kfjupyter.runs.command_line import rerun_request
    from kfjupyter.runs.operations import rerun_run
    from kfjupyter.store import open_store

    request = rerun_request(args, "%kf rerun -p")
    with open_store() as store:
        run = rerun_run(_context(store, args.run_id), args.run_id, request).wait()
    print(f"run {run.id} started again from run {args.run_id}: {run.status}")
    if args.widget:
        from IPython.display import display

        from kfjupyter.ipython.widgets import RunWidget

        widget = RunWidget(run.id)
        display(widget)  # type: ignore[no-untyped-call]
        widget.follow()
