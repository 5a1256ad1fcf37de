"""Static analysis of one code cell: which names it reads, defines and mutates in place.

IPython syntax (``%magic``, ``!shell``, ``obj?``) is first turned into plain Python with IPython's own
``TransformerManager``; the result is walked with :mod:`ast` following Python's scope rules:

* module level is read top to bottom: a name is *free* when it is loaded before the cell binds it
  (``x += 1`` reads ``x``; ``del x`` of an unbound ``x`` reads it too);
* function and lambda bodies run later, so the globals they load are *deferred* reads, attributed to
  the top-level function or class that contains them; parameters, locals, ``nonlocal`` and enclosing
  function scopes are resolved as Python does, ``global`` names go to module level;
* class bodies and comprehensions run immediately; comprehension targets are private, walrus targets
  bind in the enclosing scope;
* imports, ``for``/``with``/``except`` targets, walrus, ``match`` captures all bind (a function that
  assigns a ``global`` is not taken to define it: it may never be called);
* the bodies of ``%time``/``%%time``/``%timeit``/``%%capture``/``%prun`` are analysed as code, and
  ``{name}``/``$name`` in ``!shell`` commands are reads.

Builtins and IPython's injected names are never free. A top-level statement that changes an object it
did not bind (``df.drop(..., inplace=True)``, ``xs.append(1)``, ``obj.a = 1``, ``d[k] = v``) is an
in-place *mutation*; :mod:`kfjupyter.compiler.effects` follows such changes through aliases and calls
(``BlockInfo.effects``). Results are cached by source text: re-linting an edited notebook re-parses only
the cells that changed.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from kfjupyter.compiler.effects import scan_effects
from kfjupyter.compiler.pysyntax import BUILTIN_NAMES, is_builtin, parse_source
from kfjupyter.compiler.scopes import MUTATING_METHODS, BlockInfo, scan

__all__ = ["BUILTIN_NAMES", "MUTATING_METHODS", "BlockInfo", "analyze", "is_builtin", "parse_source"]


@lru_cache(maxsize=4096)
def analyze(source: str) -> BlockInfo:
    """Analyse one block of code (IPython syntax allowed); never raises for user code."""
    tree = parse_source(source)
    if isinstance(tree, tuple):
        return BlockInfo(syntax_error=tree)
    try:
        return replace(scan(tree), effects=scan_effects(tree))
    except RecursionError:
        return BlockInfo(syntax_error=(1, "the code is nested too deeply to analyse"))
