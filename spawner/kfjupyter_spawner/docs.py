"""Generate the admins' reference of the profiles schema from the models' field descriptions.

``python -m kfjupyter_spawner.docs --write`` regenerates ``docs/admins/profiles-reference.md``;
``--check`` exits 1 when the committed file is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from kfjupyter_spawner import profiles as p
from kfjupyter_spawner.namespaces import UserNamespaces

MODELS: tuple[type[BaseModel], ...] = (
    p.SpawnerConfig,
    p.Profile,
    p.Image,
    p.Resources,
    p.Request,
    p.Gpu,
    p.GpuType,
    p.Toleration,
    p.UserVolume,
    p.SharedVolume,
    p.ShmVolume,
    p.Option,
    p.Choice,
    p.Overrides,
    UserNamespaces,
)
TARGET = Path(__file__).resolve().parents[2] / "docs" / "admins" / "profiles-reference.md"


def _type(annotation: Any) -> str:
    """A short, readable name of a field's type."""
    origin = get_origin(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if origin is Annotated:
        return _type(args[0])
    if origin in (Union, UnionType):
        names = [_type(a) for a in args]
        if type(None) in get_args(annotation):
            names.append("None")
        return " or ".join(names)
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(_type(a) for a in args)}]"
    if annotation is Any:
        return "any"
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))


def render() -> str:
    """The reference as Markdown."""
    lines = [
        "# Spawner profiles reference",
        "",
        "Generated from the schema (`python -m kfjupyter_spawner.docs --write`); do not edit by hand.",
        "Every model refuses unknown keys. See `spawner/kfjupyter_spawner/examples/profiles.yaml`.",
        "",
    ]
    for model in MODELS:
        lines += [
            f"## {model.__name__}",
            "",
            (model.__doc__ or "").strip(),
            "",
            "| field | type | default | description |",
            "|---|---|---|---|",
        ]
        for name, field in model.model_fields.items():
            default = (
                "required" if field.is_required() else repr(field.get_default(call_default_factory=True))
            )
            description = (field.description or "").replace("|", "\\|")
            lines.append(f"| `{name}` | `{_type(field.annotation)}` | `{default}` | {description} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        TARGET.write_text(text, encoding="utf-8")
        return 0
    if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
        print(f"{TARGET} is stale: run `python -m kfjupyter_spawner.docs --write`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
