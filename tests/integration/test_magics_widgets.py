"""The notebook widgets behind %kf in a real IPython shell, over a real run store and real runs.

The metrics chart must draw what the store holds, the runs table must filter what the store lists,
the run widget must follow a run to its end, and ``%kf run --backend kfp`` must submit through the
same core as ``kfjupyter submit`` (here to the KFP API stand-in).
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.charts import VEGALITE_MIME
from kfjupyter.charts.vegalite import number_text
from kfjupyter.ipython.charts import MetricsChart
from kfjupyter.ipython.runs_table import RunsTable
from kfjupyter.ipython.widgets import RunWidget
from kfjupyter.store import RunStore
from tests.support.ipython import shell
from tests.support.kfp_context import without_kfp_context
from tests.support.kfp_standin import KfpStandIn
from tests.support.notebooks import cell, write_notebook
from tests.support.stores import home, store

pytestmark = pytest.mark.integration
__all__ = ["home", "shell", "store"]
SVG = "{http://www.w3.org/2000/svg}"
IMAGE = "registry.example/kfjupyter:1"


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """What %kf displays; every widget is stopped and its thread joined at the end."""
    objects: list[Any] = []
    monkeypatch.setattr("IPython.display.display", lambda obj: objects.append(obj))
    yield objects
    for obj in objects:
        obj.stop()
        obj.wait(timeout=30)


def run_id_of(out: str) -> str:
    match = re.search(r"^run (\S+): ", out, re.MULTILINE)
    assert match, out
    return match.group(1)


def spec_of(chart: MetricsChart) -> dict[str, Any]:
    """The Vega-Lite spec the chart's Output widget shows (with its text fallback)."""
    (output,) = chart.chart.outputs
    assert output["data"]["text/plain"].startswith(f"{chart.metric}: last ")
    spec: dict[str, Any] = output["data"][VEGALITE_MIME]
    return spec


def last_values(chart: MetricsChart) -> dict[str, str]:
    """Each series' value at its highest x, as the chart's tooltip spells it."""
    last: dict[str, tuple[float, str]] = {}
    for row in spec_of(chart)["data"]["values"]:
        if row["series"] not in last or row["x"] >= last[row["series"]][0]:
            last[row["series"]] = (row["x"], row["value"])
    return {series: value for series, (_, value) in last.items()}


def points(chart: MetricsChart) -> int:
    return len(spec_of(chart)["data"]["values"])


def expected_lasts(store: RunStore, run_id: str, metric: str) -> dict[str, str]:
    values: dict[str, tuple[int, float]] = {}
    for m in store.list_metrics(run_id, metric):
        label = m.step or "run"
        if label not in values or m.index >= values[label][0]:
            values[label] = (m.index, m.value)
    return {label: number_text(v) for label, (_, v) in values.items()}


METRICS_NB = [
    cell("n = 4", "pipeline-parameters"),
    cell(
        "import kfjupyter\nfor i in range(n):\n    kfjupyter.log_metric('loss', 1.0 / (i + 1), step=i)\n"
        "    kfjupyter.log_metric('acc', 0.5 + i / 10, step=i)\nmodel = 1",
        "step:train",
    ),
    cell(
        "import kfjupyter\nfor i in range(3):\n    kfjupyter.log_metric('loss', 0.9 - i * 0.2)\n"
        "kfjupyter.log_metric('f1', 333833.5)\nscore = model",
        "step:evaluate",
    ),
]


