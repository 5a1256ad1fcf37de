"""The ``kfjupyter`` command line: argument parsing and the error boundary.

Subcommands live in their own modules and register themselves through ``COMMANDS``; each
exposes ``add_parser(subparsers)`` and returns an exit status. A ``KfJupyterError`` becomes one
clear line on stderr and its kind's exit status: 2 for the caller's mistakes, 73-75 for a full disk,
a broken run store or a temporary fault (1 is reserved for "ran, but failed"); an argument that is
not UTF-8 text is such an error; a reader of stdout that goes away early ends the command quietly
with status 141, as SIGPIPE would. With ``--json`` a refusal is also one JSON object on stdout,
``{"error": {"message", "reason"}, "diagnostics": [...]}`` (the notebook's findings when the notebook
is what was refused), so a caller reading stdout always gets exactly one object.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from kfjupyter._version import __version__
from kfjupyter.errors import InvalidInput, KfJupyterError

# Subcommand modules, imported only when the parser is built (keeps `--version` instant).
COMMANDS: tuple[str, ...] = ("pipeline_cmds", "compile_cmd", "submit_cmd", "runs_cmds", "cluster_cmd")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="kfjupyter", description="Kubeflow for people who live in notebooks."
    )
    parser.add_argument("--version", action="version", version=f"kfjupyter {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"kfjupyter.cli.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(words)
        except SystemExit as exit_:
            if exit_.code not in (0, None) and "--json" in words:
                _print_error("the command line is not valid; see the message on stderr", "usage", [])
            raise
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help()
            return 2
        try:
            check_text_arguments(words)
            status = int(handler(args))
            sys.stdout.flush()  # here, so that a reader gone early is seen inside this boundary
            return status
        except KfJupyterError as error:
            print(f"kfjupyter: error: {error.message}", file=sys.stderr)
            if getattr(args, "json", False):
                _print_error(error.message, error.reason, getattr(error, "diagnostics", []))
            return error.exit_status
        except KeyboardInterrupt:
            print("kfjupyter: interrupted", file=sys.stderr)
            return 130
    except BrokenPipeError:
        return _reader_gone()


def check_text_arguments(words: Sequence[str]) -> None:
    """Raise InvalidInput naming an argument that holds bytes that are not UTF-8.

    Python keeps such bytes as lone surrogates; they cannot become a run id, a parameter value or
    a stored path, so they are refused here with the argument shown, not deep inside with a traceback.
    """
    for word in words:
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(
                f"argument {word!a} is not valid UTF-8 text; pass it as UTF-8 (check the "
                "terminal's or the calling program's encoding)."
            ) from None


def diagnostics_json(diagnostics: Sequence[Any]) -> list[dict[str, Any]]:
    """Diagnostics as the CLI prints them in JSON (one flat object each)."""
    fields = ("severity", "code", "cell", "line", "message", "hint")
    return [{k: getattr(d, k) for k in fields} for d in diagnostics]


def _print_error(message: str, reason: str, diagnostics: Sequence[Any]) -> None:
    body = {"error": {"message": message, "reason": reason}, "diagnostics": diagnostics_json(diagnostics)}
    print(json.dumps(body, indent=2))


def _reader_gone() -> int:
    """The reader of stdout went away (``kfjupyter runs list | head``): stop quietly, like ``cat``.

    Later writes, and the flush at exit, go to /dev/null so Python reports no second broken pipe.
    The status is the shell's for a process ended by SIGPIPE (128 + 13).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    raise SystemExit(main())
