"""Generated notebooks of assignments, in-place changes and aliases across steps (for property tests).

A *program* is a list of steps over three lists ``<p>a``, ``<p>b``, ``<p>c`` and a list ``<p>g``
holding ``<p>a`` and ``<p>b`` themselves: the first step makes them, each middle step holds one to three statements drawn from a small grammar (in-place changes
direct, through aliases, loops and the notebook's own functions; rebinding; copies; reads whose
value is kept), and the last step prints every variable as JSON. Several programs with distinct
prefixes go into one notebook, so one pipeline run checks many of them.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

from hypothesis import strategies as st

FUNCTIONS = (
    "def push(target, value):\n"
    "    target.append(value)\n"
    "\n"
    "def push_all(targets, value):\n"
    "    for t in targets:\n"
    "        push(t, value)\n"
)
KINDS = (
    "append", "augadd", "setitem", "extend", "sort", "alias", "loop", "call", "call_all",
    "rebind", "copy", "fresh", "read", "nested", "keyword_call", "via_group", "group_item",
)  # fmt: skip

Statement = tuple[str, str, str, int]
Program = list[list[Statement]]


@st.composite
def programs(draw: Any) -> Program:
    """One program: middle steps of one to three statements."""
    names = st.sampled_from("abc")
    statement = st.tuples(st.sampled_from(KINDS), names, names, st.integers(1, 9))
    return draw(st.lists(st.lists(statement, min_size=1, max_size=3), min_size=1, max_size=4))


def _render(kind: str, v: str, w: str, i: int, p: str, read: str) -> str:
    v, w = p + v, p + w
    return {
        "append": f"{v}.append({i})",
        "augadd": f"{v} += [{i}]",
        "setitem": f"{v}[0] = {v}[0] + {i}",
        "extend": f"{v}.extend([{i}, {i}])",
        "sort": f"{v}.sort(reverse=True)",
        "alias": f"{p}y = {v}\n{p}y.append({i})",
        "loop": f"for {p}d in [{v}, {w}]:\n    {p}d.append({i})",
        "call": f"push({v}, {i})",
        "call_all": f"push_all([{v}, {w}], {i})",
        "keyword_call": f"push(value={i}, target={v})",
        "rebind": f"{v} = {w} + [{i}]",
        "copy": f"{v} = list({w})",
        "fresh": f"{v} = [{i}]",
        "read": f"{read} = sum({v}) * 10 + len({w})",
        "nested": f"{p}box = {{'k': {v}}}\n{p}box['k'].append({i})",
        "via_group": f"for {p}d in {p}g:\n    {p}d.append({i})",
        "group_item": f"{p}g[{i % 2}].append({i})",
    }[kind]


def notebook_cells(progs: list[Program]) -> list[tuple[str, str]]:
    """(source, tag) of every code cell: the functions cell, then each program's steps."""
    cells = [("import json", "imports"), (FUNCTIONS, "functions")]
    for n, program in enumerate(progs):
        p = f"p{n}_"
        reads: list[str] = []
        cells.append((f"{p}a = [0]\n{p}b = [0]\n{p}c = [0]\n{p}g = [{p}a, {p}b]", f"step:{p}make"))
        for s, statements in enumerate(program):
            lines = []
            for kind, v, w, i in statements:
                read = f"{p}r{len(reads)}"
                if kind == "read":
                    reads.append(read)
                lines.append(_render(kind, v, w, i, p, read))
            cells.append(("\n".join(lines), f"step:{p}s{s}"))
        shown = ", ".join(f"'{x}': {x}" for x in (*(p + v for v in "abcg"), *reads))
        cells.append((f"print('{p}=' + json.dumps({{{shown}}}))", f"step:{p}show"))
    return cells


def top_to_bottom(cells: list[tuple[str, str]]) -> dict[str, Any]:
    """What each program's last step prints when the notebook runs top to bottom in one namespace."""
    namespace: dict[str, Any] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for source, _ in cells:
            exec(compile(source, "<cell>", "exec"), namespace)
    return parse_printed(out.getvalue())


def parse_printed(text: str) -> dict[str, Any]:
    """``{prefix: values}`` from the ``p<n>_={...}`` lines a run printed."""
    found: dict[str, Any] = {}
    for line in text.splitlines():
        head, sep, body = line.partition("=")
        if sep and head.startswith("p") and head.endswith("_") and body.startswith("{"):
            found[head] = json.loads(body)
    return found
