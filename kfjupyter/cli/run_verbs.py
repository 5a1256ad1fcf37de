"""``kfjupyter runs cancel | rerun | delete | compare``: what can be done to runs, from a terminal.

Each verb is a thin translation over :mod:`kfjupyter.runs.operations`, the same core the REST API
and ``%kf`` call. A Kubeflow Pipelines run is reached with the KFP options (``--kfp-host``,
``--token``, ...), else the server the run was submitted to. With ``--json`` each verb prints one
JSON object (an error too, see :mod:`kfjupyter.cli.main`).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING, Any

from kfjupyter.cli.submit_cmd import add_kfp_options, connection_from

if TYPE_CHECKING:
    from kfjupyter.runs.backend import RunContext
    from kfjupyter.runs.compare import Comparison
    from kfjupyter.store import RunRecord, RunStore

_POLL_S = 0.25
_HOST_HELP = "KFP API base URL (default: the server the run was submitted to, else $KFJUPYTER_KFP_HOST)"


def add_verbs(verbs: Any) -> None:
    """Register the verbs under ``kfjupyter runs``."""
    from kfjupyter.runs.command_line import add_rerun_options

    cancel = verbs.add_parser("cancel", help="stop a pending or running run")
    cancel.add_argument("run_id", metavar="RUN")
    cancel.add_argument("--json", action="store_true", help="print the result as one JSON object")
    add_kfp_options(cancel, host_help=_HOST_HELP)
    cancel.set_defaults(handler=_cancel)

    rerun = verbs.add_parser("rerun", help="start a finished run again (its parameters, or changed ones)")
    add_rerun_options(rerun)
    rerun.add_argument("--wait", action="store_true", help="wait until the new run ends")
    rerun.add_argument("--json", action="store_true", help="print the result as one JSON object")
    add_kfp_options(rerun, host_help=_HOST_HELP)
    rerun.set_defaults(handler=_rerun)

    delete = verbs.add_parser("delete", help="delete a finished run with its logs and outputs")
    delete.add_argument("run_id", metavar="RUN")
    delete.add_argument("--json", action="store_true", help="print the result as one JSON object")
    delete.set_defaults(handler=_delete)

    compare = verbs.add_parser("compare", help="2 to 50 runs side by side: parameters and best metrics")
    compare.add_argument("run_ids", nargs="+", metavar="RUN")
    compare.add_argument("--json", action="store_true", help="print the comparison as one JSON object")
    compare.set_defaults(handler=_compare)


def _context(store: RunStore, args: argparse.Namespace, run_id: str | None = None) -> RunContext:
    """The CLI's run context: KFP from the options, else from the server ``run_id`` was submitted to."""
    from kfjupyter.runs.backend import RunContext
    from kfjupyter.store import KfpDetails

    recorded = None
    if run_id is not None:
        details = store.get_run(run_id).details
        recorded = details.host if isinstance(details, KfpDetails) else None
    return RunContext(
        store=store,
        kfp=lambda: connection_from(args, host=recorded),
        kfp_token=getattr(args, "token", None),
        kfp_cookie=getattr(args, "cookie", None),
    )


def _print(args: argparse.Namespace, body: dict[str, Any], text: str) -> None:
    print(json.dumps(body, indent=2) if args.json else text)


def _cancel(args: argparse.Namespace) -> int:
    from kfjupyter.runs.operations import cancel_run
    from kfjupyter.store import open_store

    with open_store() as store:
        cancelled = cancel_run(_context(store, args, args.run_id), args.run_id)
    run = cancelled.run
    where = f" (process {cancelled.pid})" if cancelled.pid else ""
    body = {"run_id": run.id, "pid": cancelled.pid, "status": run.status}
    _print(args, body, f"run {run.id}: asked to stop{where}; it is {run.status} until it has stopped")
    return 0


def _wait_for_end(store: RunStore, run: RunRecord) -> RunRecord:
    from kfjupyter.store.models import ACTIVE_RUN_STATUSES

    while run.status in ACTIVE_RUN_STATUSES:
        time.sleep(_POLL_S)
        store.mark_interrupted()
        run = store.get_run(run.id)
    return run


def _rerun(args: argparse.Namespace) -> int:
    from kfjupyter.runs.command_line import rerun_request
    from kfjupyter.runs.operations import rerun_run
    from kfjupyter.store import open_store

    request = rerun_request(args)
    with open_store() as store:
        run = rerun_run(_context(store, args, args.run_id), args.run_id, request).wait()
        if args.wait:
            run = _wait_for_end(store, run)
    body = {"run_id": run.id, "rerun_of": args.run_id, "status": run.status, "backend": run.backend.value}
    _print(args, body, f"run {run.id} ({run.backend}) started again from run {args.run_id}: {run.status}")
    return 1 if args.wait and run.status != "succeeded" else 0


def _delete(args: argparse.Namespace) -> int:
    from kfjupyter.runs.operations import delete_run
    from kfjupyter.store import open_store

    with open_store() as store:
        delete_run(_context(store, args), args.run_id)
    _print(args, {"run_id": args.run_id, "deleted": True}, f"run {args.run_id} deleted")
    return 0


def comparison_json(found: Comparison) -> dict[str, Any]:
    """A comparison as the CLI prints it with ``--json``."""
    runs = [
        {
            "run_id": c.record.id,
            "name": c.record.name,
            "status": c.record.status,
            "backend": c.record.backend.value,
            "parameters": c.record.parameters,
            "metrics": c.metrics,
        }
        for c in found.runs
    ]
    return {
        "runs": runs,
        "parameters": found.parameters,
        "differing": found.differing,
        "metrics": found.metrics,
        "best": found.best,
    }


def comparison_table(found: Comparison) -> str:
    """A comparison as text: one column per run; ``*`` marks differing parameters and best values."""
    rows = [["", *(c.record.id for c in found.runs)], ["status", *(c.record.status for c in found.runs)]]
    for name in found.parameters:
        mark = "*" if name in found.differing else ""
        values = [
            json.dumps(c.record.parameters[name]) if name in c.record.parameters else "-" for c in found.runs
        ]
        rows.append([f"{mark}{name}", *values])
    for name in found.metrics:
        values = [
            (f"{c.metrics[name]:g}" + ("*" if found.best.get(name) == c.record.id else ""))
            if name in c.metrics
            else "-"
            for c in found.runs
        ]
        rows.append([f"metric {name}", *values])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _compare(args: argparse.Namespace) -> int:
    from kfjupyter.runs.operations import compare
    from kfjupyter.store import open_store

    with open_store() as store:
        found = compare(_context(store, args), args.run_ids)
    _print(args, comparison_json(found), comparison_table(found))
    return 0
