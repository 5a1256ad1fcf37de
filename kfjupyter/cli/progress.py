"""Live progress of a local run on a terminal: one line per step event, then a summary."""

from __future__ import annotations

import time
from typing import Any, TextIO

_MARKS = {
    "running": "▶",
    "succeeded": "✔",
    "cached": "↺",
    "failed": "✘",
    "retrying": "↻",
    "upstream_failed": "⊘",
    "cancelled": "■",
}


class Progress:
    """Prints step events as they happen, with the time since the run started."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._start = time.monotonic()

    def on_event(self, step: str, status: str, detail: str) -> None:
        """Print one event."""
        elapsed = time.monotonic() - self._start
        mark = _MARKS.get(status, "·")
        tail = f"  {detail}" if detail else ""
        self._stream.write(f"[{elapsed:7.2f}s] {mark} {step}: {status}{tail}\n")
        self._stream.flush()

    def summary(self, run: dict[str, Any]) -> None:
        """Print the final status, per-step durations and the metrics."""
        self._stream.write(f"run {run['run_id']}: {run['status']}\n")
        for step in run["steps"]:
            note = " (cached)" if step["cached"] else ""
            self._stream.write(
                f"  {step['name']:<24} {step['status']:<16} {step['duration_s']:7.2f}s{note}\n"
            )
            if step["error"]:
                self._stream.write(f"      {step['error']}\n")
        for name, value in run["metrics"].items():
            self._stream.write(f"  metric {name} = {value:g}\n")
        self._stream.flush()
