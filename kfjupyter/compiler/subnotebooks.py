"""Steps that run another notebook, papermill-style.

A step marked with a notebook (``metadata.kfjupyter.notebook``, ``%%step NAME --notebook PATH``)
runs every code cell of that notebook in order, in one step process, instead of code of its own.
The pipeline parameters passed to it override its parameters cell: their assignments there are
blanked (line numbers kept) and the runner defines them with the run's values, exactly as it does
for any step; its other parameters keep their defaults. The variables it declares as ``outputs``
are what later steps may read from it.

Everything that can be checked before a run is a diagnostic here (``KF6xx``): the notebook cannot
be read or lies outside this notebook's folder, a passed parameter is not a parameter of the
pipeline or of that notebook (naming both), a declared output is never assigned in it, or the
step's own cell holds code that would not run.

Its parameters cell is found as kfjupyter finds this notebook's (Kale's ``pipeline-parameters``
tag, ``metadata.kfjupyter.role``), or papermill's ``parameters`` tag.
"""

from __future__ import annotations

import ast
from pathlib import Path

from kfjupyter.compiler.analysis import analyze
from kfjupyter.compiler.parameters import extract_parameters
from kfjupyter.compiler.pysyntax import parse_source
from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.diagnostics import Diagnostic
from kfjupyter.notebook.reader import Notebook, read_notebook
from kfjupyter.notebook.segments import Layout, Source, StepSegment, segment_notebook
from kfjupyter.notebook.shell_lines import extract_kf_lines
from kfjupyter.notebook.step_magic import has_step_magic, split_step_magic

PAPERMILL_TAG = "parameters"


def expand_notebook_steps(
    layout: Layout, host: Path | None, pipeline_parameters: set[str]
) -> list[Diagnostic]:
    """Give each notebook step the code of its notebook; return what is wrong with them."""
    diags: list[Diagnostic] = []
    for segment in layout.steps:
        if segment.notebook is not None:
            diags.extend(_expand(segment, host, pipeline_parameters))
    return diags


def _diag(segment: StepSegment, code: str, message: str, hint: str) -> Diagnostic:
    return Diagnostic(
        severity="error", code=code, cell=segment.cell, message=message, hint=hint, step=segment.name
    )


def _locate(segment: StepSegment, host: Path | None) -> Path | Diagnostic:
    assert segment.notebook is not None
    given = segment.notebook.path
    if host is None:
        return _diag(
            segment,
            "KF601",
            f"step {segment.name!r} runs notebook {given!r}, which is found next to this notebook's file; "
            "this notebook was not read from a file.",
            "Save the notebook and run it from its file.",
        )
    folder = host.resolve().parent
    target = (folder / given).resolve()
    if not target.is_relative_to(folder) or target == host.resolve():
        return _diag(
            segment,
            "KF601",
            f"step {segment.name!r} runs notebook {given!r}, which is "
            + ("this notebook itself." if target == host.resolve() else "outside this notebook's folder."),
            "Run a notebook in this notebook's folder or below it.",
        )
    return target


def _expand(segment: StepSegment, host: Path | None, pipeline_parameters: set[str]) -> list[Diagnostic]:
    sub = segment.notebook
    assert sub is not None
    diags: list[Diagnostic] = []
    own = [b.cell for b in segment.blocks if _has_code(b.source)]
    if own:
        cells = ", ".join(str(c) for c in own)
        diags.append(
            _diag(
                segment,
                "KF605",
                f"step {segment.name!r} runs notebook {sub.path!r}, so the code in cell(s) {cells} would not run.",
                "Move that code into its own step (mark its first cell), or into the notebook it runs.",
            )
        )
    located = _locate(segment, host)
    if isinstance(located, Diagnostic):
        segment.blocks = []
        return [*diags, located]
    try:
        notebook = read_notebook(located)
    except InvalidInput as error:
        segment.blocks = []
        return [*diags, _diag(segment, "KF601", f"step {segment.name!r}: {error.message}", "Check the path.")]
    declared = _parameters_of(notebook)
    passed = list(sub.parameters) if sub.parameters is not None else sorted(pipeline_parameters & declared)
    for name in passed:
        if name not in pipeline_parameters:
            diags.append(
                _diag(
                    segment,
                    "KF603",
                    f"step {segment.name!r} passes {name!r} to {sub.path!r}, but {name!r} is not a parameter of "
                    "this pipeline.",
                    "Declare it in this notebook's parameters cell, or remove it from the step's parameters.",
                )
            )
        elif name not in declared:
            have = ", ".join(sorted(declared)) or "none"
            diags.append(
                _diag(
                    segment,
                    "KF602",
                    f"step {segment.name!r} passes parameter {name!r} to notebook {sub.path!r}, which has no "
                    f"parameter {name!r} (its parameters: {have}).",
                    f"Add {name!r} to the parameters cell of {sub.path!r}, or do not pass it.",
                )
            )
    good = [name for name in passed if name in pipeline_parameters and name in declared]
    segment.notebook = sub.model_copy(update={"parameters": tuple(good)})
    blocks = _code(notebook, segment.cell, set(good), sub.path)
    defined: set[str] = set()
    for block in blocks:
        defined |= analyze(block.source).defines
    for name in sub.outputs:
        if name not in defined:
            diags.append(
                _diag(
                    segment,
                    "KF604",
                    f"step {segment.name!r} declares output {name!r}, which notebook {sub.path!r} never assigns.",
                    f"Assign {name!r} at the top level of {sub.path!r}, or remove it from the step's outputs.",
                )
            )
    segment.blocks = blocks
    return diags


