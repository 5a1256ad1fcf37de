"""The compiler front door: notebook -> (typed Pipeline, diagnostics), and lint.

:func:`compile_notebook` reads a notebook, groups its cells, resolves data flow and reports every
problem it can as a :class:`~kfjupyter.notebook.diagnostics.Diagnostic` instead of raising. Only a
notebook that cannot be read at all raises :class:`~kfjupyter.errors.InvalidInput`.

Diagnostic codes:

======  ========  ===========================================================================
code    severity  meaning
======  ========  ===========================================================================
KF001   error     the notebook has no steps (nothing to run or compile)
KF002   warning   a cell is marked by two syntaxes that disagree (the stronger one is used)
KF003   error     a malformed marker: Kale tag, ``metadata.kfjupyter`` or ``%%step`` line
KF004   warning   code cell before the first marked cell (kept as shared set-up; Kale drops it)
KF005   warning   malformed notebook-level settings (e.g. a volume without a name)
KF006   info      Kale tags that are ignored (next to a role tag, on a bare step: cell, report:)
KF007   warning   a notebook-level Kale setting that is not applied (Katib, snapshots, unknown field)
KF008   info      notebook-level Kale settings with nothing to do in kfjupyter (experiment, marshal...)
KF009   warning   the notebook's docker_image: it must contain kfjupyter
KF010   error     a volume kind that is refused (pv, clone, snapshot), with the reason (a warning locally)
KF011   info      a shell-only cell before the first marked cell is not run in the steps
KF012   info      pip install lines become the step's packages (installed on a cluster, not run locally)
KF013   warning   pip options that are not carried to the step's container (-r FILE, -i URL...)
KF014   info      ``%kf`` / ``%load_ext kfjupyter`` lines inside a step or set-up are left out (not step code)
KF101   error     a name is read but nothing upstream, in set-up or parameters defines it
KF102   warning   a step changes a module's state (``os.environ``, a seed) and a later step uses the module
KF103   error     syntax error
KF104   info      a step may change an object it receives (effects unknown): readers after it take it from it
KF105   warning   a step declared pure changes an object that a later step reads (the change is passed on)
KF201   error     invalid step name
KF202   warning   the same step name is declared again (the cell joins that step, as in Kale)
KF203   error     prev:/after names a step that does not exist
KF204   error     steps form a cycle
KF301   error     a pipeline-parameters cell holds something other than literal assignments
KF302   error     a parameter's literal is not int/float/str/bool/list/dict (JSON-compatible)
KF303   warning   a parameter is assigned twice
KF304   error     a pipeline-metrics cell line that is not ``print(<name>)``
KF401   info      GPUs are not attached when running locally
KF402   info      the container image is not used when running locally
KF403   warning   volumes are not mounted when running locally
KF404   warning   secrets are not injected as environment variables when running locally
KF405   info      node selectors and tolerations do not apply locally
KF406   info      CPU and memory limits are not enforced locally
KF407   warning   a step's packages (from pip install lines) are not installed when running locally
KF408   warning   a limit KFP cannot set (other than CPU, memory, GPU) is not applied on a cluster
KF501   info      the notebook's modules and files a step ships to the cluster (cluster target)
KF502   error     the shipped files are over the size limit, naming the largest (cluster target)
KF601   error     a step's notebook cannot be read, is outside this notebook's folder, or is this notebook
KF602   error     a parameter passed to a step's notebook is not a parameter of that notebook (naming both)
KF603   error     a parameter passed to a step's notebook is not a parameter of this pipeline
KF604   error     a step's notebook never assigns an output the step declares
KF605   error     a step that runs a notebook has code of its own in its cells (it would not run)
======  ========  ===========================================================================
"""

from __future__ import annotations

from typing import Literal

from kfjupyter.compiler.graph import build_pipeline
from kfjupyter.compiler.ir import Pipeline, Step
from kfjupyter.compiler.metrics import with_metrics
from kfjupyter.compiler.parameters import extract_parameters
from kfjupyter.compiler.shipping import ship_diagnostics
from kfjupyter.compiler.subnotebooks import expand_notebook_steps
from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.diagnostics import Diagnostic, Severity, has_errors, sort_diagnostics
from kfjupyter.notebook.reader import NotebookSource, read_notebook
from kfjupyter.notebook.segments import segment_notebook

Target = Literal["local", "cluster"]

__all__ = [
    "Diagnostic",
    "NotebookErrors",
    "cluster_diagnostics",
    "compile_notebook",
    "lint_notebook",
    "local_run_diagnostics",
    "raise_on_errors",
]


