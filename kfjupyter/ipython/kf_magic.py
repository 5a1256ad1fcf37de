"""The ``%kf`` line magic: run the notebook as a pipeline and look at runs from a cell.

``%kf run [-p NAME=VALUE]... [--no-cache] [--notebook PATH]`` runs the notebook this kernel
belongs to (JupyterLab tells kernels their notebook's path) or the one given; ``%kf runs`` lists
recent runs; ``%kf logs RUN [STEP]`` prints logs; ``%kf train SCRIPT [--procs N] [--follow] [-- ARGS]``
starts a training job (see ``kfjupyter.train``). Arguments are split like a shell line but never
given to a shell.
"""

from __future__ import annotations

import argparse
import os
import shlex
import time
from pathlib import Path

from kfjupyter.errors import InvalidInput, KfJupyterError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise InvalidInput(f"%kf: {message}; usage: {self.format_usage().strip()}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="%kf", add_help=False)
    sub = parser.add_subparsers(dest="verb", required=True)
    run = sub.add_parser("run", add_help=False)
    run.add_argument("-p", "--param", action="append", default=[])
    run.add_argument("--no-cache", action="store_true")
    run.add_argument("--notebook", default=None)
    run.add_argument("--widget", action="store_true", help="show a live widget and return at once")
    sub.add_parser("runs", add_help=False).add_argument("--limit", type=int, default=10)
    train = sub.add_parser("train", add_help=False)
    train.add_argument("script")
    train.add_argument("--nodes", type=int, default=1)
    train.add_argument("--procs", type=int, default=None)
    train.add_argument("--gpus", type=int, default=0)
    train.add_argument("--backend", choices=["auto", "local", "kubernetes"], default="auto")
    train.add_argument("--image", default=None)
    train.add_argument("--name", default=None)
    train.add_argument("--follow", action="store_true", help="print the logs until the job ends")
    logs = sub.add_parser("logs", add_help=False)
    logs.add_argument("run_id")
    logs.add_argument("step", nargs="?")
    return parser


def current_notebook() -> Path:
    """The notebook this kernel runs for, as JupyterLab reports it."""
    session = os.environ.get("JPY_SESSION_NAME")
    if not session or not session.endswith(".ipynb"):
        raise InvalidInput("%kf run: cannot tell which notebook this kernel belongs to; pass --notebook PATH")
    return Path(session)


def _run(args: argparse.Namespace) -> None:
    from kfjupyter.api import run_notebook

    notebook = Path(args.notebook) if args.notebook else current_notebook()
    if args.widget:
        _run_with_widget(notebook, args)
        return
    start = time.monotonic()

    def show(step: str, status: str, detail: str) -> None:
        print(
            f"[{time.monotonic() - start:6.2f}s] {step}: {status}{'  ' + detail if detail else ''}",
            flush=True,
        )

    run = run_notebook(notebook, overrides=args.param, cache=not args.no_cache, on_event=show)
    print(f"run {run.id}: {run.status}")
    for name, value in run.last_metrics().items():
        print(f"  {name} = {value:g}")


def _run_with_widget(notebook: Path, args: argparse.Namespace) -> None:
    import threading

    from IPython.display import display

    from kfjupyter.api import run_notebook
    from kfjupyter.ipython.widgets import RunWidget
    from kfjupyter.store import new_run_id

    run_id = new_run_id()

    def work() -> None:
        try:
            run_notebook(notebook, overrides=args.param, cache=not args.no_cache, run_id=run_id)
        except KfJupyterError as error:
            widget.fail(error.message)

    widget = RunWidget(run_id)
    display(widget)  # type: ignore[no-untyped-call]
    threading.Thread(target=work, name=f"kfjupyter-run-{run_id}", daemon=True).start()
    widget.follow()


def _train(args: argparse.Namespace) -> None:
    from kfjupyter.training import train

    script_args = getattr(args, "script_args", [])
    job = train(
        args.script,
        args=script_args,
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
    from kfjupyter.store import open_store

    with open_store() as store:
        for r in store.list_runs(limit=args.limit):
            print(f"{r.id:<20} {r.status:<12} {r.backend:<6} {r.name}")


def _logs(args: argparse.Namespace) -> None:
    from kfjupyter.store import open_store

    with open_store() as store:
        steps = [args.step] if args.step else [s.name for s in store.get_steps(args.run_id)]
        store.get_run(args.run_id)
        for step in steps:
            for line in store.read_log(args.run_id, step).text.splitlines():
                print(f"{step} | {line}" if len(steps) > 1 else line)


def kf(line: str) -> None:
    """Body of ``%kf``; errors are printed as one line, never a traceback."""
    try:
        words = shlex.split(line)
        rest: list[str] = []
        if "--" in words:  # what follows `--` goes to the training script untouched
            cut = words.index("--")
            words, rest = words[:cut], words[cut + 1 :]
        args = _parser().parse_args(words)
        args.script_args = rest
        {"run": _run, "runs": _runs, "logs": _logs, "train": _train}[args.verb](args)
    except KfJupyterError as error:
        print(f"kfjupyter: {error.message}")
    except ValueError as error:  # shlex: unbalanced quotes
        print(f"kfjupyter: %kf: cannot read the line ({error})")
