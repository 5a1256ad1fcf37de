"""Shell lines in notebook cells: ``!cmd``, ``%pip``, ``%%bash`` and IPython's automagic one-liners.

Two questions the cell grouping asks of them:

* is a cell *shell only* (every line a shell escape or line magic, a ``%%bash``-like cell, or a
  one-line automagic call such as ``pip install x`` or ``ls``)? Such a cell before the first marked
  cell installs or inspects the environment; it is not a step's set-up;
* which lines are ``pip install`` (``!pip``, ``%pip``, ``!python -m pip``, ``!{sys.executable} -m
  pip``, or automagic ``pip install`` alone in a cell)? They become the step's packages: each line
  is replaced by ``pass`` (its indentation kept) so it never runs unannounced, and the packages are
  installed in the step's container on a cluster;
* which lines drive kfjupyter itself (``%kf ...``, ``%load_ext kfjupyter``)? They are never step code:
  a ``%kf run`` inside a step would start the pipeline from within itself. They are taken out of
  the cell (kept as a comment) wherever they stand.

Which names are magics comes from IPython itself (:func:`automagic_names`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from functools import lru_cache

_SHELL_CELL_MAGICS = ("%%bash", "%%sh", "%%system", "%%script bash", "%%script sh")
_PIP_LINE = re.compile(
    r"^(?P<indent>\s*)(?:[!%]\s*(?:pip3?|\S*python[0-9.]*\s+-m\s+pip|\{sys\.executable\}\s+-m\s+pip)"
    r"|pip3?)\s+install(?P<args>(?:\s.*)?)$"
)
#: pip options whose value is not a package; kfjupyter cannot carry them to the step's container.
_VALUE_OPTIONS = frozenset(
    {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url",
     "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--src", "--upgrade-strategy"}
)  # fmt: skip
_KF_LINE = re.compile(r"^(?P<indent>\s*)%(?:kf\b|(?:re)?load_ext\s+kfjupyter\b)")
_CARRIED_FLAGS = frozenset({"-q", "--quiet", "-U", "--upgrade", "--user", "--no-cache-dir", "-y", "--yes"})


@dataclass
class PipLines:
    """What the ``pip install`` lines of one cell ask for, and the cell without them."""

    source: str
    packages: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    not_carried: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def automagic_names() -> frozenset[str]:
    """Line magics and aliases of a default IPython kernel (read from IPython, not hard-coded)."""
    import inspect

    import IPython.core.magics as magics
    from IPython.core.alias import default_aliases

    names: set[str] = {alias for alias, _ in default_aliases()}
    for _, cls in inspect.getmembers(magics, inspect.isclass):
        table = getattr(cls, "magics", None)
        if isinstance(table, dict):
            names |= set(table.get("line", {}))
    return frozenset(names)


def is_shell_only(source: str) -> bool:
    """True when the cell only runs shell commands or line magics (no Python of its own)."""
    text = source.strip()
    if not text:
        return False
    if text.startswith(_SHELL_CELL_MAGICS):
        return True
    lines = [line.strip() for line in text.splitlines()]
    code = [line for line in lines if line and not line.startswith("#")]
    if all(line.startswith(("!", "%")) and not line.startswith("%%") for line in code):
        return True
    if len(lines) == 1:
        word = re.match(r"[A-Za-z_][A-Za-z0-9_]*", lines[0])
        if word is None:
            return False
        rest = lines[0][word.end() :].lstrip()
        return word.group(0) in automagic_names() and not rest.startswith(("=", ".", "(", "["))
    return False


def extract_pip(source: str) -> PipLines:
    """Take the ``pip install`` lines out of a cell (kept as ``pass``), collecting their packages.

    An automagic ``pip install`` (no ``!``/``%``) counts only alone in a one-line cell, as IPython runs
    it only there. Options that are not packages (``-r file``, ``-i URL``...) are listed in
    ``not_carried``.
    """
    lines = source.split("\n")
    out = PipLines(source=source)
    single = len(source.strip("\n").splitlines()) == 1
    for index, line in enumerate(lines):
        match = _PIP_LINE.match(line)
        if match is None or (not line.lstrip().startswith(("!", "%")) and not single):
            continue
        try:
            words = shlex.split(match.group("args"))
        except ValueError:
            words = match.group("args").split()
        skip = False
        for word in words:
            if skip:
                skip = False
                out.not_carried.append(word)
            elif word in _VALUE_OPTIONS:
                skip = True
                out.not_carried.append(word)
            elif word.startswith("-"):
                if word not in _CARRIED_FLAGS and word.split("=", 1)[0] not in _CARRIED_FLAGS:
                    out.not_carried.append(word)
            elif "$" in word or "{" in word:
                out.not_carried.append(word)
            elif word not in out.packages:
                out.packages.append(word)
        lines[index] = f"{match.group('indent')}pass  # {line.strip()}  (kfjupyter: the step's packages)"
        out.lines.append(index + 1)
    out.source = "\n".join(lines)
    return out


def extract_kf_lines(source: str) -> tuple[str, list[int]]:
    """Take the lines that drive kfjupyter (``%kf``, ``%load_ext kfjupyter``) out of a cell.

    Returns the cell with each such line replaced by ``pass`` (its indentation kept, so a block
    stays valid; a comment at the top level) and the 1-based numbers of the lines taken out. A cell that holds nothing else
    comes back blank.
    """
    lines = source.split("\n")
    taken = [n for n, line in enumerate(lines) if _KF_LINE.match(line)]
    if not taken:
        return source, []
    others = [line for n, line in enumerate(lines) if n not in taken and line.strip()]
    if all(line.lstrip().startswith("#") for line in others):
        return "", [n + 1 for n in taken]
    for n in taken:
        match = _KF_LINE.match(lines[n])
        indent = match.group("indent") if match else ""
        # a comment where it may stand alone (a parameters cell stays literal assignments), else pass
        keep = f"pass  # {lines[n].strip()}" if indent else f"# {lines[n].strip()}"
        lines[n] = f"{indent}{keep}  (kfjupyter: not step code)"
    return "\n".join(lines), [n + 1 for n in taken]
