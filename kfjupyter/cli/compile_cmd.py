"""``kfjupyter compile``: write a notebook as Kubeflow Pipelines v2 YAML."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the compile subcommand."""
    cmd = sub.add_parser("compile", help="compile a notebook to a Kubeflow Pipelines v2 YAML file")
    cmd.add_argument("notebook", help="path of the .ipynb file")
    cmd.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write the YAML")
    cmd.add_argument(
        "-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="new parameter default"
    )
    cmd.add_argument(
        "--image", default=None, help="container image for every step (default: $KFJUPYTER_IMAGE or per step)"
    )
    add_shipping_options(cmd)
    cmd.add_argument("--json", action="store_true", help="print one JSON object with the result")
    cmd.set_defaults(handler=_compile)


def add_shipping_options(cmd: Any) -> None:
    """``--ship-limit`` and ``--packages``: what travels with the steps (compile and submit)."""
    cmd.add_argument(
        "--ship-limit",
        default=None,
        metavar="SIZE",
        help="most bytes of the notebook's modules and files the steps may carry (e.g. 20MB; "
        "default: $KFJUPYTER_SHIP_LIMIT or 5MB)",
    )
    cmd.add_argument(
        "--packages",
        choices=["none", "auto", "check"],
        default="none",
        help="each step's third-party imports pinned at this environment's versions: 'auto' installs "
        "them in the step's container, 'check' stops the step when the image has others (default: none)",
    )


def _compile(args: argparse.Namespace) -> int:
    from kfjupyter.cli.main import diagnostics_json
    from kfjupyter.compiler.lint import compile_notebook, raise_on_errors
    from kfjupyter.compiler.parameters import resolve_parameters
    from kfjupyter.compiler.shipping import parse_size
    from kfjupyter.kfp.pipeline import compile_to_yaml, step_requirements_of

    limit = parse_size(args.ship_limit) if args.ship_limit is not None else None
    pipeline, diagnostics = compile_notebook(args.notebook, target="cluster", ship_limit=limit)
    raise_on_errors(diagnostics)
    values = resolve_parameters(pipeline, None, args.param)
    source_dir = Path(args.notebook).resolve().parent
    needs = step_requirements_of(pipeline, source_dir) if args.packages != "none" else {}
    text = compile_to_yaml(
        pipeline,
        values=values,
        image=args.image,
        source_dir=source_dir,
        limit=limit,
        packages=args.packages,
        requirements=needs,
    )
    Path(args.output).write_text(text, encoding="utf-8")
    if args.json:
        body = {
            "notebook": args.notebook,
            "output": args.output,
            "steps": [s.name for s in pipeline.steps],
            "diagnostics": diagnostics_json(diagnostics),
        }
        if args.packages != "none":
            body["packages"] = {name: n.pins for name, n in needs.items()}
            body["unpinned"] = {name: n.unresolved for name, n in needs.items() if n.unresolved}
        print(json.dumps(body, indent=2))
    else:
        for name, n in needs.items():
            if n.unresolved:
                print(
                    f"{args.notebook}: step {name!r} imports {', '.join(n.unresolved)}, which no "
                    "distribution installed here provides: not pinned",
                    file=sys.stderr,
                )
        print(f"{args.notebook}: wrote {args.output} ({len(pipeline.steps)} steps)", file=sys.stderr)
    return 0
