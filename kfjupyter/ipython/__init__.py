"""IPython integration: ``%load_ext kfjupyter`` registers ``%%step`` and ``%kf`` (see ``kf_magic``).

Run interactively, ``%%step NAME [--after A B] [--gpu N] ...`` checks its options and then simply
runs the cell in the notebook's namespace, so a notebook marked with ``%%step`` works the same
cell by cell and as a pipeline. A malformed line is an error that names the option, not a cell
that silently runs with other settings than the pipeline would use. ``%%step NAME --notebook
PATH`` runs that notebook's cells here instead, its parameters cell overridden by the kernel's
values of the parameters passed (``--parameters``, else every one of its parameters defined here).
"""

from __future__ import annotations

from typing import Any

from kfjupyter.errors import KfJupyterError
from kfjupyter.notebook.marks import shown_step_name, step_name_problem
from kfjupyter.notebook.step_magic import parse_step_line


def step(line: str, cell: str, shell: Any) -> None:
    """Body of ``%%step``: validate the step options, then run the cell."""
    try:
        mark = parse_step_line(line)
    except KfJupyterError as error:
        print(f"%%step: {error.message}")
        return
    problem = step_name_problem(mark.step or "")
    if problem is not None:  # as the pipeline would refuse it (KF201): never run it as if fine
        print(f"%%step: step name {shown_step_name(mark.step or '')} {problem}.")
        return
    if mark.notebook is not None:
        _run_notebook(mark.notebook.path, mark.notebook.parameters, shell)
        return
    shell.run_cell(cell, store_history=False)


def _run_notebook(path: str, parameters: tuple[str, ...] | None, shell: Any) -> None:
    from pathlib import Path

    from kfjupyter.compiler.subnotebooks import interactive_code

    try:
        code = interactive_code(Path(path), parameters, set(shell.user_ns))
    except KfJupyterError as error:
        print(f"%%step: {error.message}")
        return
    for source in code:
        result = shell.run_cell(source, store_history=False)
        if not result.success:
            return


def load_ipython_extension(ipython: Any) -> None:
    """Register kfjupyter's magics on ``ipython``."""
    from kfjupyter.ipython.kf_magic import kf
    from kfjupyter.ipython.save_first import greet

    ipython.register_magic_function(
        lambda line, cell: step(line, cell, ipython), magic_kind="cell", magic_name="step"
    )
    ipython.register_magic_function(lambda line: kf(line, ipython), magic_kind="line", magic_name="kf")
    greet()  # JupyterLab's extension answers once this cell ends: %kf run can then ask it to save
