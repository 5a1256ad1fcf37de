"""The options of re-running a run and the :class:`~kfjupyter.runs.backend.Rerun` they ask for.

Shared by the front doors with a command line: ``kfjupyter runs rerun`` and ``%kf rerun``.
"""

from __future__ import annotations

import argparse

from kfjupyter.runs.backend import Rerun
from kfjupyter.runs.stored import parameter_overrides


def add_rerun_options(parser: argparse.ArgumentParser) -> None:
    """``RUN [-p NAME=VALUE]... [--no-cache] [--from STEP | --only STEP]``."""
    parser.add_argument("run_id", metavar="RUN")
    parser.add_argument(
        "-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="override a parameter"
    )
    parser.add_argument("--no-cache", action="store_true", help="run every step again (local runs)")
    part = parser.add_mutually_exclusive_group()
    part.add_argument(
        "--from", dest="from_step", metavar="STEP", help="run this step and those below it again"
    )
    part.add_argument("--only", metavar="STEP", help="run this step alone again (the others from this run)")


def rerun_request(args: argparse.Namespace, option: str = "-p") -> Rerun:
    """The re-run the options of :func:`add_rerun_options` ask for (``option`` names ``-p`` in errors)."""
    return Rerun(
        parameters=parameter_overrides(args.param, option),
        no_cache=args.no_cache,
        from_step=args.from_step,
        only=args.only,
    )
