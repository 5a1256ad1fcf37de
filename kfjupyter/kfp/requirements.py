"""A step's third-party imports as pinned distributions of this environment (``--packages``).

Each module a step (or the set-up it runs) imports is mapped to the installed distribution that
provides it (:func:`importlib.metadata.packages_distributions`) and pinned at the version installed
here, the environment that compiles (the notebook server's, normally the kernel's too):
``import sklearn`` -> ``scikit-learn==1.5.2``. When several distributions share a top-level name
(``google`` is protobuf, google-auth...) the one whose files hold the imported module decides.

The standard library, the notebook's own modules (they travel as files) and kfjupyter (the image
must have it) are left out. A module that no installed distribution provides (not installed here,
an editable install, a module on ``sys.path``) cannot be pinned: it is reported, never guessed.

With ``--packages auto`` the pins join the step's packages to install; with ``--packages check``
the container checks them at start and stops with a message naming every missing or different
distribution (:func:`mismatches`), so a step never runs against other versions by surprise.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kfjupyter.compiler.local_modules import local_modules
from kfjupyter.compiler.pysyntax import parse_source

PackagesMode = Literal["none", "auto", "check"]
PACKAGES_MODES: tuple[PackagesMode, ...] = ("none", "auto", "check")
_NEVER = frozenset({"kfjupyter", "__future__", "__main__"})


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): ``Scikit_Learn`` -> ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class StepRequirements:
    """What one step needs from this environment."""

    pins: list[str] = field(default_factory=list)  # "name==version", sorted
    unresolved: list[str] = field(default_factory=list)  # imported modules no distribution provides


def imported_names(sources: Iterable[str]) -> list[str]:
    """Absolute dotted module names the code imports (``from a import b`` yields ``a`` and ``a.b``)."""
    names: set[str] = set()
    for text in sources:
        tree = parse_source(text)
        if not isinstance(tree, ast.Module):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names if a.name != "*")
    return sorted(names)


class Environment:
    """The installed distributions of this Python, read once."""

    def __init__(self) -> None:
        """Index top-level module names to distributions (slow: reads every distribution's files)."""
        self.by_module: Mapping[str, list[str]] = metadata.packages_distributions()
        self._files: dict[str, set[str]] = {}

    def _owned(self, dist: str) -> set[str]:
        if dist not in self._files:
            try:
                files = metadata.distribution(dist).files or []
            except metadata.PackageNotFoundError:
                files = []
            self._files[dist] = {f.as_posix() for f in files}
        return self._files[dist]

    def owner(self, dotted: str) -> list[str]:
        """Distributions providing module ``dotted`` (one when it can be told; [] when none)."""
        parts = dotted.split(".")
        candidates = sorted(set(self.by_module.get(parts[0], [])))
        if len(candidates) <= 1:
            return candidates
        for depth in range(len(parts), 0, -1):
            stem = "/".join(parts[:depth])
            owners = [d for d in candidates if self._provides(d, stem)]
            if owners:
                return owners if len(owners) == 1 else []  # a shared namespace: cannot be told
        return []

    def _provides(self, dist: str, stem: str) -> bool:
        files = self._owned(dist)
        return (
            f"{stem}.py" in files
            or f"{stem}/__init__.py" in files
            or any(f.startswith(f"{stem}/") for f in files)
        )

    def version(self, dist: str) -> str | None:
        """The installed version of ``dist``, or None."""
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None


def step_requirements(
    sources: Sequence[str],
    env: Environment,
    *,
    source_dir: Path | None = None,
    declared: Iterable[str] = (),
) -> StepRequirements:
    """Pins for the third-party modules ``sources`` import; ``declared``: packages already named."""
    own = {n.split(".")[0] for n in local_modules(sources, source_dir)} if source_dir is not None else set()
    already = {canonical(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]) for d in declared}
    skip = set(sys.stdlib_module_names) | set(sys.builtin_module_names) | _NEVER | own
    pins: dict[str, str] = {}
    unresolved: set[str] = set()
    resolved: set[str] = set()
    for dotted in imported_names(sources):
        top = dotted.split(".")[0]
        if top in skip:
            continue
        owners = env.owner(dotted)
        if not owners:
            unresolved.add(top)
            continue
        resolved.add(top)
        for dist in owners:
            version = env.version(dist)
            if version is not None and canonical(dist) not in already:
                pins[canonical(dist)] = f"{dist}=={version}"
    # ``from pkg import name`` also tries ``pkg.name``: a name inside a resolved package is no problem
    return StepRequirements(
        pins=sorted(pins.values(), key=str.lower), unresolved=sorted(unresolved - resolved)
    )


def mismatches(pins: Iterable[str]) -> list[str]:
    """Each ``name==version`` pin that this environment does not satisfy, said in words."""
    problems = []
    for pin in pins:
        name, _, wanted = pin.partition("==")
        try:
            here = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} is not installed (the notebook has {wanted})")
            continue
        if here != wanted:
            problems.append(f"{name} is {here} here (the notebook has {wanted})")
    return problems


def pipeline_requirements(
    steps: Mapping[str, tuple[Sequence[str], Sequence[str]]], source_dir: Path | None
) -> dict[str, StepRequirements]:
    """Step name -> its requirements, for ``steps``: name -> (sources, packages it declares)."""
    env = Environment()
    return {
        name: step_requirements(sources, env, source_dir=source_dir, declared=declared)
        for name, (sources, declared) in steps.items()
    }
