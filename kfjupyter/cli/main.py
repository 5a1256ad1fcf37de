"""The ``kfjupyter`` command line: argument parsing and the error boundary.

Subcommands live in their own modules and register themselves through ``COMMANDS``; each
exposes ``add_parser(subparsers)`` and returns an exit status. A ``KfJupyterError`` becomes one
clear line on stderr and exit status 2 (1 is reserved for "ran, but failed").
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kfjupyter._version import __version__
from kfjupyter.errors import KfJupyterError

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
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args))
    except KfJupyterError as error:
        print(f"kfjupyter: error: {error.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kfjupyter: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
