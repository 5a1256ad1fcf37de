"""The one metric chart definition: series from metric records and their Vega-Lite v5 spec.

Every spec is checked against the official Vega-Lite v5 JSON schema (the copy shipped with
Altair), so a spec the renderer would refuse fails here.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import altair
import jsonschema
import pytest

from kfjupyter.charts import (
    VEGALITE_MIME,
    chart_data,
    chart_spec,
    compare_data,
    metric_names,
    mime_bundle,
    run_labels,
    thin,
)
from kfjupyter.charts.vegalite import PALETTE, number_text, si_digits
from kfjupyter.store import MetricRecord

RUN = "260101-000000-abcd"


def metric(name: str, value: float, index: int, step: str | None = "train", ts: float = 0.0) -> MetricRecord:
    return MetricRecord(run_id=RUN, step=step, name=name, value=value, index=index, ts=ts or float(index))


@cache
def validator() -> jsonschema.protocols.Validator:
    path = Path(altair.__file__).parent / "vegalite" / "v5" / "schema" / "vega-lite-schema.json"
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)  # type: ignore[no-any-return]


def valid(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` after checking it is plain JSON (no NaN) and a valid Vega-Lite v5 spec."""
    text = json.dumps(spec, allow_nan=False)
    errors = sorted(validator().iter_errors(json.loads(text)), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors[:3]]
    titles = [t["title"] for t in spec["encoding"]["tooltip"]]
    assert len(set(titles)) == len(titles), titles  # the tooltip keys its lines by title
    return spec


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
    assert chart.x_label == "step" and chart.points == 6 and chart.series_title == "pipeline step"
    assert [s.label for s in chart.series] == ["run", "train", "eval"]  # in the order they first logged
    train = chart.series[1]
    assert train.xs == (0, 1, 2) and train.ys == (1.0, 0.7, 0.5) and train.last == (2, 0.5)
    assert chart.series[2].xs == (10, 20)
    assert metric_names(records) == ["acc", "loss"]
    assert not chart.single and chart_data(records, "acc").single


def test_chart_data_falls_back_to_logging_order_when_indexes_repeat() -> None:
    records = [
        metric("loss", 0.9, 0, step="rank-0", ts=3),
        metric("loss", 0.8, 0, step="rank-0", ts=1),
        metric("loss", 0.4, 0, step="rank-0", ts=2),
        metric("loss", 0.6, 5, step="rank-1", ts=1),
    ]
    chart = chart_data(records, "loss")
    assert chart.x_label == "value #" and chart.series_title == "rank"
    rank0 = chart.series[0]
    assert rank0.xs == (0, 1, 2) and rank0.ys == (0.8, 0.4, 0.9)
    assert chart.series[1].xs == (0,)


def test_spec_draws_one_coloured_line_per_step_with_tooltips_and_readable_ticks() -> None:
    records = [metric("loss", v, i) for i, v in enumerate([1.0, 0.6, 0.4, 0.3, 0.25])]
    records += [metric("loss", v, i, step="eval", ts=10.0 + i) for i, v in enumerate([0.9, 0.5, 0.35])]
    spec = valid(chart_spec(chart_data(records, "loss")))
    assert spec["$schema"].endswith("/vega-lite/v5.json")
    assert spec["mark"]["type"] == "line" and spec["mark"]["tooltip"] is True
    assert spec["mark"]["point"]["opacity"] == 1  # short series: every point marked
    enc = spec["encoding"]
    assert (enc["x"]["field"], enc["x"]["axis"]["title"], enc["x"]["axis"]["format"]) == ("x", "step", "d")
    assert enc["y"]["field"] == "y" and "labelExpr" in enc["y"]["axis"]
    assert enc["color"]["scale"] == {"domain": ["train", "eval"], "range": list(PALETTE[:2])}
    assert enc["color"]["legend"]["orient"] == "bottom"
    assert [t["title"] for t in enc["tooltip"]] == ["pipeline step", "step", "loss"]
    rows = spec["data"]["values"]
    assert len(rows) == 8
    assert rows[0] == {"series": "train", "x": 0, "y": 1.0, "value": "1"}
    assert [r["y"] for r in rows if r["series"] == "eval"] == [0.9, 0.5, 0.35]
    assert spec["background"] == "transparent" and "width" in spec and "height" in spec


def test_ranks_keep_their_colour_by_number_and_one_series_has_no_legend() -> None:
    records = [
        metric("loss", 1.0 / (r + 1), i, step=f"rank-{r}", ts=100.0 - r) for r in range(12) for i in range(3)
    ]
    spec = valid(chart_spec(chart_data(records, "loss")))
    colour = spec["encoding"]["color"]
    assert colour["title"] == "rank"
    assert colour["scale"]["domain"][:3] == ["rank-0", "rank-1", "rank-2"]  # by number, not by time
    assert colour["scale"]["range"][0] == colour["scale"]["range"][10] == PALETTE[0]  # palette repeats
    assert len(colour["scale"]["range"]) == 12
    alone = valid(chart_spec(chart_data([metric("acc", 0.1 * i, i) for i in range(4)], "acc")))
    assert alone["encoding"]["color"]["legend"] is None


