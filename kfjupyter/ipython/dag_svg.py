"""A run's step graph as inline SVG: steps as boxes coloured by status, edges from their upstream.

Steps are laid out in columns left to right: a step's column is one more than the deepest of its
upstream steps (``StepRecord.upstream``), so independent steps share a column. Upstream names
that are not steps of the run are ignored, and a cycle (which a stored run never has) cannot loop
the layout. Pure: a list of step records in, one ``<svg>`` string out.
"""

from __future__ import annotations

from collections.abc import Sequence

from kfjupyter.ipython.svg import AXIS, BACKGROUND, FONT, TEXT, esc, shorten, status_colour
from kfjupyter.store import StepRecord

NODE_W, NODE_H = 132, 28
GAP_X, GAP_Y, PAD = 36, 10, 6
NAME_CHARS = 17


def columns(steps: Sequence[StepRecord]) -> dict[str, int]:
    """The column of each step: 0 without (known) upstream steps, else one past the deepest one."""
    known = {s.name: s for s in steps}
    column: dict[str, int] = {}

    def place(name: str, seen: frozenset[str]) -> int:
        if name not in column:
            ups = [u for u in known[name].upstream if u in known and u not in seen]
            column[name] = 1 + max((place(u, seen | {name}) for u in ups), default=-1)
        return column[name]

    for step in steps:
        place(step.name, frozenset())
    return column


def dag_svg(steps: Sequence[StepRecord]) -> str:
    """The step graph as one ``<svg>`` element (empty string when there are no steps)."""
    if not steps:
        return ""
    column = columns(steps)
    rows: dict[int, int] = {}
    at: dict[str, tuple[float, float]] = {}
    for step in steps:  # stored order keeps rows stable from one refresh to the next
        c = column[step.name]
        r = rows.get(c, 0)
        rows[c] = r + 1
        at[step.name] = (PAD + c * (NODE_W + GAP_X), PAD + r * (NODE_H + GAP_Y))
    width = PAD * 2 + (max(column.values()) + 1) * (NODE_W + GAP_X) - GAP_X
    height = PAD * 2 + max(rows.values()) * (NODE_H + GAP_Y) - GAP_Y
    out = [
        f'<svg class="kfjupyter-dag" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="step graph" '
        f'style="{FONT};max-width:100%;height:auto">'
    ]
    for step in steps:
        x2, y2 = at[step.name]
        for up in step.upstream:
            if up not in at or up == step.name:
                continue
            x1, y1 = at[up]
            x1, y1, y2c = x1 + NODE_W, y1 + NODE_H / 2, y2 + NODE_H / 2
            bend = GAP_X / 2
            out.append(
                f'<path class="kfjupyter-dag-edge" data-from="{esc(up)}" data-to="{esc(step.name)}" '
                f'd="M{x1:.1f} {y1:.1f} C{x1 + bend:.1f} {y1:.1f} {x2 - bend:.1f} {y2c:.1f} {x2:.1f} {y2c:.1f}" '
                f'style="fill:none;stroke:{AXIS};stroke-width:1.5"/>'
            )
    for step in steps:
        out.append(_node(step, *at[step.name]))
    out.append("</svg>")
    return "".join(out)


def _node(step: StepRecord, x: float, y: float) -> str:
    colour = status_colour(step.status)
    status = "cached" if step.cached and step.status == "succeeded" else step.status
    dash = ";stroke-dasharray:4 3" if step.status in ("pending", "ready") else ""
    return (
        f'<g class="kfjupyter-dag-node" data-step="{esc(step.name)}" data-status="{esc(step.status)}">'
        f"<title>{esc(step.name)}: {esc(status)}</title>"
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="6" '
        f'style="fill:{BACKGROUND};stroke:{colour};stroke-width:2{dash}"/>'
        f'<circle cx="{x + 12:.1f}" cy="{y + NODE_H / 2:.1f}" r="5" style="fill:{colour}"/>'
        f'<text x="{x + 23:.1f}" y="{y + NODE_H / 2 + 4:.1f}" style="fill:{TEXT}">'
        f"{esc(shorten(step.name, NAME_CHARS))}</text></g>"
    )
