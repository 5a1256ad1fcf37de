"""What user code inside a step can call: ``kfjupyter.log_metric``.

Inside a pipeline step (local or on a cluster) metrics go to the step's ``metrics.jsonl``; the
runner moves them into the run store with their whole history. Outside a run (plain interactive
use) they are kept in memory so the same notebook runs unchanged in both places.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

from kfjupyter.errors import InvalidInput

METRICS_FILE = "metrics.jsonl"
_interactive: list[dict[str, object]] = []
_counters: dict[str, int] = {}


def log_metric(name: str, value: float, step: int | None = None) -> None:
    """Record ``value`` for metric ``name``; ``step`` is the x-axis (defaults to a counter)."""
    if not isinstance(name, str) or not name:
        raise InvalidInput("log_metric: the metric name must be a non-empty string")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"log_metric({name!r}, ...): the value must be a number, got {type(value).__name__}"
            ) from None
    if not math.isfinite(float(value)):
        raise InvalidInput(f"log_metric({name!r}, ...): the value must be finite, got {value}")
    index = step if step is not None else _counters.get(name, 0)
    _counters[name] = index + 1
    record = {"name": name, "value": float(value), "index": int(index), "ts": time.time()}
    step_dir = os.environ.get("KFJUPYTER_STEP_DIR")
    if step_dir is None:
        _interactive.append(record)
        return
    with (Path(step_dir) / METRICS_FILE).open("a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def read_metrics(step_dir: Path) -> list[dict[str, object]]:
    """Metrics a step process recorded, in order."""
    path = step_dir / METRICS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def interactive_metrics() -> list[dict[str, object]]:
    """Metrics recorded outside any run (a copy)."""
    return list(_interactive)
