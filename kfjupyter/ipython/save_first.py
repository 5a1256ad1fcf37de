"""Run what the user sees: save the notebook before ``%kf run``, or say which step cells differ.

A run reads the notebook file, so cells edited since the last save would run as they were saved.
In JupyterLab the kfjupyter extension answers a ``kfjupyter.save`` comm: the kernel asks it to
save the notebook and waits (bounded) for the file to change on disk; replies cannot be read while
the asking cell runs, so the file itself is the answer. Where no front end answers (plain IPython,
other clients), the saved step cells are compared with what this kernel ran, and the steps whose
last run here differs from the saved file are named before the run starts.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SAVE_TARGET = "kfjupyter.save"
WAIT_S = 5.0
_SIMILAR = 0.6
_HISTORY = 500


class _FrontEnd:
    """Whether a front end that saves on request has answered this kernel."""

    seen = False


def _kernel_shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return None
    shell = get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def _open_comm(request: str) -> Any:
    try:
        from comm import create_comm
    except ImportError:  # a kernel without the comm package: nobody to ask
        return None

    comm = create_comm(target_name=SAVE_TARGET, data={"request": request})
    if comm is None:
        return None

    def on_msg(message: dict[str, Any]) -> None:
        data = message.get("content", {}).get("data", {})
        if "hello" in data or "saved" in data:
            _FrontEnd.seen = True

    comm.on_msg(on_msg)
    return comm


def greet() -> None:
    """Ask the front end (when it has the extension) to say so; the answer arrives once the cell ends."""
    if _kernel_shell() is not None:
        _open_comm("hello")


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def save_and_wait(notebook: Path, timeout: float = WAIT_S) -> bool:
    """Ask the front end to save ``notebook``; True once the file changed, False without an answer."""
    if _kernel_shell() is None or not _FrontEnd.seen:
        return False
    before = _stamp(notebook)
    _open_comm("save")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = _stamp(notebook)
        if now is not None and now != before:
            time.sleep(0.05)  # let the writer finish: the server writes then renames, or truncates
            return True
    return False


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _step_cells(notebook: Path) -> list[tuple[str, str]]:
    """(step name, raw cell source) of every step cell of the saved notebook."""
    from kfjupyter.compiler.lint import compile_notebook
    from kfjupyter.notebook.reader import read_notebook

    pipeline, _ = compile_notebook(notebook)
    raw = read_notebook(notebook).cells
    return [
        (step.name, raw[block.cell].source)
        for step in pipeline.steps
        for block in step.blocks
        if 0 <= block.cell < len(raw)
    ]


def _step_line_name(source: str) -> str | None:
    first = source.split("\n", 1)[0].split()
    return first[1] if len(first) > 1 and first[0] == "%%step" else None


def differing_steps(cells: Sequence[tuple[str, str]], history: Sequence[str]) -> list[str]:
    """Steps whose cell, as last run in the kernel, differs from the saved cell.

    Going back from the newest input, the first one that is the saved cell, the same ``%%step NAME``
    cell, or close to the saved cell (and no other saved cell) decides: the saved text is fine,
    anything else is an edited version of the cell.
    """
    saved = {_normal(source) for _, source in cells}
    inputs = [_normal(h) for h in history[-_HISTORY:] if h.strip()]
    names: list[str] = []
    for name, source in cells:
        text = _normal(source)
        own_name = _step_line_name(text)
        for entry in reversed(inputs):
            if entry == text:
                break
            if entry in saved:
                continue
            same_step = own_name is not None and _step_line_name(entry) == own_name
            if same_step or difflib.SequenceMatcher(None, entry, text).ratio() >= _SIMILAR:
                if name not in names:
                    names.append(name)
                break
    return names


def warn_unsaved(notebook: Path, shell: Any) -> None:
    """Print which step cells ``shell`` ran differently from the saved ``notebook``."""
    manager = getattr(shell, "history_manager", None)
    history = [str(h) for h in getattr(manager, "input_hist_raw", None) or []]  # as typed, magics included
    try:
        cells = _step_cells(notebook)
    except Exception:  # the run reports the notebook's problems itself
        return
    names = differing_steps(cells, history)
    if names:
        listed = ", ".join(f"'{n}'" for n in names)
        print(
            f"kfjupyter: warning: step(s) {listed} differ from the saved {notebook.name}: this run uses the "
            "saved cells. Save the notebook to run what you see.",
            flush=True,
        )


def before_run(notebook: Path, shell: Any) -> None:
    """Save ``notebook`` through the front end, or warn about step cells that differ from the file."""
    if save_and_wait(notebook):
        return
    if _FrontEnd.seen:
        print(
            f"kfjupyter: warning: JupyterLab did not save {notebook.name} within {WAIT_S:g} s; "
            "running the file as last saved.",
            flush=True,
        )
    warn_unsaved(notebook, shell)
