"""Grouping a notebook's cells into set-up, parameters, steps and metrics.

Each code cell's marker is read from one of three syntaxes (``%%step`` line, then
``metadata.kfjupyter``, then Kale tags). A marked cell opens a group; an unmarked cell joins the group
above it, as in Kale; a ``skip`` cell is left out and does not end the group above it (Kale's rule too). Unlike Kale, unmarked code cells *before* the first marker are kept as shared
set-up (and reported with a warning) instead of being dropped. Markdown and raw cells are ignored.
A bad marker is reported as a diagnostic and the cell keeps whatever role can still be read from it,
so one typo does not hide every other finding.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.cell_metadata import METADATA_KEY, parse_cell_metadata
from kfjupyter.notebook.diagnostics import Diagnostic
from kfjupyter.notebook.kale_tags import ignored_tags, parse_kale_tags, role_tags
from kfjupyter.notebook.marks import (
    MAX_STEP_NAME_LENGTH,
    METRICS_STEP_NAME,
    CellMark,
    MarkSettings,
    SubNotebook,
    is_valid_step_name,
    shown_step_name,
    step_name_problem,
    suggest_step_name,
)
from kfjupyter.notebook.nb_settings import Volume, merge_settings, read_notebook_settings
from kfjupyter.notebook.reader import Cell, Notebook
from kfjupyter.notebook.shell_lines import extract_kf_lines, extract_pip, is_shell_only
from kfjupyter.notebook.step_magic import has_step_magic, parse_step_line, split_step_magic

SetupKind = Literal["imports", "functions", "prelude"]


@dataclass(frozen=True)
class Source:
    """Code of one cell as it enters a group (a ``%%step`` line already removed)."""

    cell: int
    source: str
    first_line: int = 1
    origin: str | None = None  # code from another notebook: "prep.ipynb cell 3" (for error messages)


@dataclass(frozen=True)
class SetupSource:
    """A shared set-up cell: ``imports``, ``functions`` or unmarked code before the first marker."""

    kind: SetupKind
    code: Source


@dataclass
class StepSegment:
    """The cells of one step (or of the metrics step), in notebook order."""

    name: str
    kind: Literal["step", "metrics"]
    cell: int
    blocks: list[Source] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    settings: MarkSettings = field(default_factory=MarkSettings)
    packages: list[str] = field(default_factory=list)
    notebook: SubNotebook | None = None  # a step that runs another notebook


@dataclass
class Layout:
    """A notebook cut into groups, plus the findings made while cutting it."""

    name: str
    setup: list[SetupSource] = field(default_factory=list)
    parameters: list[Source] = field(default_factory=list)
    steps: list[StepSegment] = field(default_factory=list)
    default_image: str | None = None
    volumes: list[Volume] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def read_mark(cell: Cell) -> tuple[CellMark | None, list[Diagnostic]]:
    """Read a code cell's marker from whichever syntaxes it uses; problems become diagnostics."""
    diags: list[Diagnostic] = []
    found: list[CellMark] = []
    readers = (
        (has_step_magic(cell.source), _read_magic, _salvage_magic),
        (METADATA_KEY in cell.metadata, _read_metadata, _salvage_metadata),
        (bool(cell.tags), _read_tags, _salvage_tags),
    )
    for present, read, salvage in readers:
        if not present:
            continue
        try:
            mark = read(cell)
        except InvalidInput as exc:
            diags.append(_diag("error", "KF003", cell.index, exc.message, _MARKER_HINT))
            mark = salvage(cell)
        if mark is not None:
            found.append(mark)
    if any(t.strip().startswith("report:") for t in cell.tags):
        diags.append(
            _diag(
                "info",
                "KF006",
                cell.index,
                f"cell {cell.index}: the 'report:' tag is ignored: kfjupyter writes no HTML report of a step.",
                "Remove the tag; the step's log, outputs and figures are kept with every run.",
            )
        )
    if cell.tags:
        ignored = ignored_tags(cell.tags)
        if ignored:
            listed = ", ".join(repr(t) for t in ignored)
            diags.append(
                _diag(
                    "info",
                    "KF006",
                    cell.index,
                    f"cell {cell.index}: Kale ignores the tag(s) {listed} next to the tag that gives the "
                    "cell its role; so does kfjupyter.",
                    "Remove them, or move them to a cell tagged 'step:<name>'.",
                )
            )
    if not found:
        return None, diags
    chosen = found[0]
    for other in found[1:]:
        if not chosen.same_meaning(other):
            diags.append(
                _diag(
                    "warning",
                    "KF002",
                    cell.index,
                    f"cell {cell.index} is marked by {chosen.syntax} and by {other.syntax} in different ways;"
                    f" using {chosen.syntax}.",
                    "Keep one marker per cell (order of precedence: %%step line, metadata.kfjupyter, tags).",
                )
            )
    return chosen, diags


