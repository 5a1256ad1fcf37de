"""What travels with each step to a cluster: the notebook's own modules and the files it names.

A step that runs in a container only finds what its image holds. The notebook's own modules
(``from utils import f``, ``import mypkg.sub``, found by :mod:`kfjupyter.compiler.local_modules`)
and the files its code names with a literal relative path (``open('config.yaml')``,
``pd.read_csv('data/x.csv')``, ``CONFIG = 'conf/run.json'``) are read here, next to the notebook,
and carried in the step's payload. In the container a module lands at the path of its name
(``mypkg/sub.py``) and a file at its path relative to the notebook's folder, both under the step's
working folder, which is also on ``sys.path``.

Only literal strings that name an existing regular file inside the notebook's folder are shipped:
paths built at run time (``Path('data') / name``), folders and files outside the notebook's folder
are not, and lint says which files travel so nothing is shipped by surprise. The total is capped
(:data:`DEFAULT_SHIP_LIMIT`, ``KFJUPYTER_SHIP_LIMIT`` or ``compile --ship-limit``); past it the
compile stops with the largest files named.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from kfjupyter.compiler.ir import CodeBlock, Pipeline, Step
from kfjupyter.compiler.local_modules import local_modules
from kfjupyter.compiler.pysyntax import parse_source
from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.diagnostics import Diagnostic

DEFAULT_SHIP_LIMIT = 5_000_000
SHIP_LIMIT_ENV = "KFJUPYTER_SHIP_LIMIT"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(i?)[bB]?\s*$")
_MAX_PATH_TEXT = 1024


@dataclass(frozen=True)
class ShippedFile:
    """One file a step carries: where it lands in the container and where it comes from here."""

    path: str  # POSIX path relative to the step's working folder in the container
    source: Path  # the file next to the notebook
    kind: Literal["module", "file"]
    size: int
    name: str  # the module's name, or the literal the code wrote


def parse_size(text: str, *, what: str = "--ship-limit") -> int:
    """Bytes from ``5MB``, ``500kB``, ``2MiB`` or a plain number; InvalidInput naming ``what``."""
    match = _SIZE.match(text)
    if not match:
        raise InvalidInput(f"{what}: {text!r} is not a size; write e.g. 5MB, 500kB or 1000000.")
    number, unit, binary = match.groups()
    base = 1024 if binary else 1000
    scale = base ** " kmg".index(unit.lower()) if unit else 1
    return int(float(number) * scale)


def ship_limit(value: int | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The limit in bytes: ``value``, else ``$KFJUPYTER_SHIP_LIMIT``, else :data:`DEFAULT_SHIP_LIMIT`."""
    if value is not None:
        return value
    env = os.environ if environ is None else environ
    text = env.get(SHIP_LIMIT_ENV)
    return parse_size(text, what=f"${SHIP_LIMIT_ENV}") if text else DEFAULT_SHIP_LIMIT


