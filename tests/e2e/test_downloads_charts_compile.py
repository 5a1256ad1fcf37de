"""Artifact downloads, readable chart axes, metric numbers and "Compile to KFP" on a notebook without
steps, in real JupyterLab and real Chromium, in the light and the dark theme."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_notebook_steps import open_notebook
from tests.e2e.test_runs_sidebar import open_palette
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import start_notebook_run, wait_until_ended
from tests.support.vega_charts import texts_inside, tooltip_of_last_point, vega_chart, y_ticks

SIDEBAR_TAB = '.jp-SideBar.jp-mod-left li[data-id="jp-kfjupyter-sidebar"]'
#: A compact tick label: `0`, `0.25`, `-1.5k`, `3.34M`.
TICK = re.compile(r"^-?\d+(\.\d+)?[kMGT]?$")


@dataclass
class Runs:
    first: str
    second: str


@pytest.fixture(scope="module")
def runs(lab_server: LabServer) -> Runs:
    """Two runs of one notebook: a large, slowly growing metric, a metric logged once, a DataFrame."""
    write_notebook(
        lab_server.root / "dl" / "revenue.ipynb",
        [
            cell("base = 3336000.5", "pipeline-parameters"),
            cell(
                "import pandas as pd\nframe = pd.DataFrame({'month': [1, 2, 3], 'revenue': [base, base + 1, base + 2]})",
                "step:load",
            ),
            cell(
                "import kfjupyter\nfor i in range(5):\n"
                "    kfjupyter.log_metric('revenue', base + 1234.25 * i, step=i)\n"
                "kfjupyter.log_metric('final_score', 0.91234567)\nprint(len(frame))",
                "step:train",
            ),
        ],
    )
    first = start_notebook_run(lab_server, "dl/revenue.ipynb", no_cache=True)
    assert wait_until_ended(lab_server, first) == "succeeded"
    second = start_notebook_run(lab_server, "dl/revenue.ipynb", parameters={"base": "3005998.6666666665"})
    assert wait_until_ended(lab_server, second) == "succeeded"
    return Runs(first, second)


def shoot(page: Page, output_path: str, name: str, section: Locator | None = None) -> None:
    if section is not None:
        section.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    Path(output_path).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(output_path) / name))


def load(page: Page, lab: LabServer, workspace: str, theme: str) -> None:
    page.goto(f"{lab.base}/lab/workspaces/{workspace}?reset&token={lab.token}")
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    light = "true" if theme == "light" else "false"
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", light, timeout=15_000)


def open_run(page: Page, run_id: str) -> Locator:
    page.locator(SIDEBAR_TAB).click()
    item = page.locator(f'li.jp-kfjupyter-run[data-run-id="{run_id}"]')
    expect(item).to_be_visible(timeout=15_000)
    item.click()
    detail = page.locator(f'.jp-kfjupyter-run-detail[data-run-id="{run_id}"]')
    expect(detail).to_be_visible()
    page.locator(SIDEBAR_TAB).click()
    return detail


def assert_ticks_fit(chart: Locator) -> list[str]:
    """The y tick labels are compact and lie wholly inside the chart (nothing cut on the left)."""
    labels = y_ticks(chart)
    assert len(labels) >= 3 and all(TICK.match(label) for label in labels), labels
    assert len(set(labels)) == len(labels), labels  # enough digits to tell the ticks apart
    assert texts_inside(chart), labels
    return labels


def test_artifacts_download_and_metrics_read_the_same_everywhere(
    theme: str, runs: Runs, lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    page = lab_page
    page.set_viewport_size({"width": 1280, "height": 900})
    load(page, lab_server, f"dl-{theme}", theme)
    detail = open_run(page, runs.second)

    # One formatting of a value: the header, the table and the chart's tooltips agree.
    header = detail.locator(".jp-kfjupyter-facts")
    expect(header).to_contain_text("revenue=3010935.67")
    expect(detail.locator('tr[data-metric="revenue"] .jp-kfjupyter-metric-last')).to_have_text("3010935.67")
    chart = vega_chart(detail, "revenue")
    expect(chart).to_be_visible(timeout=15_000)
    expect(tooltip_of_last_point(page, chart)).to_contain_text("3010935.67")
    page.mouse.move(0, 0)
    labels = assert_ticks_fit(chart)
    assert all(label.endswith("M") for label in labels[1:]), labels
    # Logged once: a number, not a one-dot chart.
    single = detail.locator('.jp-kfjupyter-metric-single[data-metric="final_score"]')
    expect(single.locator(".jp-kfjupyter-metric-value")).to_have_text("0.912346")
    expect(detail.locator('figure.jp-kfjupyter-vega[data-metric="final_score"]')).to_have_count(0)
    expect(header).to_contain_text("final_score=0.912346")
    shoot(page, output_path, f"metrics-{theme}.png", chart)

    # Each artifact's name is a download link through the authenticated artifact route.
    link = detail.locator('tr.jp-kfjupyter-artifact[data-name="frame"] a.jp-kfjupyter-artifact-download')
    expect(link).to_have_text("frame")
    assert (link.get_attribute("href") or "").endswith(
        f"/kfjupyter/api/runs/{runs.second}/artifacts/load/frame/download?attachment=1"
    )
    link.scroll_into_view_if_needed()
    with page.expect_download() as caught:
        link.click()
    download = caught.value
    assert download.failure() is None
    saved = Path(download.path())
    assert download.suggested_filename and saved.stat().st_size > 0
    status, listed = lab_server.request(
        f"/kfjupyter/api/runs/{runs.second}/artifacts", token=lab_server.token
    )
    assert status == 200
    (frame,) = [a for a in listed["artifacts"] if a["name"] == "frame"]
    assert saved.stat().st_size == frame["size"]
    shoot(page, output_path, f"artifacts-{theme}.png", link)

    # Compare: the overlaid chart's ticks fit too; the metric logged once is only in the table.
    page.locator(SIDEBAR_TAB).click()
    for run_id in (runs.first, runs.second):
        page.locator(f'li.jp-kfjupyter-run[data-run-id="{run_id}"] input.jp-kfjupyter-run-select').check()
    page.locator("button.jp-kfjupyter-compare-button").click()
    compare = page.locator(".jp-kfjupyter-compare")
    expect(compare).to_be_visible(timeout=15_000)
    page.locator(SIDEBAR_TAB).click()
    overlay = vega_chart(compare, "revenue")
    expect(overlay).to_be_visible(timeout=15_000)
    assert_ticks_fit(overlay)
    expect(compare.locator('figure.jp-kfjupyter-vega[data-metric="final_score"]')).to_have_count(0)
    expect(compare.locator(".jp-kfjupyter-charts .jp-kfjupyter-compare-note")).to_contain_text(
        "1 metric has one value per run"
    )
    expect(compare.locator('tr[data-metric="final_score"] td').first).to_have_text("0.912346")
    shoot(page, output_path, f"compare-{theme}.png", overlay)


def test_compile_without_steps_shows_the_lint_message(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(lab_server.root / "dl" / "scratch.ipynb", [cell("x = 1"), cell("print(x)")])
    panel = open_notebook(lab_page, lab_server, "dl/scratch.ipynb")
    panel.locator('.jp-Toolbar [data-command="kfjupyter:compile-notebook"]').click()
    # The dialog asks for the image first; an image does not make steps, so lint still refuses.
    form = lab_page.locator(".jp-Dialog .jp-kfjupyter-compile-form")
    form.locator('input[name="image"]').fill("registry.example/team/nb:2")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Compile").click()
    dialog = lab_page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Cannot compile the notebook", timeout=30_000)
    expect(dialog).to_contain_text(re.compile(r"KF001\b.*no steps"))
    expect(dialog).not_to_contain_text("Internal Server Error")
    shoot(lab_page, output_path, "compile-no-steps.png")
    dialog.get_by_role("button").last.click()
    assert not (lab_server.root / "dl" / "scratch.pipeline.yaml").exists()

    # The guide says: type "Kubeflow" in the palette to find every command.
    palette = open_palette(lab_page)
    palette.locator("input").fill("Kubeflow")
    commands = (
        "kfjupyter:run-as-pipeline",
        "kfjupyter:set-cell-kind",
        "kfjupyter:compile-notebook",
        "kfjupyter:train",
    )
    for command in commands:
        expect(palette.locator(f'li[data-command="{command}"]').first).to_be_visible()
    shoot(lab_page, output_path, "palette-kubeflow.png")