def segment_notebook(nb: Notebook) -> Layout:
    """Cut a notebook into set-up, parameter, step and metrics groups (never raises for markers)."""
    layout = Layout(name=nb.name)
    settings = read_notebook_settings(nb.metadata)
    layout.default_image, layout.volumes = settings.image, settings.volumes
    layout.diagnostics.extend(settings.diagnostics)
    by_name: dict[str, StepSegment] = {}
    group: StepSegment | Literal["imports", "functions", "parameters"] | None = None
    left_out: list[int] = []  # cells whose %kf / %load_ext kfjupyter lines were taken out of a group
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        mark, diags = read_mark(cell)
        layout.diagnostics.extend(diags)
        if mark is None:
            code = _without_kf_lines(Source(cell.index, cell.source), group, left_out)
            if code.source.strip():
                _add_code(layout, group, code)
            continue
        if mark.first_line == 2:
            code = Source(cell.index, split_step_magic(cell.source)[1], 2)
        else:
            code = Source(cell.index, cell.source)
        if mark.role == "skip":
            layout.skipped.append(cell.index)
            continue  # as in Kale: only this cell is skipped, the cells below continue the group above
        if mark.role == "step" or mark.role == "metrics":
            group = _open_step(layout, by_name, mark, cell.index)
        else:
            group = mark.role
        kept = _without_kf_lines(code, group, left_out)
        if kept is code or kept.source.strip() or mark.role in ("step", "metrics"):
            _add_code(layout, group, kept)
    if left_out:
        layout.diagnostics.append(_kf_lines_left_out(left_out))
    for segment in layout.steps:
        own = segment.settings.model_copy(update={"packages": (*layout.packages, *segment.packages)})
        segment.settings = merge_settings(settings.step_defaults, own)
    if not layout.steps:
        # one finding for the notebook, not one per cell that would have been set-up for a step
        layout.diagnostics = [d for d in layout.diagnostics if d.code not in ("KF004", "KF011", "KF012")]
        layout.diagnostics.append(
            _diag(
                "error",
                "KF001",
                None,
                "the notebook has no steps: there is nothing to run or compile.",
                "Mark a cell as a step: tag it 'step:<name>', start it with '%%step <name>' or set "
                "metadata.kfjupyter.step.",
            )
        )
    return layout


def _without_kf_lines(
    code: Source,
    group: StepSegment | Literal["imports", "functions", "parameters"] | None,
    left_out: list[int],
) -> Source:
    """``code`` without its ``%kf`` / ``%load_ext kfjupyter`` lines; noted in ``left_out`` inside a group."""
    source, taken = extract_kf_lines(code.source)
    if not taken:
        return code
    if group is not None:
        left_out.append(code.cell)
    return Source(code.cell, source, code.first_line)


def _kf_lines_left_out(cells: list[int]) -> Diagnostic:
    """One quiet finding for every cell whose kfjupyter magics were left out of the steps."""
    others = ", ".join(f"cell {c}" for c in cells[1:])
    also = f" (also in {others})" if others else ""
    return _diag(
        "info",
        "KF014",
        cells[0],
        f"%kf and %load_ext kfjupyter lines are not step code: they are left out of the pipeline{also}.",
        "They drive kfjupyter from this notebook; a step never runs them.",
    )


_MARKER_HINT = "Fix the cell's marker; see the cell-marker reference (Kale tags, metadata.kfjupyter, %%step)."


def _add_code(
    layout: Layout,
    group: StepSegment | Literal["imports", "functions", "parameters"] | None,
    code: Source,
) -> None:
    shell_only = group is None and is_shell_only(code.source)
    if group != "parameters":
        code = _take_pip_lines(layout, group, code)
    if shell_only and not any(
        line.strip() and not line.lstrip().startswith("pass  #") for line in code.source.split("\n")
    ):
        pass  # only pip install lines: KF012 says where they went
    elif shell_only:
        layout.diagnostics.append(
            _diag(
                "info",
                "KF011",
                code.cell,
                f"cell {code.cell} only runs shell commands before the first marked cell; it is not run "
                "in the steps (Kale drops it too).",
                "If a step needs what it does (a downloaded file...), move it into that step.",
            )
        )
    elif group is None:
        layout.setup.append(SetupSource("prelude", code))
        layout.diagnostics.append(
            _diag(
                "warning",
                "KF004",
                code.cell,
                f"cell {code.cell} comes before the first marked cell; it runs as shared set-up before "
                "every step (Kale would drop it).",
                "Tag it 'imports' or 'functions' to say so, or make it a step.",
            )
        )
    elif isinstance(group, StepSegment):
        group.blocks.append(code)
    elif group == "parameters":
        layout.parameters.append(code)
    elif group in ("imports", "functions"):
        layout.setup.append(SetupSource(group, code))