def _has_code(source: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in source.splitlines())


def _parameter_cells(notebook: Notebook) -> list[int]:
    """Cells that are its parameters cell(s): kfjupyter's own rules first, else papermill's tag."""
    cells = [p.cell for p in segment_notebook(notebook).parameters]
    if cells:
        return cells
    return [c.index for c in notebook.cells if c.cell_type == "code" and PAPERMILL_TAG in c.tags]


def _parameters_of(notebook: Notebook) -> set[str]:
    wanted = set(_parameter_cells(notebook))
    sources = [Source(c.index, _cell_code(c.source)) for c in notebook.cells if c.index in wanted]
    return extract_parameters(sources).names


def _cell_code(source: str) -> str:
    """A cell's code without a ``%%step`` line (kept as a blank line) and without ``%kf`` lines."""
    if has_step_magic(source):
        source = "\n" + split_step_magic(source)[1]
    return extract_kf_lines(source)[0]


def _blank_assignments(source: str, names: set[str]) -> str:
    """``source`` with the top-level assignments to ``names`` blanked (other lines untouched)."""
    tree = parse_source(source)
    if not isinstance(tree, ast.Module):
        return source
    lines = source.split("\n")
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target]
        else:
            continue
        bound = [t.id for t in targets if isinstance(t, ast.Name)]
        if bound and len(bound) == len(targets) and set(bound) <= names:
            for n in range(stmt.lineno - 1, (stmt.end_lineno or stmt.lineno)):
                lines[n] = ""
    return "\n".join(lines)


def _code(notebook: Notebook, cell: int, passed: set[str], label: str = "") -> list[Source]:
    """Every code cell of ``notebook`` as the step's code (parameters cell overridden), in order."""
    parameter_cells = set(_parameter_cells(notebook))
    blocks = []
    for c in notebook.cells:
        if c.cell_type != "code":
            continue
        code = _cell_code(c.source)
        if c.index in parameter_cells:
            code = _blank_assignments(code, passed)
        if code.strip():
            blocks.append(Source(cell, code, origin=f"{label or notebook.name} cell {c.index}"))
    return blocks


def interactive_code(path: Path, parameters: tuple[str, ...] | None, defined: set[str]) -> list[str]:
    """The code a notebook step runs in a kernel, where ``defined`` names exist (``%%step --notebook``).

    Passed: ``parameters``, or every parameter of the notebook that the kernel defines. InvalidInput
    when the notebook cannot be read or a passed name is missing on either side.
    """
    notebook = read_notebook(path)
    declared = _parameters_of(notebook)
    passed = list(parameters) if parameters is not None else sorted(declared & defined)
    missing = [n for n in passed if n not in declared]
    if missing:
        have = ", ".join(sorted(declared)) or "none"
        raise InvalidInput(
            f"notebook {str(path)!r} has no parameter {', '.join(map(repr, missing))} (its parameters: {have})."
        )
    undefined = [n for n in passed if n not in defined]
    if undefined:
        raise InvalidInput(
            f"{', '.join(map(repr, undefined))} is not defined in this kernel: run its cell first."
        )
    return [b.source for b in _code(notebook, 0, set(passed), str(path))]
