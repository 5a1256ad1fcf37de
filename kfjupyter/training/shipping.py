"""What a training job takes to the cluster besides its code: local modules and the files it names.

A function or script run on Kubernetes finds only what the image holds. As for compiled pipeline
steps (:mod:`kfjupyter.compiler.shipping`), the notebook's own modules and the files named with a
literal relative path travel with the job, in its code ConfigMap:

- a **script**: the modules it imports from next to it (and from folders it adds to ``sys.path``
  with a literal) and the files it names inside its folder;
- a **function**: the local modules it uses, found in this kernel: the module it is defined in,
  modules its code refers to through globals (``utils.f(x)`` after ``import utils`` in another
  cell) and objects from local modules it calls (``from utils import f``), each with the local
  modules they import; plus the files its source names inside the current folder.

A module is local when its file lies outside the interpreter's installed packages and standard
library (:func:`kfjupyter.runner.tracking.is_local_module`).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kfjupyter.compiler.local_modules import local_modules
from kfjupyter.compiler.shipping import ShippedFile, shipped_files
from kfjupyter.runner.tracking import is_local_module


def script_files(path: Path, text: str) -> list[ShippedFile]:
    """The local modules and files a training script needs from its folder."""
    return shipped_files([text], path.parent)


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _used_modules(function: Callable[..., Any]) -> set[str]:
    """Names of modules ``function`` refers to: its own, and those of the globals its code reads."""
    names = {getattr(function, "__module__", None) or ""}
    code = getattr(function, "__code__", None)
    found: dict[str, Any] = getattr(function, "__globals__", {})
    if code is not None:
        for inner in _code_objects(code):
            for name in inner.co_names:
                value = found.get(name)
                if isinstance(value, types.ModuleType):
                    names.add(value.__name__)
                elif value is not None:
                    names.add(getattr(value, "__module__", None) or "")
    return {n for n in names if n and n != "__main__"}


def function_files(function: Callable[..., Any], source: str | None, folder: Path) -> list[ShippedFile]:
    """The local modules ``function`` uses and the files its ``source`` names inside ``folder``."""
    found: dict[str, ShippedFile] = {f.path: f for f in shipped_files([source] if source else [], folder)}
    for name in sorted(_used_modules(function)):
        module = sys.modules.get(name)
        file = is_local_module(module) if module is not None else None
        if file is None:
            continue
        parts = name.split(".")
        root = Path(file).parent if Path(file).name != "__init__.py" else Path(file).parent.parent
        for _ in parts[:-1]:
            root = root.parent
        for dotted, path in local_modules([f"import {name}"], root).items():
            relative = path.relative_to(root.resolve()).as_posix()
            found.setdefault(relative, ShippedFile(relative, path, "module", path.stat().st_size, dotted))
    return [found[p] for p in sorted(found)]
