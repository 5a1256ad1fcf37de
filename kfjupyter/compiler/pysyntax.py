"""Parsing notebook cell source, IPython syntax included, and knowing which names are builtins.

Cells may use ``%magics``, ``!shell`` and ``obj?``; plain :func:`ast.parse` is tried first (fast), and
only when it fails is the cell turned into Python by IPython's own ``TransformerManager``, keeping
the cell's line numbers. Builtins and the names IPython injects into every kernel (``display``,
``get_ipython``, ``In``/``Out``, ``_3``...) are never free names of a cell.
"""

from __future__ import annotations

import ast
import builtins
import re
from typing import Any

BUILTIN_NAMES = frozenset(dir(builtins)) | {
    "get_ipython",
    "display",
    "In",
    "Out",
    "exit",
    "quit",
    "_",
    "__",
    "___",
    "_i",
    "_ii",
    "_iii",
    "_oh",
    "_dh",
    "__name__",
    "__doc__",
    "__builtins__",
}
_IPYTHON_HISTORY = re.compile(r"^_i{0,3}\d+$")
_TRANSFORMER: Any = None


def is_builtin(name: str) -> bool:
    """Return True for builtins and names IPython injects into every kernel."""
    return name in BUILTIN_NAMES or _IPYTHON_HISTORY.match(name) is not None


def parse_source(source: str) -> ast.Module | tuple[int, str]:
    """Parse cell source (IPython syntax allowed) to an AST, or return ``(line, message)`` on error."""
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        plain_error = (exc.lineno or 1, exc.msg)
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        return (1, str(exc) or type(exc).__name__)
    try:
        code = _transform(source)
    except Exception:  # IPython's transformer choking on odd input: report Python's own error
        return plain_error
    try:
        return ast.parse(code)
    except SyntaxError as exc:
        return (exc.lineno or 1, exc.msg)
    except (ValueError, RecursionError, MemoryError) as exc:
        return (1, str(exc) or type(exc).__name__)


def _transform(source: str) -> str:
    # Imported here: IPython is slow to import and only cells with IPython syntax need it.
    from IPython.core.inputtransformer2 import TransformerManager

    # IPython drops leading blank lines; keep them so line numbers stay those of the cell.
    lines = source.splitlines(keepends=True)
    blank = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    global _TRANSFORMER
    if _TRANSFORMER is None:
        _TRANSFORMER = TransformerManager()  # type: ignore[no-untyped-call]
    code = str(_TRANSFORMER.transform_cell("".join(lines[blank:])))
    return "\n" * blank + code
