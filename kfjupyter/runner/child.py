"""The step process: run one :class:`StepJob` with IPython semantics and report a result.

This module runs inside a freshly forked process (see :mod:`kfjupyter.runner.forkserver`). It
loads the step's inputs, runs the set-up code and the step's cells in an IPython shell (so
``%magics`` and ``!shell`` work), saves the outputs later steps need, saves open matplotlib
figures, and writes ``result.json``. User code runs inside a boundary: whatever it raises
becomes a failed result naming the cell, never a crash of the runner.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import io
import os
import re
import sys
import traceback
from pathlib import Path
from typing import Any, TextIO

from kfjupyter.errors import KfJupyterError
from kfjupyter.runner.guard import InputGuard, relink
from kfjupyter.runner.job import SavedOutput, Source, StepJob, StepResult
from kfjupyter.runner.tracking import ReadRecorder

RESULT_FILE = "result.json"


class TimestampedStream(io.TextIOBase):
    """A text stream that prefixes every line written to it with a timestamp and a stream tag."""

    def __init__(self, sink: TextIO, tag: str) -> None:
        self._sink = sink
        self._tag = tag
        self._at_line_start = True

    def writable(self) -> bool:
        """Return True: this stream accepts writes."""
        return True

    def write(self, text: str) -> int:
        """Write ``text``, starting each new line with ``<iso time> <tag> ``."""
        if not text:
            return 0
        out = []
        for piece in text.splitlines(keepends=True):
            if self._at_line_start:
                now = datetime.datetime.now().isoformat(timespec="milliseconds")
                out.append(f"{now} {self._tag} ")
            out.append(piece)
            self._at_line_start = piece.endswith("\n")
        self._sink.write("".join(out))
        self._sink.flush()
        return len(text)

    def flush(self) -> None:
        """Flush the underlying file."""
        self._sink.flush()

    def isatty(self) -> bool:
        """Return False: step output is never a terminal."""
        return False


class CellError(Exception):
    """User code in a cell raised; carries the cell index and a short traceback."""

    def __init__(self, cell: int, message: str) -> None:
        super().__init__(message)
        self.cell = cell


def make_shell() -> Any:
    """Create an IPython shell suitable for steps (no history database, no display hooks)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.xmode = "Plain"
    return InteractiveShell.instance(config=config)


#: IPython's name for the code of each cell this process ran (``<ipython-input-1-…>``) -> the cell.
_CELL_NAMES: dict[str, str] = {}
_CODE_NAME = re.compile(r"<ipython-input-\d+-[0-9a-f]+>")


def _quiet(*_args: Any, **_kwargs: Any) -> None:
    """Stands in for IPython's own traceback printer: a step's error is reported once, on stderr."""


def _named_cells(text: str) -> str:
    """``text`` with IPython's code names replaced by the cell they came from (``cell 3``)."""

    def name(match: re.Match[str]) -> str:
        return _CELL_NAMES.get(match.group(0), match.group(0))

    return _CODE_NAME.sub(name, text)


def _run_source(shell: Any, source: Source, *, step: str) -> None:
    with contextlib.suppress(Exception):  # only a nicer name in tracebacks would be lost
        code = source.code
        _CELL_NAMES[shell.compile.get_code_name(code, shell.transform_cell(code), shell.execution_count)] = (
            source.origin or f"cell {source.cell}"
        )
    shell.showtraceback = shell.showsyntaxerror = _quiet
    try:
        result = shell.run_cell(source.code, store_history=False, silent=False)
    finally:
        del shell.showtraceback, shell.showsyntaxerror
    error = result.error_before_exec or result.error_in_exec
    if error is not None:
        lines = traceback.format_exception(type(error), error, error.__traceback__)
        user = [ln for ln in lines if "kfjupyter/runner" not in ln and "IPython/core" not in ln]
        summary = f"{type(error).__name__}: {error}"
        raise CellError(
            source.cell,
            f"{source.origin or f'cell {source.cell}'} of step '{step}' raised {summary}\n"
            + _named_cells("".join(user)),
        )


def _save_figures(step_dir: Path) -> list[str]:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return []
    saved = []
    for number in plt.get_fignums():
        path = step_dir / f"figure-{number}.png"
        plt.figure(number).savefig(path, format="png")
        saved.append(str(path))
    return saved


