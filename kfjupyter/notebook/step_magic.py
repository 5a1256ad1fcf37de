"""The ``%%step`` cell magic line: parsing it into a CellMark.

Syntax (first line of a code cell)::

    %%step NAME [--after A B ...] [--gpu N] [--gpu-type T] [--cpu C] [--memory M]
                [--image I] [--retries N] [--timeout SECONDS] [--no-cache] [--pure]
                [--depends-on FILE_OR_GLOB ...] [--depends-on-env VAR ...]
                [--notebook PATH [--outputs NAME ...] [--parameters NAME ...]]

``--notebook`` makes the step run another notebook (its cell holds no code): ``--outputs`` names
the variables later steps read from it, ``--parameters`` the pipeline parameters passed to it.

The line is split with :mod:`shlex` and parsed by an argparse parser that raises instead of exiting.
The IPython magic (front door) and the compiler share :func:`parse_step_line`.
"""

from __future__ import annotations

import argparse
import shlex
from typing import NoReturn

from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.marks import (
    ENV_NAME_RE,
    MAX_RETRIES,
    MAX_TIMEOUT_S,
    CellMark,
    MarkSettings,
    SubNotebook,
)

MAGIC = "%%step"


class _ArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _ArgumentError(message)


def _build_parser() -> _Parser:
    parser = _Parser(prog=MAGIC, add_help=False, allow_abbrev=False, exit_on_error=False)
    parser.add_argument("name")
    parser.add_argument("--after", nargs="+", default=[], metavar="STEP")
    parser.add_argument("--gpu", type=int)
    parser.add_argument("--gpu-type", dest="gpu_type")
    parser.add_argument("--cpu")
    parser.add_argument("--memory")
    parser.add_argument("--image")
    parser.add_argument("--retries", type=int)
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--no-cache", dest="no_cache", action="store_true")
    parser.add_argument("--pure", action="store_true")
    parser.add_argument("--depends-on", dest="depends_on", nargs="+", default=[], metavar="FILE")
    parser.add_argument("--depends-on-env", dest="depends_on_env", nargs="+", default=[], metavar="VAR")
    parser.add_argument("--notebook")
    parser.add_argument("--outputs", nargs="+", default=[], metavar="NAME")
    parser.add_argument("--parameters", nargs="*", default=None, metavar="NAME")
    return parser


_PARSER = _build_parser()
USAGE = (
    "%%step NAME [--after A B] [--gpu N] [--gpu-type T] [--cpu C] [--memory M] "
    "[--image I] [--retries N] [--timeout S] [--no-cache] [--pure] [--depends-on FILE_OR_GLOB ...] "
    "[--depends-on-env VAR ...] [--notebook PATH [--outputs NAME ...] [--parameters NAME ...]]"
)


def has_step_magic(source: str) -> bool:
    """Return True when the cell's first line is a ``%%step`` line."""
    first = source.split("\n", 1)[0].strip()
    return first == MAGIC or first.startswith(MAGIC + " ") or first.startswith(MAGIC + "\t")


def parse_step_line(line: str, cell: int | None = None) -> CellMark:
    """Parse a ``%%step ...`` line (with or without the ``%%step`` word) into a CellMark.

    Raises InvalidInput naming the cell (when given) and showing the usage on a malformed line.
    """
    where = f"cell {cell}: " if cell is not None else ""
    text = line.strip()
    if text.startswith(MAGIC):
        text = text[len(MAGIC) :]
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise InvalidInput(f"{where}cannot read the %%step line ({exc}); usage: {USAGE}") from None
    try:
        args = _PARSER.parse_args(argv)
    except (_ArgumentError, argparse.ArgumentError) as exc:
        raise InvalidInput(f"{where}%%step: {exc}; usage: {USAGE}") from None
    if args.gpu is not None and args.gpu < 0:
        raise InvalidInput(f"{where}%%step: --gpu must be 0 or more, got {args.gpu}.")
    if args.retries is not None and not 0 <= args.retries <= MAX_RETRIES:
        raise InvalidInput(
            f"{where}%%step: --retries must be 0 or more and at most {MAX_RETRIES}, got {_short(args.retries)}."
        )
    if args.timeout is not None and not 0 < args.timeout <= MAX_TIMEOUT_S:
        raise InvalidInput(
            f"{where}%%step: --timeout must be a positive number of seconds, at most {MAX_TIMEOUT_S} "
            f"(30 days), got {args.timeout:g}."
        )
    bad = [v for v in args.depends_on_env if not ENV_NAME_RE.match(v)]
    if bad:
        raise InvalidInput(
            f"{where}%%step: --depends-on-env {bad[0]!r} is not an environment variable name "
            "(letters, digits, '_')."
        )
    if any(not p.strip() for p in args.depends_on):
        raise InvalidInput(f"{where}%%step: --depends-on needs a file or glob pattern, not an empty one.")
    if (args.outputs or args.parameters is not None) and not args.notebook:
        raise InvalidInput(f"{where}%%step: --outputs and --parameters go with --notebook PATH.")
    sub = None
    if args.notebook:
        sub = SubNotebook(
            path=args.notebook,
            outputs=tuple(dict.fromkeys(args.outputs)),
            parameters=tuple(dict.fromkeys(args.parameters)) if args.parameters is not None else None,
        )
    settings = MarkSettings(
        cpu=args.cpu,
        memory=args.memory,
        gpu=args.gpu,
        gpu_type=args.gpu_type,
        image=args.image,
        retries=args.retries,
        timeout_s=args.timeout,
        cache=False if args.no_cache else None,
        pure=True if args.pure else None,
        depends_on=tuple(args.depends_on),
        depends_on_env=tuple(args.depends_on_env),
    )
    return CellMark(
        role="step",
        syntax="magic",
        step=args.name,
        after=tuple(dict.fromkeys(args.after)),
        settings=settings,
        first_line=2,
        notebook=sub,
    )


def _short(number: int) -> str:
    """``number`` for a message: a huge one is cut, not printed with thousands of digits."""
    text = str(number)
    return text if len(text) <= 24 else f"{text[:12]}... ({len(text.lstrip('-'))} digits)"


def split_step_magic(source: str) -> tuple[str, str]:
    """Split a cell into its first (``%%step``) line and the code below it, which starts on line 2."""
    line, _, body = source.partition("\n")
    return line, body
