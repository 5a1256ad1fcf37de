"""The live run widget: a run's status, its step graph, its steps and the tail of a step's log.

:class:`RunWidget` reads the run store (which the runner writes from another thread or process)
every half second from a daemon thread (:class:`~kfjupyter.ipython.live.Follower`) and updates
until the run ends; the kernel stays free for other cells. The runs table and the metrics chart
live in :mod:`kfjupyter.ipython.runs_table` and :mod:`kfjupyter.ipython.charts`.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from kfjupyter.errors import KfJupyterError, NotFound
from kfjupyter.ipython.dag_svg import dag_svg
from kfjupyter.ipython.live import Follower, LiveView
from kfjupyter.ipython.svg import badge, esc
from kfjupyter.store import RunStore, StepRecord, default_home
from kfjupyter.store.models import ACTIVE_RUN_STATUSES

ACTIVE = set(ACTIVE_RUN_STATUSES)
#: How long a run may take to appear in the store (its notebook is compiled first).
NOT_FOUND_GRACE_S = 120.0


def _steps_table(steps: list[StepRecord]) -> str:
    cell = "padding:1px 12px 1px 0;text-align:left"
    rows = "".join(
        f'<tr class="kfjupyter-step" data-step="{esc(s.name)}"><td style="{cell}">{esc(s.name)}</td>'
        f'<td style="{cell}">{badge(s.status)}</td><td style="{cell}">{"cached" if s.cached else ""}</td>'
        f'<td style="{cell};color:var(--jp-error-color1)">{esc(s.error or "")}</td></tr>'
        for s in steps
    )
    return f"<table class='kfjupyter-steps' style='line-height:1.6;border-collapse:collapse'>{rows}</table>"


def _log_html(step: str, tail: str) -> str:
    return (
        f"<div style='line-height:1.6;color:var(--jp-ui-font-color2)'>log of {esc(step)}</div>"
        "<pre class='kfjupyter-log' style='max-height:16em;overflow:auto;margin:0;padding:4px 8px;"
        "line-height:1.35;background:var(--jp-layout-color2);border-radius:4px;white-space:pre-wrap'>"
        f"{esc(tail) or '&nbsp;'}</pre>"
    )


class RunWidget(LiveView):
    """Live view of one run; display it in a cell (it renders as an ipywidgets box)."""

    def __init__(
        self, run_id: str, *, poll_s: float = 0.5, log_lines: int = 20, home: Path | None = None
    ) -> None:
        self.run_id = run_id
        self.log_lines = log_lines
        self.status = "pending"
        self.header = widgets.HTML()
        self.dag = widgets.HTML()
        self.steps = widgets.HTML()
        self.log = widgets.HTML()
        self.box = widgets.VBox([self.header, self.dag, self.steps, self.log])
        self.box.add_class("kfjupyter-run-widget")
        self._failure: str | None = None
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._follower = Follower(
            f"kfjupyter-run-{run_id}",
            self.refresh,
            home=home or default_home(),
            poll_s=poll_s,
            on_error=self._lost,
        )
        self.header.value = f"<b>run {esc(run_id)}</b> {badge('pending')}"

    def fail(self, message: str) -> None:
        """Show that the run could not start (e.g. lint errors) and stop following."""
        with self._lock:
            self._failure = message
            self.status = "failed"
            self.header.value = f"<b>kfjupyter:</b> {esc(message)} {badge('failed')}"
        self._follower.stop()

    def _lost(self, error: KfJupyterError) -> None:
        """The store could not be read: say so under the last state shown (the run may go on)."""
        self.header.value += (
            f"<div style='color:var(--jp-warn-color1)'>stopped updating: {esc(error.message)}</div>"
        )

    def __str__(self) -> str:
        return f"run {self.run_id}: {self.status}"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs) | {"text/plain": str(self)}

    def refresh(self, store: RunStore) -> bool:
        """Render the run from ``store``; return whether it is still active."""
        with self._lock:
            if self._failure is not None:
                return False
            try:
                run = store.get_run(self.run_id)
            except NotFound:  # not created yet: the runner is still compiling
                if time.monotonic() - self._started < NOT_FOUND_GRACE_S:
                    return True
                self.header.value = f"<b>run {esc(self.run_id)}</b>: no such run {badge('failed')}"
                return False
            self.status = run.status
            error = f"<div style='color:var(--jp-error-color1)'>{esc(run.error)}</div>" if run.error else ""
            self.header.value = (
                f"<b>{esc(run.name)}</b> run <code class='kfjupyter-run-id'>{esc(run.id)}</code> "
                f"{badge(run.status)}{error}"
            )
            steps = store.get_steps(self.run_id)
            self.dag.value = dag_svg(steps)
            self.steps.value = _steps_table(steps)
            shown = next(
                (s for status in ("running", "failed") for s in steps if s.status == status),
                steps[-1] if steps else None,
            )
            if shown is not None:
                tail = store.tail_log(self.run_id, shown.name, lines=self.log_lines).text
                self.log.value = _log_html(shown.name, tail)
            return run.status in ACTIVE