def test_metrics_chart_draws_what_the_store_holds(
    shell: Any,
    home: Path,
    store: RunStore,
    tmp_path: Path,
    shown: list[Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    nb = write_notebook(tmp_path / "metrics.ipynb", METRICS_NB)
    shell.run_line_magic("kf", f"run --notebook {nb} -p n=5")
    run_id = run_id_of(capsys.readouterr().out)

    shell.run_line_magic("kf", f"metrics {run_id}")
    (chart,) = shown
    assert isinstance(chart, MetricsChart)
    assert list(chart.picker.options) == ["acc", "f1", "loss"] and chart.metric == "acc"
    assert last_values(chart) == expected_lasts(store, run_id, "acc") == {"train": "0.9"}

    chart.picker.value = "loss"  # the Dropdown redraws the chart for the other metric
    assert last_values(chart) == expected_lasts(store, run_id, "loss") == {"evaluate": "0.5", "train": "0.2"}
    assert points(chart) == len(store.list_metrics(run_id, "loss")) == 8
    assert "train <b class='kfjupyter-chart-last-value'>0.2</b>" in chart.summary.value
    assert str(chart) == f"loss of run {run_id}: last train 0.2, evaluate 0.5"
    assert not chart._follower.running  # the run has ended: nothing polls

    chart.picker.value = "f1"  # logged once: shown as its number, not as a chart
    (single,) = chart.chart.outputs
    assert VEGALITE_MIME not in single["data"] and single["data"]["text/plain"] == "evaluate 333833.5"
    assert "kfjupyter-metric-value" in single["data"]["text/html"]
    assert ">333833.5</b>" in single["data"]["text/html"]  # written as the Lab writes it

    shell.run_line_magic("kf", f"metrics {run_id} loss")
    assert shown[-1].metric == "loss"
    shell.run_line_magic("kf", f"metrics {run_id} nope")
    assert capsys.readouterr().out.strip() == (
        f"kfjupyter: run {run_id} has no metric 'nope' (it has: acc, f1, loss)"
    )
    shell.run_line_magic("kf", "metrics 260101-000000-none")
    assert "does not exist" in capsys.readouterr().out


def test_live_widgets_follow_a_run_to_its_end(
    shell: Any, home: Path, store: RunStore, tmp_path: Path, shown: list[Any]
) -> None:
    nb = write_notebook(
        tmp_path / "slow.ipynb",
        [
            cell(
                "import kfjupyter, time\nfor i in range(3):\n    kfjupyter.log_metric('loss', 3 - i, step=i)\n"
                "time.sleep(1.5)\nprint('first done')\na = 1",
                "step:first",
            ),
            cell(
                "import kfjupyter, time\ntime.sleep(1.5)\nkfjupyter.log_metric('loss', 0.5, step=3)\nb = a",
                "step:second",
            ),
            cell("c = a\nprint('side done')", "step:side"),
        ],
    )
    started = time.monotonic()
    shell.run_line_magic("kf", f"run --widget --notebook {nb}")
    assert time.monotonic() - started < 1.0
    (run_widget,) = shown
    assert isinstance(run_widget, RunWidget)
    run_id = run_widget.run_id
    deadline = time.monotonic() + 30
    while not store.list_runs() and time.monotonic() < deadline:
        time.sleep(0.1)
    shell.run_line_magic("kf", f"metrics {run_id} loss")
    chart = shown[1]
    assert isinstance(chart, MetricsChart) and chart._follower.running
    seen_while_running = {chart.status}

    deadline = time.monotonic() + 60
    while chart._follower.running and time.monotonic() < deadline:
        seen_while_running.add(chart.status)
        time.sleep(0.2)
    run_widget.wait(timeout=30)
    assert "running" in seen_while_running and chart.status == "succeeded"
    assert last_values(chart) == expected_lasts(store, run_id, "loss") == {"first": "1", "second": "0.5"}
    assert points(chart) == 4

    assert (
        'data-status="succeeded"' in run_widget.header.value and str(run_widget) == f"run {run_id}: succeeded"
    )
    dag = ET.fromstring(run_widget.dag.value)
    nodes = {g.get("data-step"): g.get("data-status") for g in dag.iter(f"{SVG}g")}
    assert nodes == {"first": "succeeded", "second": "succeeded", "side": "succeeded"}
    edges = {(p.get("data-from"), p.get("data-to")) for p in dag.iter(f"{SVG}path")}
    assert edges == {("first", "second"), ("first", "side")}


TRAIN_SCRIPT = """
import os
rank = int(os.environ["RANK"])
for epoch in range(3):
    print(f"epoch={epoch} loss={(3 - epoch) / (rank + 1)}", flush=True)
"""


def test_runs_table_filters_by_kind_and_status_and_opens_a_run(
    shell: Any,
    home: Path,
    store: RunStore,
    tmp_path: Path,
    shown: list[Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = write_notebook(tmp_path / "good.ipynb", [cell("x = 1", "step:ok")])
    bad = write_notebook(tmp_path / "bad.ipynb", [cell("raise ValueError('boom')", "step:broken")])
    shell.run_line_magic("kf", f"run --notebook {good}")
    good_id = run_id_of(capsys.readouterr().out)
    shell.run_line_magic("kf", f"run --notebook {bad}")
    bad_id = run_id_of(capsys.readouterr().out)
    script = tmp_path / "fit.py"
    script.write_text(TRAIN_SCRIPT)
    shell.run_line_magic("kf", f"train {script} --procs 2 --backend local --follow")
    capsys.readouterr()
    (train_id,) = [r.id for r in store.list_runs(kind="training")]

    shell.run_line_magic("kf", "runs")
    table = shown[-1]
    assert isinstance(table, RunsTable)
    assert [r.id for r in table.runs] == [train_id, bad_id, good_id]  # newest first
    rows = re.findall(r"data-run-id='([^']+)' data-status='(\w+)' data-kind='(\w+)'", table.table.value)
    assert rows == [
        (train_id, "succeeded", "training"),
        (bad_id, "failed", "pipeline"),
        (good_id, "succeeded", "pipeline"),
    ]
    assert f"<code class='kfjupyter-run-id' style='user-select:all'>{good_id}</code>" in table.table.value

    table.kind.value = "training"  # the Dropdowns re-read the store at once
    assert [r.id for r in table.runs] == [train_id]
    table.kind.value = "all"
    table.status.value = "failed"
    assert [r.id for r in table.runs] == [bad_id]
    table.kind.value = "training"
    assert table.runs == [] and "No runs match these filters." in table.table.value
    table.kind.value = "all"
    table.status.value = "cancelled"
    assert table.runs == [] and "No runs match these filters." in table.table.value
    table.status.value = "all"

    table.opener.value = good_id  # the "open" Dropdown shows the run's live widget under the table
    assert table.opened is not None and table.opened.run_id == good_id
    assert table.detail.children == (table.opened.box,)
    assert 'data-status="succeeded"' in table.opened.header.value
    table.opener.value = ""
    assert table.opened is None and table.detail.children == ()

    shell.run_line_magic("kf", "runs --kind pipeline --status succeeded")
    assert [r.id for r in shown[-1].runs] == [good_id]
    assert str(shown[-1]).split()[:2] == [good_id, "succeeded"]

    # a training run: one series per rank, x = the epoch printed on the line
    shell.run_line_magic("kf", f"metrics {train_id} loss")
    chart = shown[-1]
    assert last_values(chart) == expected_lasts(store, train_id, "loss") == {"rank-0": "1", "rank-1": "0.5"}
    spec = spec_of(chart)
    assert sorted({row["x"] for row in spec["data"]["values"]}) == [0, 1, 2]
    assert spec["encoding"]["x"]["axis"]["format"] == "d" and spec["encoding"]["color"]["title"] == "rank"


@pytest.fixture
def no_kfp_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    without_kfp_context(monkeypatch, tmp_path)


def test_kf_run_backend_kfp_submits_to_kubeflow_pipelines(
    shell: Any,
    home: Path,
    store: RunStore,
    tmp_path: Path,
    no_kfp_context: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    nb = write_notebook(
        tmp_path / "Train Model.ipynb",
        [
            cell("n = 3", "pipeline-parameters"),
            cell("data = list(range(n))", "step:make"),
            cell("total = sum(data)", "step:train"),
        ],
    )
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    shell.run_line_magic("kf", "run --backend kfp")
    assert capsys.readouterr().out.strip() == (
        "kfjupyter: %kf run --backend kfp: no Kubeflow Pipelines host; pass --host URL or set "
        "$KFJUPYTER_KFP_HOST (or $KF_PIPELINES_ENDPOINT)"
    )

    with KfpStandIn() as standin:
        monkeypatch.setenv("KFJUPYTER_KFP_HOST", standin.url)
        shell.run_line_magic("kf", f"run --backend kfp -p n=5 --image {IMAGE} --experiment nbs")
        first = capsys.readouterr().out.splitlines()
        monkeypatch.delenv("KFJUPYTER_KFP_HOST")
        shell.run_line_magic("kf", f"run --backend kfp --host {standin.url} --image {IMAGE}")
        second = capsys.readouterr().out.splitlines()
    assert standin.errors == []

    match = re.fullmatch(r"run (\S+) started on Kubeflow Pipelines: KFP run (\S+)", first[0])
    assert match, first
    run_id, kfp_run_id = match.groups()
    assert first[1].strip() == f"{standin.url}/#/runs/details/{kfp_run_id}"
    kfp_run = standin.runs[kfp_run_id]
    assert kfp_run.runtime_config.parameters == {"n": 5}
    assert [e.display_name for e in standin.experiments.values()] == ["nbs", "Default"]
    record = store.get_run(run_id)
    assert (record.backend, record.external_id, record.parameters) == ("kfp", kfp_run_id, {"n": 5})
    assert [(s.name, s.status, s.upstream) for s in store.get_steps(run_id)] == [
        ("make", "pending", []),
        ("train", "pending", ["make"]),
    ]
    assert second[0].startswith("run ") and len(standin.runs) == 2


@pytest.mark.parametrize(
    ("line", "starts"),
    [
        ("frobnicate", "kfjupyter: %kf: argument verb: invalid choice"),
        ("metrics", "kfjupyter: %kf: the following arguments are required: RUN; usage: %kf metrics"),
        ("runs --kind nope", "kfjupyter: %kf: argument --kind: invalid choice: 'nope'"),
        ("runs --limit 0", "kfjupyter: %kf runs: --limit must be at least 1"),
        ("run --backend nope", "kfjupyter: %kf: argument --backend: invalid choice: 'nope'"),
        (
            "run --backend kfp --no-cache --notebook x.ipynb",
            "kfjupyter: %kf run: --no-cache only applies to a local run",
        ),
        (
            "run --host http://kfp --notebook x.ipynb",
            "kfjupyter: %kf run: --host only applies to --backend kfp",
        ),
        ("metrics a b c", "kfjupyter: %kf: unrecognized arguments: c"),
        ("logs RUN -- more", "kfjupyter: %kf logs: arguments after '--' are for %kf train only"),
        ("runs 'unbalanced", "kfjupyter: %kf: cannot read the line"),
    ],
)
def test_bad_lines_print_one_line_with_the_usage(
    shell: Any, home: Path, line: str, starts: str, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_line_magic("kf", line)
    out = capsys.readouterr().out
    assert out.startswith(starts) and out.count("\n") == 1, out


@pytest.mark.parametrize("line", ["", "--help", "-h", "metrics --help", "runs -h", "run --help"])
def test_help_prints_the_usage(shell: Any, line: str, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("kf", line)
    out = capsys.readouterr().out
    assert out.startswith("usage: %kf") and "Traceback" not in out
    if line in ("", "--help", "-h"):
        assert all(verb in out for verb in ("run", "runs", "logs", "metrics", "train"))
    if line == "run --help":
        assert "--backend {local,kfp}" in out and "--host URL" in out