def human_size(size: int) -> str:
    """``1.2 MB``, ``340 kB``, ``12 B``."""
    for unit, scale in (("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def step_sources(pipeline: Pipeline, step: Step) -> list[CodeBlock]:
    """The set-up cells ``step`` runs, then its own cells."""
    wanted = set(step.setup)
    return [*(b for b in pipeline.setup if b.cell in wanted), *step.blocks]


def _module_path(name: str, file: Path) -> str:
    parts = name.split(".")
    if file.name == "__init__.py":
        return "/".join([*parts, "__init__.py"])
    return "/".join([*parts[:-1], f"{parts[-1]}.py"])


def _literal_files(tree: ast.AST, folder: Path) -> Iterable[tuple[str, Path]]:
    """(literal, file) for every string constant naming an existing file inside ``folder``."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        text = node.value
        if not text or len(text) > _MAX_PATH_TEXT or "\n" in text or "\x00" in text or "://" in text:
            continue
        if text.startswith(("/", "~")) or not any(c in text for c in "./"):
            continue  # absolute paths and bare words (column names, labels) are not files to ship
        try:
            candidate = (folder / text).resolve()
            if candidate.is_relative_to(folder) and candidate.is_file():
                yield text, candidate
        except (OSError, RuntimeError, ValueError):
            continue


def shipped_files(sources: Iterable[str], source_dir: Path) -> list[ShippedFile]:
    """The modules and files the code in ``sources`` needs from ``source_dir``, by container path."""
    texts = list(sources)
    folder = source_dir.resolve()
    found: dict[str, ShippedFile] = {}
    for name, file in local_modules(texts, folder).items():
        path = _module_path(name, file)
        found.setdefault(path, ShippedFile(path, file, "module", file.stat().st_size, name))
    for text in texts:
        tree = parse_source(text)
        if not isinstance(tree, ast.Module):
            continue
        for literal, file in _literal_files(tree, folder):
            path = PurePosixPath(file.relative_to(folder).as_posix()).as_posix()
            if path not in found:
                found[path] = ShippedFile(path, file, "file", file.stat().st_size, literal)
    return [found[p] for p in sorted(found)]


def pipeline_files(pipeline: Pipeline, source_dir: Path) -> dict[str, list[ShippedFile]]:
    """Step name -> the files it ships (steps shipping nothing are left out)."""
    result: dict[str, list[ShippedFile]] = {}
    for step in pipeline.steps:
        files = shipped_files((b.source for b in step_sources(pipeline, step)), source_dir)
        if files:
            result[step.name] = files
    return result


def over_limit(files: Mapping[str, list[ShippedFile]], limit: int) -> str | None:
    """The message when the distinct files shipped total more than ``limit`` bytes, else None."""
    distinct: dict[Path, tuple[ShippedFile, list[str]]] = {}
    for step, shipped in files.items():
        for f in shipped:
            distinct.setdefault(f.source, (f, []))[1].append(step)
    total = sum(f.size for f, _ in distinct.values())
    if total <= limit:
        return None
    biggest = sorted(distinct.values(), key=lambda pair: (-pair[0].size, pair[0].path))[:3]
    named = ", ".join(f"{f.path} ({human_size(f.size)}, step {', '.join(steps)})" for f, steps in biggest)
    return (
        f"the files shipped with the steps total {human_size(total)}, over the limit of "
        f"{human_size(limit)}; the largest: {named}. Read large data from storage (a volume or an "
        f"object store) instead, or raise the limit with --ship-limit SIZE or ${SHIP_LIMIT_ENV}."
    )


def check_limit(files: Mapping[str, list[ShippedFile]], limit: int) -> None:
    """InvalidInput when the shipped files are over ``limit`` (see :func:`over_limit`)."""
    message = over_limit(files, limit)
    if message is not None:
        raise InvalidInput(message)


def ship_diagnostics(pipeline: Pipeline, source_dir: Path, limit: int | None = None) -> list[Diagnostic]:
    """KF501 per step naming each file it ships; KF502 when all of them are over the limit."""
    try:
        chosen = ship_limit(limit)
    except InvalidInput as error:
        return [Diagnostic(severity="error", code="KF502", message=error.message)]
    files = pipeline_files(pipeline, source_dir)
    diags: list[Diagnostic] = []
    for step in pipeline.steps:
        shipped = files.get(step.name)
        if not shipped:
            continue
        listed = ", ".join(
            f"{f.path} ({'module ' + f.name if f.kind == 'module' else 'file'}, {human_size(f.size)})"
            for f in shipped
        )
        diags.append(
            Diagnostic(
                severity="info",
                code="KF501",
                cell=step.blocks[0].cell if step.blocks else None,
                message=f"step {step.name!r} ships {len(shipped)} file(s) to the cluster: {listed}.",
                hint="They are read from the notebook's folder when the pipeline is compiled.",
                step=step.name,
            )
        )
    message = over_limit(files, chosen)
    if message is not None:
        diags.append(Diagnostic(severity="error", code="KF502", message=message))
    return diags
