"""The live runs table widget: recent runs newest first, filtered by kind and status.

:class:`RunsTable` shows one row per run with its id as selectable text (to paste into
``%kf logs RUN`` or ``%kf metrics RUN``), name, kind, backend, status, start time and duration.
Two Dropdowns filter by kind and status; an "open" Dropdown shows a live
:class:`~kfjupyter.ipython.widgets.RunWidget` for one of the rows below the table. While any shown
run is active a daemon thread re-reads the store every second; a filter change or the Refresh
button reads it again at once. Outside a notebook (plain IPython) it prints as a text table.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

import ipywidgets as widgets

from kfjupyter.errors import KfJupyterError
from kfjupyter.ipython.live import Follower, LiveView
from kfjupyter.ipython.svg import badge, esc
from kfjupyter.ipython.widgets import RunWidget
from kfjupyter.store import RunKind, RunRecord, RunStatus, RunStore, default_home, open_store
from kfjupyter.store.models import ACTIVE_RUN_STATUSES

ALL = "all"
KINDS: tuple[str, ...] = (ALL, *get_args(RunKind))
STATUSES: tuple[str, ...] = (ALL, *get_args(RunStatus))
_CELL = "padding:2px 12px 2px 0;text-align:left;white-space:nowrap"
_NARROW = {"description_width": "initial"}


def duration(run: RunRecord, now: float) -> str:
    """``4.2s``, ``35s``, ``3m 05s``, ``2h 10m``; growing while the run is active, ``-`` before it starts."""
    if run.started_at is None:
        return "-"
    seconds = max(0.0, (run.finished_at or now) - run.started_at)
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes}m {whole % 60:02d}s"
    return f"{minutes // 60}h {minutes % 60:02d}m"


def runs_html(runs: Sequence[RunRecord], *, now: float, filtered: bool = False) -> str:
    """The table of ``runs`` (already newest first) as HTML."""
    if not runs:
        text = "No runs match these filters." if filtered else "No runs yet: start one with %kf run."
        return f"<div class='kfjupyter-runs-empty' style='color:var(--jp-ui-font-color2)'>{text}</div>"
    head = "".join(
        f"<th style='{_CELL};border-bottom:1px solid var(--jp-border-color2)'>{h}</th>"
        for h in ("run id", "name", "kind", "backend", "status", "started", "duration")
    )
    rows = "".join(
        f"<tr class='kfjupyter-run-row' data-run-id='{esc(r.id)}' data-status='{esc(r.status)}' "
        f"data-kind='{esc(r.kind)}'>"
        f"<td style='{_CELL}'><code class='kfjupyter-run-id' style='user-select:all'>{esc(r.id)}</code></td>"
        f"<td style='{_CELL}'>{esc(r.name)}</td><td style='{_CELL}'>{esc(r.kind)}</td>"
        f"<td style='{_CELL}'>{esc(r.backend)}</td><td style='{_CELL}'>{badge(r.status)}</td>"
        f"<td style='{_CELL}'>{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(r.created_at))}</td>"
        f"<td style='{_CELL}'>{duration(r, now)}</td></tr>"
        for r in runs
    )
    return (
        f"<table class='kfjupyter-runs' style='border-collapse:collapse;line-height:1.8'>"
        f"<tr>{head}</tr>{rows}</table>"
    )


def runs_text(runs: Sequence[RunRecord]) -> str:
    """The table as plain text (what a terminal shows)."""
    return "\n".join(f"{r.id:<20} {r.status:<12} {r.backend:<6} {r.name}" for r in runs) or "no runs"


class RunsTable(LiveView):
    """Live table of recent runs; display it in a cell."""

    def __init__(
        self,
        *,
        limit: int = 20,
        kind: str = ALL,
        status: str = ALL,
        poll_s: float = 1.0,
        home: Path | None = None,
    ) -> None:
        self.limit = limit
        self.home = home or default_home()
        self.runs: list[RunRecord] = []
        self.kind = widgets.Dropdown(description="kind", options=KINDS, value=kind, style=_NARROW)
        self.status = widgets.Dropdown(description="status", options=STATUSES, value=status, style=_NARROW)
        for picker in (self.kind, self.status):
            picker.layout.width = "180px"
            picker.observe(self._filter_changed, names="value")
        self.refresh_button = widgets.Button(
            description="Refresh", icon="refresh", tooltip="Read the runs again"
        )
        self.refresh_button.layout.width = "100px"
        self.refresh_button.on_click(lambda _button: self._reload_shown())
        self.note = widgets.HTML()
        self.table = widgets.HTML()
        self.opener = widgets.Dropdown(description="open run", options=[("—", "")], value="", style=_NARROW)
        self.opener.layout.width = "420px"
        self.opener.observe(self._open_changed, names="value")
        self.detail = widgets.VBox([])
        self.box = widgets.VBox(
            [
                widgets.HBox([self.kind, self.status, self.refresh_button, self.note]),
                self.table,
                self.opener,
                self.detail,
            ]
        )
        self.box.add_class("kfjupyter-runs-table")
        self.opened: RunWidget | None = None
        self._lock = threading.RLock()
        self._updating = False
        self._follower = Follower(
            "kfjupyter-runs-table",
            self.refresh,
            home=self.home,
            poll_s=poll_s,
            on_error=lambda error: setattr(self.note, "value", esc(error.message)),
        )

    def __str__(self) -> str:
        return runs_text(self.runs)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs) | {"text/plain": str(self)}

    def refresh(self, store: RunStore) -> bool:
        """Read the runs from ``store`` and redraw; return whether any shown run is active."""
        kind, status = self.kind.value, self.status.value
        runs = store.list_runs(
            kind=None if kind == ALL else kind,
            status=None if status == ALL else status,
            limit=self.limit,
        )
        active = any(r.status in ACTIVE_RUN_STATUSES for r in runs)
        with self._lock:
            self.runs = runs
            self.table.value = runs_html(runs, now=time.time(), filtered=(kind, status) != (ALL, ALL))
            self.note.value = (
                f"<span style='color:var(--jp-ui-font-color2)'>{len(runs)} run{'s' if len(runs) != 1 else ''}"
                f"{' · updating' if active else ''}</span>"
            )
            self._set_openable(runs)
        return active

    def reload(self) -> None:
        """Read the store now (in the calling thread); keep following while a shown run is active."""
        with open_store(self.home) as store:
            active = self.refresh(store)
        if active:
            self.follow()

    def stop(self) -> None:
        """Stop redrawing (and stop the opened run's widget)."""
        self._follower.stop()
        if self.opened is not None:
            self.opened.stop()

    def _filter_changed(self, change: Any) -> None:
        self._reload_shown()

    def _reload_shown(self) -> None:
        """Reload for a click or a filter change: a store error goes into the note, not a traceback."""
        try:
            self.reload()
        except KfJupyterError as error:
            self.note.value = esc(error.message)

    def _set_openable(self, runs: list[RunRecord]) -> None:
        current = self.opener.value
        options = [("—", ""), *((f"{r.id} · {r.name}", r.id) for r in runs)]
        if current and all(v != current for _, v in options):  # the open run stays offered
            options.append((current, current))
        if list(self.opener.options) == options:
            return
        self._updating = True
        try:
            self.opener.options = options
            self.opener.value = current
        finally:
            self._updating = False

    def _open_changed(self, change: Any) -> None:
        if self._updating:
            return
        self.open(str(change["new"] or ""))

    def open(self, run_id: str) -> RunWidget | None:
        """Show the live widget of ``run_id`` under the table (``""`` closes it)."""
        with self._lock:
            if self.opened is not None:
                self.opened.stop()
                self.opened = None
            if not run_id:
                self.detail.children = []
                return None
            widget = RunWidget(run_id, home=self.home)
            with open_store(self.home) as store:
                active = widget.refresh(store)
            self.opened = widget
            self.detail.children = [widget.box]
        if active:
            widget.follow()
        return widget
