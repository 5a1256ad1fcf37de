"""The pure builders behind the notebook widgets: step graph (SVG), runs table, numbers."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from kfjupyter.ipython.dag_svg import columns, dag_svg
from kfjupyter.ipython.runs_table import duration, runs_html, runs_text
from kfjupyter.ipython.svg import fmt
from kfjupyter.store import RunRecord, StepRecord

SVG = "{http://www.w3.org/2000/svg}"
RUN = "260101-000000-abcd"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element, cls: str) -> list[str]:
    return [e.text or "" for e in root.iter() if e.get("class") == cls]


def test_fmt_keeps_numbers_short() -> None:
    assert [fmt(v) for v in (0.25, 1.0, 1200.0, 1.5e-05, 0.123456, math.nan)] == [
        "0.25",
        "1",
        "1200",
        "1.5e-05",
        "0.1235",
        "nan",
    ]


def step(
    name: str, status: str = "pending", upstream: tuple[str, ...] = (), cached: bool = False
) -> StepRecord:
    return StepRecord(run_id=RUN, name=name, status=status, upstream=list(upstream), cached=cached)


def test_dag_columns_follow_the_longest_upstream_path() -> None:
    steps = [
        step("load"),
        step("train", upstream=("load",)),
        step("plot", upstream=("load",)),
        step("report", upstream=("train", "plot", "elsewhere")),
        step("alone"),
    ]
    assert columns(steps) == {"load": 0, "train": 1, "plot": 1, "report": 2, "alone": 0}
    cyclic = [step("a", upstream=("b",)), step("b", upstream=("a",))]
    assert set(columns(cyclic)) == {"a", "b"}  # no endless recursion


def test_dag_svg_colours_nodes_by_status_and_draws_the_edges() -> None:
    steps = [
        step("load", "succeeded", cached=True),
        step("train", "running", ("load",)),
        step("plot", "failed", ("load",)),
        step("report", "upstream_failed", ("train", "plot")),
    ]
    root = parse(dag_svg(steps))
    nodes = {e.get("data-step"): e for e in root.iter(f"{SVG}g") if e.get("class") == "kfjupyter-dag-node"}
    assert list(nodes) == ["load", "train", "plot", "report"]
    assert {k: v.get("data-status") for k, v in nodes.items()} == {
        "load": "succeeded",
        "train": "running",
        "plot": "failed",
        "report": "upstream_failed",
    }

    def rect(name: str) -> ET.Element:
        found = nodes[name].find(f"{SVG}rect")
        assert found is not None
        return found

    assert "--jp-success-color1" in (rect("load").get("style") or "")
    assert "--jp-error-color1" in (rect("plot").get("style") or "")
    assert (
        float(rect("load").get("x") or 0)
        < float(rect("train").get("x") or 0)
        == float(rect("plot").get("x") or 0)
    )
    assert (nodes["load"].findtext(f"{SVG}title") or "") == "load: cached"
    edges = [(e.get("data-from"), e.get("data-to")) for e in root.iter(f"{SVG}path")]
    assert edges == [("load", "train"), ("load", "plot"), ("train", "report"), ("plot", "report")]
    assert dag_svg([]) == ""


def test_dag_svg_shortens_long_names_but_keeps_them_in_the_tooltip() -> None:
    name = "a_really_long_step_name_indeed"
    root = parse(dag_svg([step(name)]))
    node = next(e for e in root.iter(f"{SVG}g"))
    assert (node.findtext(f"{SVG}text") or "").endswith("…")
    assert (node.findtext(f"{SVG}title") or "").startswith(name)


def run(run_id: str, status: str = "succeeded", kind: str = "pipeline", **fields: float) -> RunRecord:
    return RunRecord(id=run_id, kind=kind, name=f"nb {run_id[-1]}", backend="local", status=status, **fields)


def test_runs_html_lists_ids_as_selectable_text_with_status_badges() -> None:
    runs = [
        run("260101-000002-bbbb", "running", started_at=100.0),
        run("260101-000001-aaaa", "failed", "training", started_at=10.0, finished_at=205.0),
    ]
    page = runs_html(runs, now=104.25)
    assert page.index("000002-bbbb") < page.index("000001-aaaa")
    assert page.count("class='kfjupyter-run-id' style='user-select:all'") == 2
    assert 'data-status="running"' in page and 'data-status="failed"' in page
    assert "4.2s" in page and "3m 15s" in page
    assert runs_text(runs).splitlines()[0].split() == ["260101-000002-bbbb", "running", "local", "nb", "b"]
    assert "No runs match" in runs_html([], now=0, filtered=True)
    assert "%kf run" in runs_html([], now=0)


def test_duration_formats() -> None:
    assert duration(run("260101-000001-aaaa", "pending"), now=5) == "-"
    assert duration(run("260101-000001-aaaa", started_at=0.0, finished_at=7200.0 + 600), now=0) == "2h 10m"
    assert duration(run("260101-000001-aaaa", "running", started_at=0.0), now=42) == "42s"
