"""``kfjupyter run | lint | graph``: notebooks as pipelines from the command line."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from kfjupyter.cli.main import diagnostics_json
from kfjupyter.cli.progress import Progress


def add_parser(sub: Any) -> None:
    """Register the pipeline subcommands."""
    run = sub.add_parser("run", help="run a notebook as a pipeline on this machine")
    run.add_argument("notebook", nargs="?", help="path of the .ipynb file")
    run.add_argument(
        "-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="override a parameter"
    )
    run.add_argument(
        "--no-cache", action="store_true", help="run every step even when its cached outputs fit"
    )
    run.add_argument(
        "--max-parallel", type=int, default=None, metavar="N", help="steps at once (default: cores)"
    )
    run.add_argument(
        "--resume", metavar="RUN_ID", help="finish an interrupted run, reusing what it already did"
    )
    run.add_argument(
        "--plan",
        action="store_true",
        help="run nothing: say which steps would run and which come from the cache, and why",
    )
    run.add_argument(
        "--from",
        dest="from_step",
        metavar="STEP",
        help="run STEP and every step below it again; the steps above come from the cache (or --reuse)",
    )
    run.add_argument(
        "--only", metavar="STEP", help="run STEP alone; the steps above come from the cache (or --reuse)"
    )
    run.add_argument(
        "--reuse",
        metavar="RUN_ID",
        help="with --from/--only: take the steps above from this earlier run's outputs",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object with the result")
    run.add_argument("--run-id", default=None, help="id to give the new run (default: generated)")
    run.set_defaults(handler=_run)

    lint = sub.add_parser("lint", help="check a notebook's steps, data flow and settings")
    lint.add_argument("notebook")
    lint.add_argument("--json", action="store_true", help="print one JSON object with the diagnostics")
    lint.add_argument("--target", choices=["local", "cluster"], default="local", help="where it will run")
    lint.set_defaults(handler=_lint)

    graph = sub.add_parser("graph", help="show the steps and the data that flows between them")
    graph.add_argument("notebook")
    fmt = graph.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="nodes and edges as JSON")
    fmt.add_argument("--dot", action="store_true", help="Graphviz DOT")
    graph.set_defaults(handler=_graph)


def interruptible() -> None:
    """Make SIGINT (Ctrl-C, and how ``POST runs/{id}/cancel`` cancels a run) stop this process.

    A process started in the background from a script, and everything it starts, inherits SIGINT
    ignored, and Python then leaves it ignored: a run driven from there could not be cancelled.
    The run's driver therefore always installs Python's own SIGINT handler.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _run(args: argparse.Namespace) -> int:
    from kfjupyter.api import resume_run, run_notebook
    from kfjupyter.errors import InvalidInput

    if args.plan:
        return _plan(args)
    interruptible()
    progress = None if args.json else Progress(sys.stderr)
    on_event = progress.on_event if progress else None
    if args.resume:
        if args.notebook or args.param or args.from_step or args.only or args.reuse:
            raise InvalidInput(
                "--resume RUN_ID takes no notebook, parameters, --from, --only or --reuse: it reuses the run's own"
            )
        run = resume_run(args.resume, max_parallel=args.max_parallel, on_event=on_event)
    else:
        if not args.notebook:
            raise InvalidInput("give a notebook to run, e.g. `kfjupyter run train.ipynb`, or --resume RUN_ID")
        run = run_notebook(
            args.notebook,
            overrides=args.param,
            cache=not args.no_cache,
            max_parallel=args.max_parallel,
            on_event=on_event,
            run_id=args.run_id,
            from_step=args.from_step,
            only=args.only,
            reuse_run=args.reuse,
        )
    if args.json:
        print(json.dumps({**run.to_json(), "diagnostics": diagnostics_json(run.diagnostics)}))
    elif progress is not None:
        for d in run.diagnostics:
            if d.severity == "warning":
                where = f"cell {d.cell}" if d.cell is not None else "notebook"
                print(f"{args.notebook}: {where}: warning {d.code}: {d.message}", file=sys.stderr)
        progress.summary(run.to_json())
    return 0 if run.status == "succeeded" else 1


def _plan(args: argparse.Namespace) -> int:
    from kfjupyter.api import plan_notebook
    from kfjupyter.errors import InvalidInput

    if args.resume or not args.notebook:
        raise InvalidInput("--plan needs a notebook, e.g. `kfjupyter run train.ipynb --plan` (not --resume)")
    steps = plan_notebook(
        args.notebook,
        overrides=args.param,
        cache=not args.no_cache,
        from_step=args.from_step,
        only=args.only,
        reuse_run=args.reuse,
    )
    if args.json:
        print(json.dumps({"steps": [s.to_json() for s in steps]}))
        return 0
    width = max((len(s.name) for s in steps), default=0)
    for s in steps:
        print(f"{s.name:<{width}}  {s.action:<6}  {'; '.join(s.reasons)}")
    return 0


def _lint(args: argparse.Namespace) -> int:
    from kfjupyter.compiler.lint import lint_notebook

    diagnostics = lint_notebook(args.notebook, target=args.target)
    if args.json:
        errors = sum(1 for d in diagnostics if d.severity == "error")
        body = {"notebook": args.notebook, "errors": errors, "diagnostics": diagnostics_json(diagnostics)}
        print(json.dumps(body, indent=2))
    else:
        for d in diagnostics:
            where = f"cell {d.cell}" if d.cell is not None else "notebook"
            if d.line is not None:
                where += f", line {d.line}"
            print(f"{args.notebook}: {where}: {d.severity} {d.code}: {d.message}")
            if d.hint:
                print(f"    hint: {d.hint}")
        if not diagnostics:
            print(f"{args.notebook}: no problems found")
    return 1 if any(d.severity == "error" for d in diagnostics) else 0


def _graph(args: argparse.Namespace) -> int:
    from kfjupyter.compiler.export import graph_edges, graph_to_dot, graph_to_json
    from kfjupyter.compiler.lint import compile_notebook

    pipeline, diagnostics = compile_notebook(args.notebook)
    if args.json:
        print(json.dumps({**graph_to_json(pipeline), "diagnostics": diagnostics_json(diagnostics)}, indent=2))
        return 0 if pipeline.steps else 1
    if not pipeline.steps:
        hints = [d.hint for d in diagnostics if d.code == "KF001"]
        print(f"{args.notebook}: no steps: the notebook has no step to show. {' '.join(hints)}".strip())
        return 1
    elif args.dot:
        print(graph_to_dot(pipeline))
    else:
        edges: dict[str, list[str]] = {}
        for edge in graph_edges(pipeline):
            label = ", ".join(edge.get("variables", [])) or "after"
            edges.setdefault(str(edge["to"]), []).append(f"{edge['from']} ({label})")
        for step in pipeline.steps:
            ups = edges.get(step.name, [])
            print(f"{step.name}" + (f"  <- {'; '.join(ups)}" if ups else ""))
    return 0
