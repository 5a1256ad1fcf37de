"""The pure SVG builders behind the notebook widgets: metric chart, step graph, runs table."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from kfjupyter.ipython.chart_svg import chart_data, chart_svg, metric_names, nice_ticks, thin
from kfjupyter.ipython.dag_svg import columns, dag_svg
from kfjupyter.ipython.runs_table import duration, runs_html, runs_text
from kfjupyter.ipython.svg import fmt
from kfjupyter.store import MetricRecord, RunRecord, StepRecord

SVG = "{http://www.w3.org/2000/svg}"
RUN = "260101-000000-abcd"


def metric(name: str, value: float, index: int, step: str | None = "train", ts: float = 0.0) -> MetricRecord:
    return MetricRecord(run_id=RUN, step=step, name=name, value=value, index=index, ts=ts or float(index))


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element, cls: str) -> list[str]:
    return [e.text or "" for e in root.iter() if e.get("class") == cls]


def path_points(d: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML]([-\d.]+) ([-\d.]+)", d)]


@pytest.mark.parametrize(
    ("low", "high", "integer", "expected"),
    [
        (0.25, 1.0, False, [0.2, 0.4, 0.6, 0.8, 1.0]),
        (0, 4, True, [0, 1, 2, 3, 4]),
        (0, 1000, True, [0, 200, 400, 600, 800, 1000]),
        (0, 0, False, [-1, -0.5, 0, 0.5, 1]),
        (-3e-5, 7e-5, False, [-5e-5, 0, 5e-5, 1e-4]),
        (0, 2, True, [0, 1, 2]),
    ],
)
def test_nice_ticks_are_round_and_cover_the_range(
    low: float, high: float, integer: bool, expected: list[float]
) -> None:
    ticks = nice_ticks(low, high, 6 if integer else 5, integer=integer)
    assert ticks == pytest.approx(expected)
    assert ticks[0] <= low and ticks[-1] >= high


def test_nice_ticks_of_a_flat_or_broken_range() -> None:
    flat = nice_ticks(0.25, 0.25)
    assert flat[0] < 0.25 < flat[-1]
    assert nice_ticks(0, math.inf) == []


def test_fmt_keeps_numbers_short() -> None:
    assert [fmt(v) for v in (0.25, 1.0, 1200.0, 1.5e-05, 0.123456, math.nan)] == [
        "0.25",
        "1",
        "1200",
        "1.5e-05",
        "0.1235",
        "nan",
    ]


def test_chart_data_groups_by_step_and_uses_the_recorded_index() -> None:
    records = [
        metric("loss", 0.5, 2),
        metric("loss", 1.0, 0),
        metric("loss", 0.7, 1),
        metric("acc", 0.9, 0),
        metric("loss", 2.0, 10, step="eval"),
        metric("loss", 1.5, 20, step="eval"),
        metric("loss", 3.0, 0, step=None),
    ]
    chart = chart_data(records, "loss")
    assert chart.x_label == "step" and chart.points == 6
    assert [s.label for s in chart.series] == ["run", "train", "eval"]  # in the order they first logged
    train = chart.series[1]
    assert train.xs == (0, 1, 2) and train.ys == (1.0, 0.7, 0.5) and train.last == (2, 0.5)
    assert chart.series[2].xs == (10, 20)
    assert metric_names(records) == ["acc", "loss"]


def test_chart_data_falls_back_to_logging_order_when_indexes_repeat() -> None:
    records = [
        metric("loss", 0.9, 0, step="rank-0", ts=3),
        metric("loss", 0.8, 0, step="rank-0", ts=1),
        metric("loss", 0.4, 0, step="rank-0", ts=2),
        metric("loss", 0.6, 5, step="rank-1", ts=1),
    ]
    chart = chart_data(records, "loss")
    assert chart.x_label == "value #"
    rank0 = chart.series[0]
    assert rank0.xs == (0, 1, 2) and rank0.ys == (0.8, 0.4, 0.9)
    assert chart.series[1].xs == (0,)


def test_chart_svg_draws_one_line_per_series_with_ticks_and_last_values() -> None:
    records = [metric("loss", v, i) for i, v in enumerate([1.0, 0.6, 0.4, 0.3, 0.25])]
    records += [metric("loss", v, i, step="eval") for i, v in enumerate([0.9, 0.5, 0.35])]
    root = parse(chart_svg(chart_data(records, "loss"), width=560, height=260))
    assert root.tag == f"{SVG}svg" and root.get("data-metric") == "loss"
    assert root.get("aria-label") == "loss: 8 values"
    lines = {
        e.get("data-series"): e.get("d") or ""
        for e in root.iter(f"{SVG}path")
        if e.get("class") == "kfjupyter-chart-line"
    }
    assert set(lines) == {"train", "eval"}
    train = path_points(lines["train"])
    assert len(train) == 5
    # x grows left to right; a lower loss is drawn higher up (smaller y)
    assert [x for x, _ in train] == sorted(x for x, _ in train)
    assert [y for _, y in train] == sorted(y for _, y in train)
    assert texts(root, "kfjupyter-chart-xtick") == ["0", "1", "2", "3", "4"]
    assert texts(root, "kfjupyter-chart-ytick") == ["0.2", "0.4", "0.6", "0.8", "1"]
    last = {e.get("data-series"): e.text for e in root.iter() if e.get("class") == "kfjupyter-chart-last"}
    assert last == {"eval": "0.35", "train": "0.25"}
    assert len([e for e in root.iter(f"{SVG}circle")]) == 8


def test_chart_svg_uses_theme_colours_and_escapes_names() -> None:
    svg = chart_svg(chart_data([metric("<b>&'\"", 1.0, 0, step="<i>")], "<b>&'\""))
    root = parse(svg)
    assert root.get("data-metric") == "<b>&'\""
    assert "<b>" not in svg and "<i>" not in svg
    styles = " ".join(e.get("style") or "" for e in root.iter())
    assert "var(--jp-brand-color1" in styles and "var(--jp-ui-font-color" in styles
    assert not any(e.get("stroke") or e.get("fill") for e in root.iter())  # colours only in style


def test_chart_svg_breaks_the_line_at_non_finite_values_and_marks_only_the_last_of_long_series() -> None:
    chart = chart_data([metric("x", v, i) for i, v in enumerate([1.0, math.nan, 3.0, 4.0])], "x")
    root = parse(chart_svg(chart))
    (d,) = [e.get("d") or "" for e in root.iter(f"{SVG}path") if e.get("class") == "kfjupyter-chart-line"]
    assert d.count("M") == 2 and d.count("L") == 1
    long = chart_data([metric("x", float(i), i) for i in range(200)], "x")
    root = parse(chart_svg(long))
    assert len(list(root.iter(f"{SVG}circle"))) == 1
    assert texts(root, "kfjupyter-chart-xtick")[-1] == "200"


def test_chart_svg_of_one_point_and_of_nothing() -> None:
    root = parse(chart_svg(chart_data([metric("acc", 0.5, 3)], "acc")))
    assert len(list(root.iter(f"{SVG}circle"))) == 1
    assert "nan" not in ET.tostring(root, encoding="unicode")
    empty = parse(chart_svg(chart_data([], "acc")))
    assert "kfjupyter-chart-empty" in (empty.get("class") or "")
    assert "No values of acc yet." in "".join(empty.itertext())


def test_legend_of_many_ranks_says_how_many_are_left_out() -> None:
    records = [metric("loss", 1.0 / (r + 1), 0, step=f"rank-{r}", ts=100.0 - r) for r in range(30)]
    chart = chart_data(records, "loss")
    assert [s.label for s in chart.series][:3] == ["rank-0", "rank-1", "rank-2"]  # by number, not time
    root = parse(chart_svg(chart_data(records, "loss"), height=200))
    items = [e for e in root.iter() if e.get("class") == "kfjupyter-chart-legend-item"]
    more = [t for t in root.itertext() if t.startswith("+")]
    assert len(items) + int(more[0][1:].split()[0]) == 30


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


def test_long_series_are_thinned_but_keep_their_last_point() -> None:
    assert thin(5, limit=10) == [0, 1, 2, 3, 4]
    kept = thin(5001, limit=600)
    assert kept[0] == 0 and kept[-1] == 5000 and len(kept) <= 602
    assert kept == sorted(set(kept))
    chart = chart_data([metric("loss", 1.0 / (i + 1), i) for i in range(5001)], "loss")
    root = parse(chart_svg(chart))
    (d,) = [e.get("d") or "" for e in root.iter(f"{SVG}path") if e.get("class") == "kfjupyter-chart-line"]
    assert len(path_points(d)) == len(kept)
    assert texts(root, "kfjupyter-chart-last") == [fmt(1.0 / 5001)]
