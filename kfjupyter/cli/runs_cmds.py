"""``kfjupyter runs list | show | logs | sync | artifacts``: look at what ran (changing verbs: :mod:`kfjupyter.cli.run_verbs`).

``runs sync`` and the refresh of unfinished Kubeflow Pipelines runs before ``runs list`` and
``runs show`` are translations over :mod:`kfjupyter.runs.operations`, as every front door syncs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from typing import Any

from kfjupyter.cli.run_verbs import add_verbs
from kfjupyter.cli.submit_cmd import add_kfp_options, connection_from

#: How long ``runs list`` / ``runs show`` wait for a KFP server when refreshing its runs.
AUTO_SYNC_TIMEOUT_S = 3.0


def add_parser(sub: Any) -> None:
    """Register the ``runs`` subcommands."""
    runs = sub.add_parser("runs", help="list and inspect runs")
    verbs = runs.add_subparsers(dest="verb", metavar="VERB", required=True)

    ls = verbs.add_parser("list", help="the most recent runs")
    ls.add_argument("--limit", type=int, default=20)
    ls.add_argument("--status", default=None)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=_list)

    show = verbs.add_parser("show", help="one run: status, steps, metrics")
    show.add_argument("run_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)

    logs = verbs.add_parser("logs", help="a run's logs (every step, or one)")
    logs.add_argument("run_id")
    logs.add_argument("step", nargs="?")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing until the run ends")
    logs.set_defaults(handler=_logs)

    sync = verbs.add_parser("sync", help="refresh Kubeflow Pipelines runs (states, steps, pod logs)")
    sync.add_argument("run_id", nargs="?", help="one run (default: every unfinished KFP run)")
    sync.add_argument("--watch", action="store_true", help="keep polling (with backoff) until the run ends")
    sync.add_argument("--no-logs", action="store_true", help="do not read pod logs through Kubernetes")
    add_kfp_options(sync, host_help="KFP API base URL to ask instead of each run's recorded one")
    sync.set_defaults(handler=_sync)

    arts = verbs.add_parser("artifacts", help="outputs, figures and logs a run produced")
    arts.add_argument("run_id")
    arts.add_argument("--json", action="store_true")
    arts.set_defaults(handler=_artifacts)

    add_verbs(verbs)


def _when(ts: float | None) -> str:
    if not ts:
        return "-"
    return datetime.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _warn(message: str | None) -> None:
    if message:
        print(f"kfjupyter: warning: {message}", file=sys.stderr)


def _list(args: argparse.Namespace) -> int:
    from kfjupyter.store import open_store
    from kfjupyter.store.base import mark_interrupted_for_reading
    from kfjupyter.store.details import record_json

    with open_store() as store:
        _warn(mark_interrupted_for_reading(store))
        _auto_sync(store, None)
        runs = store.list_runs(status=args.status, limit=args.limit)
    if args.json:
        print(json.dumps({"runs": [record_json(r) for r in runs]}, indent=2))
        return 0
    print(f"{'RUN':<20} {'STATUS':<12} {'BACKEND':<8} {'CREATED':<20} NAME")
    for r in runs:
        print(f"{r.id:<20} {r.status:<12} {r.backend:<8} {_when(r.created_at):<20} {r.name}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from kfjupyter.api import load_run
    from kfjupyter.store import open_store
    from kfjupyter.store.base import mark_interrupted_for_reading

    with open_store() as store:
        _warn(mark_interrupted_for_reading(store))
        _auto_sync(store, args.run_id)
        run = load_run(store, args.run_id)
    body = run.to_json()
    if args.json:
        body["parameters"] = run.record.parameters
        body["notebook"] = run.record.notebook
        print(json.dumps(body, indent=2))
        return 0
    record = run.record
    print(f"run {record.id}  {record.status}  {record.name}  ({record.backend})")
    print(f"  notebook:   {record.notebook or '-'}")
    print(f"  started:    {_when(record.started_at)}   finished: {_when(record.finished_at)}")
    if record.parameters:
        print(f"  parameters: {json.dumps(record.parameters)}")
    if record.error:
        print(f"  error:      {record.error}")
    for step in body["steps"]:
        note = " (cached)" if step["cached"] else ""
        print(f"  {step['name']:<24} {step['status']:<16} {step['duration_s']:7.2f}s{note}")
        if step["error"]:
            print(f"      {step['error']}")
    for name, value in body["metrics"].items():
        print(f"  metric {name} = {value:g}")
    return 0


def _auto_sync(store: Any, run_id: str | None) -> None:
    """Refresh unfinished KFP runs (each request bounded); a server that is away is only a note."""
    from kfjupyter.kfp.steppods import KubernetesRunPods
    from kfjupyter.runs.backend import RunContext
    from kfjupyter.runs.operations import refresh_kfp_runs

    ctx = RunContext(store, kfp_pods=KubernetesRunPods(timeout_s=AUTO_SYNC_TIMEOUT_S))
    for error in refresh_kfp_runs(ctx, run_id, timeout_s=AUTO_SYNC_TIMEOUT_S).errors:
        print(f"kfjupyter: note: {error}", file=sys.stderr)


def _sync(args: argparse.Namespace) -> int:
    from kfjupyter.kfp.connection import KfpConnection
    from kfjupyter.kfp.steppods import KubernetesRunPods
    from kfjupyter.runs.backend import RunContext
    from kfjupyter.runs.operations import sync_kfp_runs, watch_kfp_run
    from kfjupyter.store import KfpDetails, open_store

    with open_store() as store:

        def connection() -> KfpConnection:  # --kfp-host, else the server the run was submitted to
            details = store.get_run(args.run_id).details
            return connection_from(args, host=details.host if isinstance(details, KfpDetails) else None)

        ctx = RunContext(
            store,
            kfp=connection,
            kfp_token=args.token,
            kfp_cookie=args.cookie,
            kfp_pods=None if args.no_logs else KubernetesRunPods(),
        )
        ids = [args.run_id] if args.run_id else None
        report = sync_kfp_runs(ctx, ids, host=args.kfp_host)  # replaces the recorded hosts only when given
        if args.watch and args.run_id and not report.errors:
            report.synced = [watch_kfp_run(ctx, args.run_id)]
    for record in report.synced:
        print(f"{record.id:<20} {record.status:<12} {record.external_id}")
    for error in report.errors:
        print(f"kfjupyter: {error}", file=sys.stderr)
    return 1 if report.errors else 0


def _logs(args: argparse.Namespace) -> int:
    from kfjupyter.errors import NotFound
    from kfjupyter.store import open_store

    with open_store() as store:
        steps = [s.name for s in store.get_steps(args.run_id)]
        store.get_run(args.run_id)
        if args.step is not None and args.step not in steps:
            raise NotFound(f"run {args.run_id} has no step {args.step!r}; its steps are: {', '.join(steps)}")
        wanted = [args.step] if args.step else steps
        offsets = dict.fromkeys(wanted, 0)
        while True:
            for name in wanted:
                chunk = store.read_log(args.run_id, name, offsets[name])
                offsets[name] = chunk.next_offset
                for line in chunk.text.splitlines():
                    sys.stdout.write(f"{name} | {line}\n" if len(wanted) > 1 else f"{line}\n")
            sys.stdout.flush()
            if not args.follow or store.get_run(args.run_id).status not in ("pending", "running"):
                return 0
            time.sleep(0.25)


def _artifacts(args: argparse.Namespace) -> int:
    from kfjupyter.store import open_store

    with open_store() as store:
        store.get_run(args.run_id)
        artifacts = store.list_artifacts(args.run_id)
        home = store.home
    if args.json:
        rows = []
        for a in artifacts:
            row = a.model_dump(mode="json")
            row["path"] = str(home / a.path)
            rows.append(row)
        print(json.dumps({"artifacts": rows}, indent=2))
        return 0
    print(f"{'STEP':<20} {'NAME':<20} {'KIND':<8} {'SIZE':>10}  PREVIEW")
    for a in artifacts:
        preview = json.dumps(a.preview)[:60] if a.preview else ""
        print(f"{a.step:<20} {a.name:<20} {a.kind:<8} {a.size:>10}  {preview}")
    return 0
