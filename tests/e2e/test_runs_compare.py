"""Runs panel filters, search, compare and training jobs, in real JupyterLab and real Chromium."""

from __future__ import annotations

import linecache
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from kfjupyter.store import RunRecord, SqliteRunStore
from kfjupyter.training import train
from tests.e2e.test_runs_sidebar import open_sidebar
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import wait_until_ended
from tests.support.vega_charts import lines, vega_chart

TRAIN_SOURCE = """
import os

def shout():
    rank = os.environ["RANK"]
    print(f"hello from rank {rank} of {os.environ['WORLD_SIZE']}", flush=True)
    for step in range(3):
        print(f"step={step} loss={1 / (step + 1 + int(rank)):.4f}", flush=True)
"""


def store_home(lab: LabServer) -> Path:
    return lab.root.parent / "kfjupyter"


def shot(page: Page, output_path: str, name: str) -> Path:
    path = Path(output_path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    return path


def notebook_function(source: str, name: str) -> Callable[..., Any]:
    """Define a function as a notebook cell does (in ``__main__``, so it is pickled by value)."""
    code = textwrap.dedent(source)
    filename = f"<ipython-input-{name}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(code, filename, "exec"), namespace)
    function: Callable[..., Any] = namespace[name]
    return function


def test_status_filter_and_search_narrow_the_list(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    now = time.time()
    seeded = [
        ("e2e-zebra-1", "zebra crossing", "succeeded"),
        ("e2e-zebra-2", "zebra stripes", "failed"),
        ("e2e-okapi-1", "okapi", "failed"),
    ]
    with SqliteRunStore(store_home(lab_server)) as store:
        for i, (run_id, name, status) in enumerate(seeded):
            store.create_run(
                RunRecord(
                    id=run_id,
                    kind="pipeline",
                    name=name,
                    notebook=f"e2e/{name.split()[0]}.ipynb",
                    backend="local",
                    status=status,
                    created_at=now - 60 + i,
                    started_at=now - 60,
                    finished_at=now - 30,
                )
            )
    open_sidebar(lab_page)
    runs = lab_page.locator("li.jp-kfjupyter-run")
    expect(lab_page.locator('li.jp-kfjupyter-run[data-run-id="e2e-okapi-1"]')).to_be_visible(timeout=15_000)

    lab_page.locator("input.jp-kfjupyter-runs-search").fill("ZEBRA")
    expect(runs).to_have_count(2)
    expect(runs.locator(".jp-kfjupyter-run-name")).to_have_text(["zebra stripes", "zebra crossing"])

    lab_page.locator('select.jp-kfjupyter-runs-filter[name="status"]').select_option("failed")
    expect(runs).to_have_count(1)
    expect(runs.first).to_have_attribute("data-run-id", "e2e-zebra-2")
    meta = runs.first.locator(".jp-kfjupyter-run-meta")
    expect(meta).to_contain_text("30s · ")
    expect(meta).to_contain_text(" · e2e/zebra.ipynb · local")
    shot(lab_page, output_path, "runs-filtered.png")

    lab_page.locator("input.jp-kfjupyter-runs-search").fill("no run is called this")
    expect(runs).to_have_count(0)
    expect(lab_page.locator(".jp-kfjupyter-runs-message")).to_have_text("No runs match these filters.")
    lab_page.locator("input.jp-kfjupyter-runs-search").fill("")
    lab_page.locator('select.jp-kfjupyter-runs-filter[name="status"]').select_option("")
    expect(lab_page.locator('li.jp-kfjupyter-run[data-run-id="e2e-zebra-1"]')).to_be_visible()


def test_compare_two_runs_of_a_notebook_shows_the_parameter_diff_and_two_lines(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(
        lab_server.root / "e2e" / "sweep.ipynb",
        [
            cell("lr = 0.1\nseed = 7", "pipeline-parameters"),
            cell(
                "import kfjupyter\nfor epoch in range(4):\n"
                "    kfjupyter.log_metric('acc', 1 - lr / (epoch + 1), step=epoch)\n"
                "    kfjupyter.log_metric('loss', lr / (epoch + 1), step=epoch)",
                "step:fit",
            ),
        ],
    )
    run_ids = []
    for lr in ("0.5", "0.05"):
        status, body = lab_server.request(
            "/kfjupyter/api/notebooks/run",
            token=lab_server.token,
            method="POST",
            body={"path": "e2e/sweep.ipynb", "parameters": {"lr": lr}, "no_cache": True},
        )
        assert status == 202, body
        run_ids.append(body["run_id"])
    for run_id in run_ids:
        assert wait_until_ended(lab_server, run_id) == "succeeded"

    open_sidebar(lab_page)
    lab_page.locator("input.jp-kfjupyter-runs-search").fill("e2e/sweep")
    runs = lab_page.locator("li.jp-kfjupyter-run")
    expect(runs).to_have_count(2, timeout=15_000)
    for run_id in run_ids:
        lab_page.locator(f'li.jp-kfjupyter-run[data-run-id="{run_id}"] input.jp-kfjupyter-run-select').check()
    expect(lab_page.locator(".jp-kfjupyter-runs-selection-count")).to_have_text("2 selected")
    lab_page.locator("button.jp-kfjupyter-compare-button").click()

    compare = lab_page.locator(".jp-kfjupyter-compare")
    expect(compare).to_be_visible(timeout=15_000)
    lr_row = compare.locator('table[data-table="parameters"] tr[data-param="lr"]')
    expect(lr_row).to_have_class("jp-kfjupyter-diff")
    expect(lr_row.locator("td")).to_have_text(["0.5", "0.05"])
    expect(compare.locator('tr[data-param="seed"]')).not_to_have_class("jp-kfjupyter-diff")
    expect(compare.locator(".jp-kfjupyter-compare-note")).to_have_text(
        "1 of 2 parameters differ (1 the same)"
    )
    best_acc = compare.locator('table[data-table="metrics"] tr[data-metric="acc"] td.jp-kfjupyter-best')
    expect(best_acc).to_have_text("0.9875")  # lr 0.05 at epoch 3: 1 - 0.05 / 4
    chart = vega_chart(compare, "acc")
    expect(lines(chart)).to_have_count(2)  # a line per run, a legend entry per run
    expect(chart.locator(".role-legend-label text")).to_have_count(2)
    expect(compare.locator("figure.jp-kfjupyter-vega .jp-RenderedVegaLite svg")).to_have_count(2)
    # each run's colour in the table header is its line's colour
    swatches = compare.locator('table[data-table="metrics"] th .jp-kfjupyter-legend-swatch').evaluate_all(
        "s => s.map(e => getComputedStyle(e).backgroundColor)"
    )
    strokes = lines(chart).evaluate_all("p => p.map(e => getComputedStyle(e).stroke)")
    assert swatches == strokes, (swatches, strokes)
    shot(lab_page, output_path, "compare.png")


def test_a_training_job_shows_in_the_list_and_its_rank_log_opens(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    with SqliteRunStore(store_home(lab_server)) as store:
        job = train(notebook_function(TRAIN_SOURCE, "shout"), procs_per_node=2, name="e2e-shout", store=store)
        done = job.wait(timeout=120)
    assert done.status == "Complete", done.error

    open_sidebar(lab_page)
    lab_page.locator('select.jp-kfjupyter-runs-filter[name="kind"]').select_option("training")
    item = lab_page.locator(f'li.jp-kfjupyter-run[data-run-id="{job.id}"]')
    expect(item).to_be_visible(timeout=15_000)
    expect(lab_page.locator('li.jp-kfjupyter-run[data-kind="pipeline"]')).to_have_count(0)
    expect(item.locator(".jp-kfjupyter-kind-badge")).to_have_text("training")
    expect(item.locator(".jp-kfjupyter-badge")).to_have_text("succeeded")
    shot(lab_page, output_path, "training-in-list.png")

    item.click()
    detail = lab_page.locator(f'.jp-kfjupyter-run-detail[data-run-id="{job.id}"]')
    expect(detail).to_be_visible()
    expect(detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-kind-badge")).to_have_text(
        "training"
    )
    expect(detail.locator("tr.jp-kfjupyter-step .jp-kfjupyter-step-name")).to_have_text(["rank-0", "rank-1"])
    detail.locator('tr.jp-kfjupyter-step[data-step="rank-1"]').click()
    log = detail.locator("pre.jp-kfjupyter-log")
    expect(log).to_contain_text("hello from rank 1 of 2")
    expect(log).not_to_contain_text("hello from rank 0")
    shot(lab_page, output_path, "training-rank-log.png")
