"""The notebook's own modules a step imports, found without running anything.

A compiled step cannot record what it imports on this machine (it runs in a container later), so
the modules are found by reading the code: every ``import``/``from ... import`` in the step's set-up
and cells is looked up next to the notebook and in the folders the code adds to ``sys.path`` with
a literal (``sys.path.append('../lib')``); each module found is read the same way, so modules it
imports (relative imports included) are found too. Installed packages are never found here: only
files under those folders count. Their content hashes belong in the step's KFP cache key.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from kfjupyter.compiler.pysyntax import parse_source

_MAX_MODULES = 1000


def _path_additions(tree: ast.AST, base: Path) -> list[Path]:
    """Folders added with ``sys.path.append('x')`` / ``sys.path.insert(i, 'x')`` (literal strings)."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        target = node.func.value
        if not (
            node.func.attr in ("append", "insert")
            and isinstance(target, ast.Attribute)
            and target.attr == "path"
            and isinstance(target.value, ast.Name)
            and target.value.id == "sys"
        ):
            continue
        arg = node.args[-1] if node.args else None
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.append((base / arg.value).resolve())
    return found


def _imports(tree: ast.AST, package: str) -> Iterator[str]:
    """Dotted names a module imports (``from a import b`` yields ``a`` and ``a.b``), made absolute."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                if node.level - 1 > len(parts):
                    continue
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, node.module] if node.module else parts)
            else:
                base = node.module or ""
            if not base:
                continue
            yield base
            for alias in node.names:
                if alias.name != "*":
                    yield f"{base}.{alias.name}"


def _find(name: str, roots: list[Path]) -> Path | None:
    """The file of module ``name`` (a ``.py`` file or a package's ``__init__.py``) under ``roots``."""
    parts = name.split(".")
    for root in roots:
        folder = root.joinpath(*parts[:-1])
        for candidate in (folder / f"{parts[-1]}.py", folder / parts[-1] / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def local_modules(sources: Iterable[str], source_dir: Path) -> dict[str, Path]:
    """Module name -> file of every local module the code in ``sources`` imports, transitively."""
    trees = [t for t in (parse_source(s) for s in sources) if isinstance(t, ast.Module)]
    roots = [source_dir.resolve()]
    for tree in trees:
        roots += [p for p in _path_additions(tree, source_dir) if p not in roots]
    found: dict[str, Path] = {}
    pending: list[tuple[str, str]] = []  # (module name, package it is imported from)
    for tree in trees:
        pending += [(name, "") for name in _imports(tree, "")]
    while pending and len(found) < _MAX_MODULES:
        name, _ = pending.pop()
        if name in found:
            continue
        parts = name.split(".")
        # A package's modules need the package itself: ``import a.b`` runs a/__init__.py too.
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent not in found:
                pending.append((parent, ""))
        path = _find(name, roots)
        if path is None:
            continue
        found[name] = path
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError, RecursionError, OSError):
            continue  # it will fail where it runs, with Python's own message
        package = name if path.name == "__init__.py" else ".".join(parts[:-1])
        pending += [(n, package) for n in _imports(tree, package)]
    return dict(sorted(found.items()))


def module_hashes(sources: Iterable[str], source_dir: Path) -> dict[str, str]:
    """Module name -> SHA-256 of its file, for the local modules ``sources`` import."""
    return {
        name: hashlib.sha256(path.read_bytes()).hexdigest()
        for name, path in local_modules(sources, source_dir).items()
    }
