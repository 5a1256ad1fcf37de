"""ipywidgets for runs: a live run view and a runs table, updated without blocking the kernel.

:class:`RunWidget` shows a run's status, its steps and the tail of the selected step's log. A
daemon thread reads the run store (which the runner writes from another thread or process) every
half second and updates the widget until the run ends; the kernel stays free for other cells.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

import ipywidgets as widgets

from kfjupyter.store import RunStore, open_store

ACTIVE = {"pending", "running"}
COLOURS = {
    "succeeded": "var(--jp-success-color1, #388e3c)",
    "cached": "var(--jp-info-color1, #0288d1)",
    "running": "var(--jp-brand-color1, #1976d2)",
    "failed": "var(--jp-error-color1, #d32f2f)",
    "upstream_failed": "var(--jp-warn-color1, #f57c00)",
    "cancelled": "var(--jp-layout-color3, #757575)",
    "interrupted": "var(--jp-warn-color1, #f57c00)",
}


def _badge(status: str) -> str:
    colour = COLOURS.get(status, "var(--jp-layout-color3, #9e9e9e)")
    return (
        f'<span class="kfjupyter-badge" data-status="{html.escape(status)}" style="background:{colour};'
        f'color:white;border-radius:8px;padding:0 6px;font-size:85%">{html.escape(status)}</span>'
    )


class RunWidget:
    """Live view of one run; display it in a cell (it renders as an ipywidgets box)."""

    def __init__(self, run_id: str, *, poll_s: float = 0.5, log_lines: int = 20) -> None:
        self.run_id = run_id
        self.poll_s = poll_s
        self.log_lines = log_lines
        self.header = widgets.HTML()
        self.steps = widgets.HTML()
        self.log = widgets.HTML()
        self.box = widgets.VBox([self.header, self.steps, self.log])
        self.box.add_class("kfjupyter-run-widget")
        self._thread: threading.Thread | None = None
        self._failure: str | None = None

    def fail(self, message: str) -> None:
        """Show that the run could not start (e.g. lint errors) and stop following."""
        self._failure = message
        self.header.value = f"<b>kfjupyter:</b> {html.escape(message)} {_badge('failed')}"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs)

    def refresh(self, store: RunStore) -> bool:
        """Render the run from ``store``; return whether it is still active."""
        if self._failure is not None:
            return False
        try:
            run = store.get_run(self.run_id)
        except Exception:  # not created yet: the runner is still compiling
            self.header.value = f"<b>run {html.escape(self.run_id)}</b> {_badge('pending')}"
            return True
        self.header.value = (
            f"<b>{html.escape(run.name)}</b> run {html.escape(run.id)} {_badge(run.status)}"
            + (
                f"<div style='color:var(--jp-error-color1)'>{html.escape(run.error)}</div>"
                if run.error
                else ""
            )
        )
        steps = store.get_steps(self.run_id)
        rows = "".join(
            f"<tr><td>{html.escape(s.name)}</td><td>{_badge(s.status)}</td>"
            f"<td>{'cached' if s.cached else ''}</td>"
            f"<td>{html.escape(s.error or '')}</td></tr>"
            for s in steps
        )
        self.steps.value = f"<table class='kfjupyter-steps'>{rows}</table>"
        shown = next((s for s in steps if s.status == "running"), steps[-1] if steps else None)
        if shown is not None:
            tail = store.tail_log(self.run_id, shown.name, lines=self.log_lines).text
            self.log.value = f"<div>log of {html.escape(shown.name)}</div><pre class='kfjupyter-log'>{html.escape(tail)}</pre>"
        return run.status in ACTIVE

    def follow(self) -> None:
        """Update in a background thread until the run ends."""

        def loop() -> None:
            with open_store() as store:
                while self.refresh(store):
                    time.sleep(self.poll_s)

        self._thread = threading.Thread(target=loop, name=f"kfjupyter-run-{self.run_id}", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the widget's thread has seen the run end."""
        if self._thread is not None:
            self._thread.join(timeout)


def runs_table(limit: int = 20) -> widgets.HTML:
    """A table of the most recent runs."""
    with open_store() as store:
        runs = store.list_runs(limit=limit)
    rows = "".join(
        f"<tr><td>{html.escape(r.id)}</td><td>{html.escape(r.name)}</td><td>{_badge(r.status)}</td>"
        f"<td>{html.escape(r.backend)}</td></tr>"
        for r in runs
    )
    return widgets.HTML(
        f"<table class='kfjupyter-runs'><tr><th>run</th><th>name</th><th>status</th><th>backend</th></tr>{rows}</table>"
    )
