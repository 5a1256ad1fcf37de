"""Metric lines on stdout, Katib style: ``loss=0.25`` or ``epoch=3 loss=0.25 acc=0.91``.

A line counts as metrics only when it is nothing but ``name=number`` pairs (separated by spaces,
commas or semicolons), so ordinary log text with an ``=`` in it is never mistaken for a metric.
Numbers are Python float literals (``1e-3``, ``-0.5``, ``nan``). Names follow Katib's filter:
letters, digits, ``_``, ``-``, ``.`` and ``/``.
"""

from __future__ import annotations

import re

_NUMBER = r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|nan|inf|infinity)"
_PAIR = re.compile(rf"([A-Za-z_][\w./-]*)\s*=\s*({_NUMBER})(?![\w.])", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,;]*")


def parse_metric_line(line: str) -> list[tuple[str, float]]:
    """Return the ``(name, value)`` pairs of a metrics line, or ``[]`` if it is not one."""
    text = line.strip()
    if "=" not in text:
        return []
    pairs: list[tuple[str, float]] = []
    pos = 0
    while pos < len(text):
        gap = _SEPARATORS.match(text, pos)
        pos = gap.end() if gap else pos
        if pos >= len(text):
            break
        match = _PAIR.match(text, pos)
        if match is None:
            return []
        pairs.append((match.group(1), float(match.group(2))))
        pos = match.end()
    return pairs


class MetricCounter:
    """Gives each value of a metric the next index of its series (per rank and name)."""

    def __init__(self) -> None:
        self._next: dict[tuple[int, str], int] = {}

    def index(self, rank: int, name: str, explicit: int | None = None) -> int:
        """Return the index for the next value; an explicit index also moves the counter on."""
        value = self._next.get((rank, name), 0) if explicit is None else explicit
        self._next[(rank, name)] = value + 1
        return value
