"""Parsing notebook cell source, IPython syntax included, and knowing which names are builtins.

Cells may use ``%magics``, ``!shell`` and ``obj?``; plain :func:`ast.parse` is tried first (fast), and
only when it fails is the cell turned into Python by IPython's own ``TransformerManager``, keeping
the cell's line numbers. Then, as IPython's ``transform_cell`` does, a cell that is a single line
after that may be an *automagic* call (``pip install x``, ``cd /tmp``, ``ls -la``): a magic or alias
name that the line does not assign, even when the line is also valid Python (``cd /tmp`` is a
division to Python, a ``%cd`` to IPython). IPython skips names the kernel's namespace defines, which
a cell alone cannot know: a word alone (``ls``) is read as the magic only for shell-like names,
since a lone ``env`` or ``time`` is more likely a variable being displayed, and a valid call such as
``load(data)`` stays a call of the notebook's own function. Builtins and the
names IPython injects into every kernel (``display``, ``get_ipython``, ``In``/``Out``, ``_3``...) are
never free names of a cell.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
from typing import Any

from kfjupyter.notebook.shell_lines import automagic_names

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


#: Magic names that, alone on a one-line cell, IPython runs as the magic (an alias or a shell verb).
_SHELL_WORDS = frozenset(
    {"ls", "ll", "lf", "lk", "ldir", "lx", "pwd", "cd", "dhist", "dirs", "popd", "pushd", "lsmagic"}
    | {"who", "whos", "who_ls", "history", "quickref", "magic"}
)
_AUTOMAGIC_LINE = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_.]*)(.*)$")


def parse_source(source: str) -> ast.Module | tuple[int, str]:
    """Parse cell source (IPython syntax allowed) to an AST, or return ``(line, message)`` on error."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        plain_error = (exc.lineno or 1, exc.msg)
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        return (1, str(exc) or type(exc).__name__)
    else:
        return _bare_automagic(source, tree) or tree
    try:
        code = _transform(source)
    except Exception:  # IPython's transformer choking on odd input: report Python's own error
        return plain_error
    try:
        return ast.parse(code)
    except SyntaxError as exc:
        error = (exc.lineno or 1, exc.msg)
    except (ValueError, RecursionError, MemoryError) as exc:
        return (1, str(exc) or type(exc).__name__)
    return automagic(code) or error


def automagic(code: str) -> ast.Module | None:
    """The magic call IPython makes of a one-line (transformed) cell such as ``pip install x``, else None.

    IPython applies automagic only when the transformed cell is a single line, the line's first word
    is a magic or alias name that is not a builtin or keyword, and the rest does not assign to it.
    """
    lead = len(code) - len(code.lstrip("\n"))
    lines = code[lead:].splitlines()
    if len(lines) != 1:
        return None
    match = _AUTOMAGIC_LINE.match(lines[0])
    if match is None:
        return None
    _, name, rest = match.groups()
    if name not in automagic_names() or name in BUILTIN_NAMES or keyword.iskeyword(name):
        return None
    if rest[:1] in ("=", ",") and not rest.startswith("=="):
        return None
    call = f"get_ipython().run_line_magic({name!r}, {rest.strip()!r})"
    return ast.parse("\n" * lead + call)


def _bare_automagic(source: str, tree: ast.Module) -> ast.Module | None:
    """The automagic reading of a one-line cell that is valid Python too (``cd /tmp``, ``ls``)."""
    body = tree.body
    if len(body) != 1 or not isinstance(body[0], ast.Expr):
        return None
    text = source.lstrip("\n")
    if len(text.splitlines()) != 1:
        return None
    if isinstance(body[0].value, ast.Name) and body[0].value.id not in _SHELL_WORDS:
        return None
    if isinstance(body[0].value, ast.Call):  # load(x): the notebook's own function, which IPython honours
        return None
    return automagic(text) and automagic(source)


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
