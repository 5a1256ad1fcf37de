"""The ``%kf`` line magic: run the notebook as a pipeline and look at runs from a cell.

``%kf run [-p NAME=VALUE]... [--no-cache] [--widget] [--notebook PATH]`` runs the notebook this
kernel belongs to (JupyterLab tells kernels their notebook's path) or the one given, here or with
``--backend kfp [--host URL]`` on Kubeflow Pipelines (the notebook is saved first, see
:mod:`kfjupyter.ipython.save_first`); ``%kf runs`` shows the live runs table;
``%kf run --from STEP`` / ``--only STEP`` [``--reuse RUN``] runs part of it again and ``%kf run --plan``
says what would run; ``%kf load RUN STEP [--outputs]`` defines a step's recorded inputs and
parameters (or its outputs) in this kernel; ``%kf logs RUN [STEP]`` prints logs; ``%kf metrics RUN [METRIC]`` charts a run's metrics;
``%kf train SCRIPT [--procs N] [--follow] [-- ARGS]`` starts a training job; ``%kf cancel RUN`` stops
a run and ``%kf rerun RUN [-p NAME=VALUE]... [--no-cache]`` starts one again
(:mod:`kfjupyter.ipython.run_verbs`). ``%kf --help`` (or
``%kf COMMAND --help``) explains the options. Arguments are split like a shell line but never
given to a shell; a bad line prints one line with the usage, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import shlex
import time
from pathlib import Path
from typing import Any, NoReturn

from kfjupyter.errors import InvalidInput, KfJupyterError
from kfjupyter.ipython import save_first


class _HelpShown(Exception):
    """``--help`` printed the help; nothing else to do."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split()).removeprefix("usage: ")
        raise InvalidInput(f"%kf: {message}; usage: {usage}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message, end="")
        raise _HelpShown


def _parser() -> argparse.ArgumentParser:
    from kfjupyter.ipython import kfp_run, run_verbs

    parser = _Parser(prog="%kf", description="kfjupyter from a notebook cell (%load_ext kfjupyter).")
    sub = parser.add_subparsers(dest="verb", required=True, title="commands")
    run = sub.add_parser("run", help="run this notebook as a pipeline (here, or --backend kfp)")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE")
    run.add_argument("--no-cache", action="store_true", help="run every step again")
    run.add_argument("--notebook", default=None, help="notebook to run (default: this one)")
    run.add_argument("--widget", action="store_true", help="show a live widget and return at once")
    run.add_argument("--from", dest="from_step", metavar="STEP", help="run STEP and the steps below it again")
    run.add_argument("--only", metavar="STEP", help="run STEP alone")
    run.add_argument("--reuse", metavar="RUN", help="with --from/--only: take the steps above from RUN")
    run.add_argument("--plan", action="store_true", help="run nothing: say what would run, and why")
    kfp_run.add_options(run)
    load = sub.add_parser("load", help="define a step's recorded inputs and parameters in this kernel")
    load.add_argument("run_id", metavar="RUN")
    load.add_argument("step", metavar="STEP")
    load.add_argument("--outputs", action="store_true", help="load what the step produced instead")
    runs = sub.add_parser("runs", help="live table of recent runs")
    runs.add_argument("--limit", type=int, default=20)
    runs.add_argument("--kind", choices=["all", "pipeline", "training"], default="all")
    runs.add_argument(
        "--status",
        choices=["all", "pending", "running", "succeeded", "failed", "cancelled", "interrupted"],
        default="all",
    )
    logs = sub.add_parser("logs", help="print a run's logs")
    logs.add_argument("run_id", metavar="RUN")
    logs.add_argument("step", nargs="?", metavar="STEP")
    metrics = sub.add_parser("metrics", help="live chart of a run's metrics")
    metrics.add_argument("run_id", metavar="RUN")
    metrics.add_argument("metric", nargs="?", metavar="METRIC")
    train = sub.add_parser("train", help="start a training job: %%kf train SCRIPT [options] [-- ARGS]")
    train.add_argument("script")
    train.add_argument("--nodes", type=int, default=1)
    train.add_argument("--procs", type=int, default=None)
    train.add_argument("--gpus", type=int, default=0)
    train.add_argument("--backend", choices=["auto", "local", "kubernetes"], default="auto")
    train.add_argument("--image", default=None)
    train.add_argument("--name", default=None)
    train.add_argument("--follow", action="store_true", help="print the logs until the job ends")
    run_verbs.add_parsers(sub)
    return parser


def current_notebook() -> Path:
    """The notebook this kernel runs for, as JupyterLab reports it."""
    session = os.environ.get("JPY_SESSION_NAME")
    if not session or not session.endswith(".ipynb"):
        raise InvalidInput("%kf run: cannot tell which notebook this kernel belongs to; pass --notebook PATH")
    return Path(session)


def _is_this_kernels(notebook: Path) -> bool:
    """Whether ``notebook`` is the one this kernel runs for (the one the front end would save)."""
    try:
        return notebook.resolve() == current_notebook().resolve()
    except (InvalidInput, OSError, RuntimeError):
        return False


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)  # type: ignore[no-untyped-call]