def compile_notebook(
    source: NotebookSource, *, target: Target = "local", ship_limit: int | None = None
) -> tuple[Pipeline, list[Diagnostic]]:
    """Compile a notebook (path, JSON dict or read Notebook) to a Pipeline plus sorted diagnostics.

    With ``target="local"`` the diagnostics include the settings a local run ignores; with
    ``"cluster"``, the files each step ships (at most ``ship_limit`` bytes, see
    :mod:`kfjupyter.compiler.shipping`). Raises
    InvalidInput only when the notebook itself cannot be read; problems in cells are diagnostics.
    """
    notebook = read_notebook(source)
    layout = segment_notebook(notebook)
    names = extract_parameters(layout.parameters).names
    notebook_steps = expand_notebook_steps(layout, notebook.path, names)
    pipeline, diagnostics = build_pipeline(layout)
    pipeline, metric_findings = with_metrics(pipeline)
    diagnostics = [*layout.diagnostics, *notebook_steps, *diagnostics, *metric_findings]
    if target == "local":
        # a volume is not mounted locally, so one kfjupyter cannot create only stops a cluster run
        diagnostics = [
            d.model_copy(
                update={"severity": "warning", "message": d.message + " (Volumes are not used locally.)"}
            )
            if d.code == "KF010"
            else d
            for d in diagnostics
        ]
        diagnostics.extend(local_run_diagnostics(pipeline))
    else:
        diagnostics.extend(cluster_diagnostics(pipeline))
        if notebook.path is not None:
            diagnostics.extend(ship_diagnostics(pipeline, notebook.path.parent, ship_limit))
    return pipeline, sort_diagnostics(diagnostics)


def lint_notebook(source: NotebookSource, *, target: Target = "local") -> list[Diagnostic]:
    """Return the sorted diagnostics of a notebook (see the table in this module's docstring)."""
    return compile_notebook(source, target=target)[1]


class NotebookErrors(InvalidInput):
    """A notebook that cannot run or compile; ``diagnostics`` holds every finding (errors first)."""

    def __init__(self, message: str, *, diagnostics: list[Diagnostic], detail: str | None = None) -> None:
        """Keep the diagnostics next to the one-line message."""
        super().__init__(message, detail=detail)
        self.diagnostics = diagnostics


def raise_on_errors(diagnostics: list[Diagnostic]) -> None:
    """Raise NotebookErrors (an InvalidInput) summarising the error diagnostics, if there are any."""
    if not has_errors(diagnostics):
        return
    errors = [d for d in diagnostics if d.severity == "error"]
    first = errors[0]
    where = (
        f"cell {first.cell}" + (f", line {first.line}" if first.line else "")
        if first.cell is not None
        else ""
    )
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    detail = "\n".join(f"{d.code} cell={d.cell} line={d.line}: {d.message}" for d in errors)
    where = f" {where}" if where else ""
    raise NotebookErrors(
        f"the notebook has {len(errors)} error(s); first: {first.code}{where}: {first.message}{more} "
        f"{first.hint}".strip(),
        diagnostics=[*errors, *(d for d in diagnostics if d.severity != "error")],
        detail=detail,
    )


def cluster_diagnostics(pipeline: Pipeline) -> list[Diagnostic]:
    """Report, per step, the settings KFP cannot apply (limits on resources it has no field for)."""
    diags: list[Diagnostic] = []
    for step in pipeline.steps:
        extra = step.settings.resources.extra_limits
        if extra:
            listed = ", ".join(f"{k}={v}" for k, v in sorted(extra.items()))
            diags.append(
                Diagnostic(
                    severity="warning",
                    code="KF408",
                    cell=step.blocks[0].cell if step.blocks else None,
                    message=f"step {step.name!r}: limit(s) {listed} cannot be set through KFP and are not applied.",
                    hint="KFP sets CPU, memory and accelerator limits only; use a PodDefault or a LimitRange.",
                    step=step.name,
                )
            )
    return diags


def local_run_diagnostics(pipeline: Pipeline) -> list[Diagnostic]:
    """Report, per step, the settings that a local run does not honour."""
    diags: list[Diagnostic] = []
    for step in pipeline.steps:
        cell = step.blocks[0].cell if step.blocks else None
        for severity, code, what in _ignored(step):
            diags.append(
                Diagnostic(
                    severity=severity,
                    code=code,
                    cell=cell,
                    message=f"step {step.name!r}: {what} when running locally.",
                    hint="These settings apply when the pipeline runs on a Kubeflow cluster.",
                    step=step.name,
                )
            )
    return diags


def _ignored(step: Step) -> list[tuple[Severity, str, str]]:
    s = step.settings
    found: list[tuple[Severity, str, str]] = []
    gpus = s.resources.gpu or any("gpu" in name for name in s.resources.extra_limits)
    if gpus:
        found.append(("info", "KF401", f"{s.resources.gpu or 'the requested'} GPU(s) are not attached"))
    if s.image:
        found.append(("info", "KF402", f"image {s.image!r} is not used (the step runs in this environment)"))
    if s.volumes:
        paths = ", ".join(v.get("mount_path", "?") for v in s.volumes)
        found.append(("warning", "KF403", f"volumes are not mounted ({paths})"))
    if s.secrets:
        envs = ", ".join(v.get("env", "?") for v in s.secrets)
        found.append(("warning", "KF404", f"secrets are not set as environment variables ({envs})"))
    if s.node_selector or s.tolerations:
        found.append(("info", "KF405", "node selectors and tolerations do not apply"))
    if s.resources.cpu or s.resources.memory:
        found.append(("info", "KF406", "CPU and memory limits are not enforced"))
    if s.packages:
        found.append(
            (
                "warning",
                "KF407",
                f"packages {', '.join(s.packages)} (from pip install lines) are not installed",
            )
        )
    return found