def test_compare_of_two_runs_draws_a_line_per_run_with_the_last_value_at_each_index() -> None:
    first = [
        metric("loss", 1.0, 0),
        metric("loss", 0.5, 1),
        metric("loss", 0.45, 1, ts=9),
        metric("acc", 0.1, 0),
    ]
    second = [metric("loss", 2.0, 0), metric("loss", 1.0, 1), metric("loss", 0.7, 2)]
    chart = compare_data([("baseline (a1)", first), ("wider (b2)", second), ("empty (c3)", [])], "loss")
    labels = ["baseline (a1)", "wider (b2)", "empty (c3)"]
    assert chart.series_title == "run" and [s.label for s in chart.series] == labels
    assert chart.series[0].ys == (1.0, 0.45)  # the value written last at index 1
    spec = valid(chart_spec(chart, title=True))
    assert spec["title"]["text"] == "loss"
    # every run keeps its place in the palette, also one that did not log the metric
    assert spec["encoding"]["color"]["scale"] == {"domain": labels, "range": list(PALETTE[:3])}
    assert spec["encoding"]["tooltip"][0]["title"] == "run"
    assert {r["series"] for r in spec["data"]["values"]} == {"baseline (a1)", "wider (b2)"}


def test_non_finite_values_break_the_line_and_stay_readable_in_the_tooltip() -> None:
    chart = chart_data([metric("x", v, i) for i, v in enumerate([1.0, math.nan, 3.0, math.inf])], "x")
    spec = valid(chart_spec(chart))
    rows = spec["data"]["values"]
    assert [r["y"] for r in rows] == [1.0, None, 3.0, None]
    assert [r["value"] for r in rows] == ["1", "NaN", "3", "Infinity"]
    assert spec["mark"]["invalid"] is None  # null y: a gap, not a line drawn across


def test_long_series_are_thinned_keep_their_last_point_and_hide_markers() -> None:
    assert thin(5, limit=10) == [0, 1, 2, 3, 4]
    kept = thin(5001, limit=600)
    assert kept[0] == 0 and kept[-1] == 5000 and len(kept) <= 602 and kept == sorted(set(kept))
    chart = chart_data([metric("loss", 1.0 / (i + 1), i) for i in range(5001)], "loss")
    spec = valid(chart_spec(chart))
    rows = spec["data"]["values"]
    assert len(rows) == len(kept) and rows[-1]["x"] == 5000 and rows[-1]["value"] == "0.00019996"
    assert spec["mark"]["point"]["opacity"] == 0  # too many to mark; still there for tooltips


def test_names_are_data_not_markup_and_the_bundle_has_a_text_fallback() -> None:
    name = "<b>&'\""
    chart = chart_data([metric(name, 1.0, 0, step="<i>"), metric(name, 2.0, 1, step="<i>")], name)
    data, metadata = mime_bundle(chart, width=400, height=200)
    spec = valid(data[VEGALITE_MIME])
    assert spec["width"] == 400 and spec["encoding"]["tooltip"][2]["title"] == name
    assert data["text/plain"] == f"{name}: last <i> 2"
    assert metadata[VEGALITE_MIME]["embed_options"] == {"actions": False, "renderer": "svg"}


@pytest.mark.parametrize("values", [[], [0.5]])
def test_nothing_or_one_value_is_a_single_value_not_a_chart(values: list[float]) -> None:
    chart = chart_data([metric("acc", v, 3) for v in values], "acc")
    assert chart.single


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (333833.5, "333833.5"),
        (3005998.6666666665, "3005998.67"),
        (0.123456789, "0.123457"),
        (1.5e-05, "1.5e-5"),
        (2e20, "2e+20"),
        (1.2345e16, "1.2345e+16"),
        (42.0, "42"),
        (-0.25, "-0.25"),
        (99999.99999, "100000"),
        (-math.inf, "-Infinity"),
    ],
)
def test_numbers_are_written_as_the_lab_writes_them(value: float, text: str) -> None:
    # the same rule as formatNumber in labextension/src/format.ts: tooltip, header and table agree
    assert number_text(value) == text


def test_si_tick_labels_have_enough_digits_to_stay_apart() -> None:
    assert si_digits([3005998.67, 3010935.67]) == 5  # 3.006M, 3.007M, ...: not all "3.01M"
    assert si_digits([1_000_000.0, 1_000_050.0]) == 6  # 1.00001M
    assert si_digits([0.0, 334_000.0]) == 3
    assert si_digits([]) == 3 and si_digits([5e6]) == 3
    spec = chart_spec(chart_data([metric("revenue", 3005998.67 + 1000 * i, i) for i in range(6)], "revenue"))
    assert "'.4~s'" in spec["encoding"]["y"]["axis"]["labelExpr"]


def test_run_labels_are_short_and_distinct() -> None:
    long = "churn-model-training-with-a-rather-long-name"
    assert run_labels(
        [(long, "261202-230752-nyne"), (long, "261202-230754-4965"), ("fit", "260101-000000-ab")]
    ) == [
        "churn-model-training-wi… #nyne",
        "churn-model-training-wi… #4965",
        "fit #ab",
    ]
    # the same name and id end: the full ids tell them apart
    assert run_labels([("a", "261202-000000-abcd"), ("a", "261203-000000-abcd")]) == [
        "a (261202-000000-abcd)",
        "a (261203-000000-abcd)",
    ]