def _run(args: argparse.Namespace) -> None:
    from kfjupyter.ipython import kfp_run

    kfp_run.check_backend_options(args)
    notebook = Path(args.notebook) if args.notebook else current_notebook()
    selected = args.from_step or args.only or args.reuse
    if kfp_run.on_kfp_backend(args) and (selected or args.plan):
        raise InvalidInput(
            "%kf run: --from, --only, --reuse and --plan are for local runs (not --backend kfp)"
        )
    if _is_this_kernels(notebook):
        save_first.before_run(notebook, args.shell)
    elif not os.environ.get("JPY_SESSION_NAME"):  # no notebook front end: compare with what ran here
        save_first.warn_unsaved(notebook, args.shell)
    if args.plan:
        _plan(notebook, args)
        return
    if kfp_run.on_kfp_backend(args):
        kfp_run.submit(notebook, args)
        return
    if args.widget:
        _run_with_widget(notebook, args)
        return
    from kfjupyter.api import run_notebook

    start = time.monotonic()

    def show(step: str, status: str, detail: str) -> None:
        print(
            f"[{time.monotonic() - start:6.2f}s] {step}: {status}{'  ' + detail if detail else ''}",
            flush=True,
        )

    run = run_notebook(
        notebook,
        overrides=args.param,
        cache=not args.no_cache,
        on_event=show,
        from_step=args.from_step,
        only=args.only,
        reuse_run=args.reuse,
    )
    print(f"run {run.id}: {run.status}")
    for name, value in run.last_metrics().items():
        print(f"  {name} = {value:g}")


def _run_with_widget(notebook: Path, args: argparse.Namespace) -> None:
    import threading

    from kfjupyter.api import run_notebook
    from kfjupyter.ipython.widgets import RunWidget
    from kfjupyter.store import new_run_id

    run_id = new_run_id()

    def work() -> None:
        try:
            run_notebook(
                notebook,
                overrides=args.param,
                cache=not args.no_cache,
                run_id=run_id,
                from_step=args.from_step,
                only=args.only,
                reuse_run=args.reuse,
            )
        except KfJupyterError as error:
            widget.fail(error.message)

    widget = RunWidget(run_id)
    _display(widget)
    threading.Thread(target=work, name=f"kfjupyter-run-{run_id}", daemon=True).start()
    widget.follow()


def _plan(notebook: Path, args: argparse.Namespace) -> None:
    from kfjupyter.api import plan_notebook

    steps = plan_notebook(
        notebook,
        overrides=args.param,
        cache=not args.no_cache,
        from_step=args.from_step,
        only=args.only,
        reuse_run=args.reuse,
    )
    width = max((len(s.name) for s in steps), default=0)
    for s in steps:
        print(f"{s.name:<{width}}  {s.action:<6}  {'; '.join(s.reasons)}")


