"""``kfjupyter submit``: run a notebook on Kubeflow Pipelines and record it with the local runs.

A thin translation over :func:`kfjupyter.runs.operations.submit_to_kfp` (and ``watch_kfp_run`` for
``--watch``), the submit every front door uses. The KFP options (host, token, cookie, namespace)
are shared with ``kfjupyter runs sync`` through :func:`add_kfp_options` and :func:`connection_from`;
what they leave out is resolved as for every front door
(:func:`kfjupyter.kfp.connection.resolve_connection`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from kfjupyter.cli.compile_cmd import add_shipping_options

if TYPE_CHECKING:
    from kfjupyter.kfp.connection import KfpConnection


def add_kfp_options(
    cmd: Any, host_help: str = "KFP API base URL (default $KFJUPYTER_KFP_HOST, else $KF_PIPELINES_ENDPOINT)"
) -> None:
    """Add --kfp-host, --token, --cookie, --namespace and --ui-host to ``cmd``."""
    cmd.add_argument("--kfp-host", default=None, metavar="URL", help=host_help)
    cmd.add_argument(
        "--token", default=None, help="bearer token (default $KF_PIPELINES_TOKEN or the SA token file)"
    )
    cmd.add_argument(
        "--cookie", default=None, help="cookie header for the KFP API (default $KF_PIPELINES_COOKIE)"
    )
    cmd.add_argument(
        "--namespace", default=None, help="namespace of the runs (multi-user Kubeflow; default kubeflow)"
    )
    cmd.add_argument(
        "--ui-host", default=None, metavar="URL", help="KFP UI base URL for links (default the host)"
    )


def connection_from(args: argparse.Namespace, host: str | None = None) -> KfpConnection:
    """The connection the KFP options describe (``--kfp-host``, else ``host``, else the environment)."""
    from kfjupyter.kfp.connection import resolve_connection

    return resolve_connection(
        host=args.kfp_host or host,
        token=args.token,
        cookie=args.cookie,
        namespace=args.namespace,
        ui_host=args.ui_host,
        how="pass --kfp-host",
    )


def add_parser(sub: Any) -> None:
    """Register the submit subcommand."""
    cmd = sub.add_parser("submit", help="compile a notebook and start it as a Kubeflow Pipelines run")
    cmd.add_argument("notebook", help="path of the .ipynb file")
    add_kfp_options(cmd)
    cmd.add_argument(
        "--experiment", default=None, help="KFP experiment (created if missing; default 'Default')"
    )
    cmd.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="parameter value for this run",
    )
    cmd.add_argument(
        "--image", default=None, help="container image for every step (default: $KFJUPYTER_IMAGE or per step)"
    )
    add_shipping_options(cmd)
    cmd.add_argument("--watch", action="store_true", help="track the run (states and pod logs) until it ends")
    cmd.add_argument("--json", action="store_true", help="print the result as JSON")
    cmd.set_defaults(handler=_submit)


def _submit(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kfjupyter.compiler.shipping import parse_size
    from kfjupyter.kfp.steppods import KubernetesRunPods
    from kfjupyter.runs.backend import NotebookStart, RunContext
    from kfjupyter.runs.operations import submit_to_kfp, watch_kfp_run
    from kfjupyter.runs.stored import parameter_overrides
    from kfjupyter.store import Engine, open_store

    connection = connection_from(args)
    start = NotebookStart(
        notebook=Path(args.notebook),
        parameters=parameter_overrides(args.param, "-p"),
        engine=Engine.KFP,
        experiment=args.experiment,
        image=args.image,
        ship_limit=parse_size(args.ship_limit) if args.ship_limit is not None else None,
        packages=args.packages,
    )
    with open_store() as store:
        ctx = RunContext(
            store, kfp=lambda: connection, kfp_image_how="pass --image", kfp_pods=KubernetesRunPods()
        )
        submitted = submit_to_kfp(ctx, start)
        record = submitted.record
        if args.watch:
            print(f"run {record.id} (KFP {submitted.kfp_run_id}): {submitted.link}", file=sys.stderr)

            def report(run: Any, steps: list[Any]) -> None:
                states = " ".join(f"{s.name}={s.status}" for s in steps)
                print(f"  {run.status:<10} {states}", file=sys.stderr)

            record = watch_kfp_run(ctx, record.id, on_change=report)
    body = submitted.to_json() | {"status": record.status}
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        print(f"run {record.id}  KFP run {submitted.kfp_run_id}  {record.status}")
        print(f"  {submitted.link}")
    return 0 if record.status != "failed" else 1