def _take_pip_lines(
    layout: Layout, group: StepSegment | Literal["imports", "functions"] | None, code: Source
) -> Source:
    """Move the cell's ``pip install`` lines into the packages of its step (of every step for set-up)."""
    pip = extract_pip(code.source)
    if not pip.lines:
        return code
    step = group.name if isinstance(group, StepSegment) else None
    if isinstance(group, StepSegment):
        group.packages.extend(p for p in pip.packages if p not in group.packages)
    else:
        layout.packages.extend(p for p in pip.packages if p not in layout.packages)
    lines = ", ".join(str(n + code.first_line - 1) for n in pip.lines)
    owner = f"step {step!r}" if step else "every step"
    layout.diagnostics.append(
        _diag(
            "info",
            "KF012",
            code.cell,
            f"cell {code.cell}, line(s) {lines}: pip install of {', '.join(pip.packages) or 'nothing'} becomes "
            f"the packages of {owner}: installed in the step's container on a cluster, not run locally.",
            "Locally, install them into this environment once (lint reports it as KF407).",
            step=step,
        )
    )
    if pip.not_carried:
        layout.diagnostics.append(
            _diag(
                "warning",
                "KF013",
                code.cell,
                f"cell {code.cell}: pip options/arguments {' '.join(pip.not_carried)} are not carried to the "
                "step's container (only package names are).",
                "Put what they install into the container image, or list the packages by name.",
                step=step,
            )
        )
    return Source(code.cell, pip.source, code.first_line)


def _open_step(layout: Layout, by_name: dict[str, StepSegment], mark: CellMark, cell: int) -> StepSegment:
    kind: Literal["step", "metrics"] = "metrics" if mark.role == "metrics" else "step"
    given = METRICS_STEP_NAME if kind == "metrics" else (mark.step or "")
    name = _ir_name(given)  # a longer or undecodable one is refused (KF201) but still a step
    existing = by_name.get(name)
    if existing is not None:
        if kind == "step":
            layout.diagnostics.append(
                _diag(
                    "warning",
                    "KF202",
                    cell,
                    f"step {name!r} is declared again in cell {cell} (first in cell {existing.cell}); "
                    f"as in Kale, the cell joins step {name!r} and runs after its earlier cells.",
                    "If you meant a new step, give it a unique name; if you meant to continue the step "
                    "above, remove the marker.",
                    step=name,
                )
            )
        existing.after.extend(a for a in mark.after if a not in existing.after)
        return existing
    if kind == "step" and not is_valid_step_name(given):
        layout.diagnostics.append(_bad_step_name(given, cell))
    segment = StepSegment(
        name=name,
        kind=kind,
        cell=cell,
        after=list(mark.after),
        settings=mark.settings,
        notebook=mark.notebook,
    )
    by_name[name] = segment
    layout.steps.append(segment)
    return segment


def _ir_name(given: str) -> str:
    """The name a step refused by KF201 keeps in the IR: cut to the limit, lone surrogates escaped, never empty."""
    return given[:MAX_STEP_NAME_LENGTH].encode("utf-8", "backslashreplace").decode("utf-8") or "(empty)"


def _bad_step_name(name: str, cell: int) -> Diagnostic:
    """KF201 for a step name that breaks the rule or is too long (a long one is shown cut)."""
    return _diag(
        "error",
        "KF201",
        cell,
        f"step name {shown_step_name(name)} {step_name_problem(name)}.",
        f"Rename it, e.g. {suggest_step_name(name)!r}.",
        step=_ir_name(name),
    )


def _read_magic(cell: Cell) -> CellMark | None:
    return parse_step_line(split_step_magic(cell.source)[0], cell.index)


def _read_metadata(cell: Cell) -> CellMark | None:
    return parse_cell_metadata(cell.metadata, cell.index)


def _read_tags(cell: Cell) -> CellMark | None:
    return parse_kale_tags(cell.tags, cell.index)


def _salvage_magic(cell: Cell) -> CellMark | None:
    """The step name of a malformed ``%%step`` line, when it can still be read."""
    try:
        words = shlex.split(split_step_magic(cell.source)[0])[1:]
    except ValueError:
        words = split_step_magic(cell.source)[0].split()[1:]
    name = words[0] if words and not words[0].startswith("-") else "unnamed"
    return CellMark(role="step", syntax="magic", step=name, first_line=2)


def _salvage_metadata(cell: Cell) -> CellMark | None:
    """The step name of malformed ``metadata.kfjupyter``, when it can still be read."""
    raw = cell.metadata.get(METADATA_KEY)
    if isinstance(raw, Mapping) and isinstance(raw.get("step"), str) and raw["step"]:
        return CellMark(role="step", syntax="metadata", step=raw["step"])
    return None


def _salvage_tags(cell: Cell) -> CellMark | None:
    """The first role tag of a cell whose tags are malformed."""
    roles = role_tags(cell.tags)
    return parse_kale_tags(roles[:1], cell.index) if roles else None


def _diag(
    severity: Literal["error", "warning", "info"],
    code: str,
    cell: int | None,
    message: str,
    hint: str,
    *,
    step: str | None = None,
) -> Diagnostic:
    return Diagnostic(severity=severity, code=code, cell=cell, message=message, hint=hint, step=step)