def _load(args: argparse.Namespace) -> None:
    from kfjupyter.api import step_values

    if args.shell is None:
        raise InvalidInput("%kf load needs an IPython kernel to define the values in")
    found = step_values(args.run_id, args.step, outputs=args.outputs)
    values = found.load()
    args.shell.user_ns.update(values)
    what = "outputs" if args.outputs else "inputs and parameters"
    if not values:
        print(f"step {args.step!r} of run {args.run_id} has no {what}: nothing to load")
        return
    print(f"loaded the {what} of step {args.step!r} (run {args.run_id}): {', '.join(found.names)}")
    for entry in found.entries:
        origin = {"parameter": "parameter", "output": "output"}.get(entry.kind, f"from step '{entry.source}'")
        print(f"  {entry.name}: {_describe(values[entry.name])} ({origin})")


def _describe(value: object) -> str:
    shape = getattr(value, "shape", None)
    kind = type(value).__name__
    if isinstance(shape, tuple):
        return f"{kind} {'x'.join(str(n) for n in shape) or 'scalar'}"
    text = repr(value)
    return f"{kind} {text if len(text) <= 60 else text[:57] + '...'}"


def _train(args: argparse.Namespace) -> None:
    from kfjupyter.training import train

    job = train(
        args.script,
        args=args.script_args,
        num_nodes=args.nodes,
        procs_per_node=args.procs,
        gpus_per_node=args.gpus,
        backend=args.backend,
        image=args.image,
        name=args.name,
    )
    print(f"training job {job.name} ({job.id}) started")
    if args.follow:
        for line in job.logs(follow=True):
            print(line, flush=True)
        print(f"training job {job.name}: {job.status}")


def _runs(args: argparse.Namespace) -> None:
    from kfjupyter.ipython.runs_table import RunsTable

    if args.limit < 1:
        raise InvalidInput("%kf runs: --limit must be at least 1")
    table = RunsTable(limit=args.limit, kind=args.kind, status=args.status)
    table.reload()
    _display(table)


def _logs(args: argparse.Namespace) -> None:
    from kfjupyter.store import open_store

    with open_store() as store:
        store.get_run(args.run_id)
        steps = [args.step] if args.step else [s.name for s in store.get_steps(args.run_id)]
        for step in steps:
            for line in store.read_log(args.run_id, step).text.splitlines():
                print(f"{step} | {line}" if len(steps) > 1 else line)


def _metrics(args: argparse.Namespace) -> None:
    from kfjupyter.ipython.charts import MetricsChart
    from kfjupyter.store import open_store

    chart = MetricsChart(args.run_id, args.metric)
    with open_store(chart.home) as store:
        active = chart.refresh(store)
    if args.metric and not active and args.metric not in chart.names:
        known = ", ".join(chart.names) or "none"
        raise InvalidInput(f"run {args.run_id} has no metric {args.metric!r} (it has: {known})")
    _display(chart)
    if active:
        chart.follow()


def _cancel(args: argparse.Namespace) -> None:
    from kfjupyter.ipython import run_verbs

    run_verbs.cancel(args)


def _rerun(args: argparse.Namespace) -> None:
    from kfjupyter.ipython import run_verbs

    run_verbs.rerun(args)


_COMMANDS = {
    "run": _run,
    "load": _load,
    "runs": _runs,
    "logs": _logs,
    "metrics": _metrics,
    "train": _train,
    "cancel": _cancel,
    "rerun": _rerun,
}


def kf(line: str, shell: Any = None) -> None:
    """Body of ``%kf`` in ``shell``; errors are printed as one line, never a traceback."""
    try:
        words = shlex.split(line)
    except ValueError as error:  # unbalanced quotes
        print(f"kfjupyter: %kf: cannot read the line ({error})")
        return
    try:
        rest: list[str] = []
        if "--" in words:  # what follows `--` goes to the training script untouched
            cut = words.index("--")
            words, rest = words[:cut], words[cut + 1 :]
        parser = _parser()
        if not words:
            parser.print_help()
            return
        args = parser.parse_args(words)
        if rest and args.verb != "train":
            raise InvalidInput(f"%kf {args.verb}: arguments after '--' are for %kf train only")
        args.script_args = rest
        args.shell = shell
        _COMMANDS[args.verb](args)
    except _HelpShown:
        pass
    except KfJupyterError as error:
        print(f"kfjupyter: {error.message}")