def _save(name: str, value: Any, job: StepJob) -> Any:
    """Save one output: in the RAM-backed scratch folder when there is one and room, else on disk."""
    from kfjupyter.serializers import save_value

    disk = Path(job.step_dir) / "outputs"
    if job.scratch_dir is not None:
        scratch = Path(job.scratch_dir)
        try:
            scratch.mkdir(parents=True, exist_ok=True)
            return save_value(name, value, scratch, job.step)
        except OSError as error:
            if error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS):
                raise
    try:
        disk.mkdir(parents=True, exist_ok=True)
        return save_value(name, value, disk, job.step)
    except OSError as error:  # a full disk: the step fails saying so, naming where
        from kfjupyter.errors import StepFailed
        from kfjupyter.runner.stepfiles import os_error_message

        where = os_error_message(error, disk)
        raise StepFailed(f"step '{job.step}' could not save '{name}' ({where})") from None


def run_job(job: StepJob, shell: Any) -> StepResult:
    """Run ``job`` in ``shell`` and return its result (never raises for user errors)."""
    from kfjupyter.serializers import load_value

    step_dir = Path(job.step_dir)
    namespace = shell.user_ns
    namespace.update(job.parameters)
    recorder = ReadRecorder(job.private_dirs) if job.track_reads else None
    try:
        if recorder is not None:
            recorder.start()
        for source in job.setup:
            _run_source(shell, source, step=job.step)
        # After set-up: an input may be a set-up object that an earlier step changed.
        guard = InputGuard(job.step, job.unchanged)
        for name, ref in job.inputs.items():
            namespace[name] = load_value(Path(ref.path), ref.serializer or None)
        relink(namespace, job.relink)
        for name in job.inputs:
            guard.watch(name, namespace[name])
        for source in job.code:
            _run_source(shell, source, step=job.step)
        changed = guard.problem()
        if changed is not None:
            raise CellError(job.code[-1].cell if job.code else -1, changed)
        reads = recorder.finish() if recorder is not None else None
        if job.kind == "metrics":
            from kfjupyter.context import log_metric

            for name in job.metrics or list(job.inputs):
                value = namespace.get(name)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    log_metric(name, value)
        outputs = []
        for name in job.outputs:
            if name not in namespace:
                raise CellError(
                    job.code[-1].cell if job.code else -1,
                    f"step '{job.step}' should define '{name}' for later steps, but it did not "
                    "(was the assignment inside an if-branch that did not run?)",
                )
            saved = _save(name, namespace[name], job)
            outputs.append(
                SavedOutput(
                    name=name,
                    path=str(saved.path),
                    serializer=saved.serializer,
                    size=saved.size,
                    sha256=saved.sha256,
                    preview=dict(saved.preview),
                )
            )
        return StepResult(ok=True, outputs=outputs, figures=_save_figures(step_dir), reads=reads)
    except CellError as error:
        return StepResult(ok=False, error=str(error), error_cell=error.cell)
    except KfJupyterError as error:
        return StepResult(ok=False, error=error.message)


def child_main(job_path: Path, shell: Any) -> int:
    """Entry point of a forked step process; returns its exit status."""
    job = StepJob.from_json(job_path.read_text())
    # Lives until the process exits: it is the step's stdout and stderr.
    log = Path(job.log_path).open("a", buffering=1, encoding="utf-8")  # noqa: SIM115
    fd = log.fileno()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.stdout = TimestampedStream(log, "stdout")
    sys.stderr = TimestampedStream(log, "stderr")
    os.environ["KFJUPYTER_STEP_DIR"] = job.step_dir
    os.environ["KFJUPYTER_RUN_ID"] = job.run_id
    os.environ["KFJUPYTER_STEP"] = job.step
    os.chdir(job.workdir)
    result = run_job(job, shell)
    if not result.ok and result.error:
        sys.stderr.write(result.error.rstrip() + "\n")
    (Path(job.step_dir) / RESULT_FILE).write_text(result.to_json())
    sys.stdout.flush()
    sys.stderr.flush()
    return 0 if result.ok else 1
