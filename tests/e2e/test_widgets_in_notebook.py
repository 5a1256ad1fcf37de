"""The %kf widgets in a real notebook: real JupyterLab, real kernel, ipywidgets rendered in Chromium.

A small pipeline notebook (a step that sleeps 2 s and logs a metric) also holds ``skip``-tagged
``%kf`` cells: it loads the extension, runs itself with ``%kf run --widget`` and watches the run
widget go from running to succeeded, charts the run's metric with ``%kf metrics`` and lists it
with ``%kf runs``, then switches to the dark theme. Screenshots land in the test output directory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_notebook_steps import cells_of
from tests.e2e.test_runs_sidebar import open_palette
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook

THEMES = "/lab/api/settings/@jupyterlab/apputils-extension:themes"
PIPELINE = [
    (
        "import time\nimport kfjupyter\nfor i in range(5):\n"
        "    kfjupyter.log_metric('loss', 1.0 / (i + 1), step=i)\n"
        "time.sleep(2)\nprint('trained', flush=True)\nmodel = 'm'",
        "step:train",
    ),
    ("import kfjupyter\nkfjupyter.log_metric('loss', 0.3, step=4)\nprint('checked', model)", "step:evaluate"),
]


def open_notebook(page: Page, lab: LabServer, path: str) -> Locator:
    """Open ``path`` alone in a fresh workspace and wait for an idle kernel."""
    page.goto(f"{lab.base}/lab/workspaces/{Path(path).stem}/tree/{path}?token={lab.token}")
    panel = page.locator(".jp-NotebookPanel:visible")
    expect(panel).to_be_visible(timeout=30_000)
    expect(panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first).to_be_attached(
        timeout=60_000
    )
    # the indicator is idle before the kernel has started; the status bar waits for the kernel
    expect(page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first).to_be_visible(timeout=60_000)
    return panel


def run_cell(page: Page, target: Locator) -> None:
    """Select the ``target`` cell (command mode) and run it."""
    target.locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")


def shot(page: Page, output_path: str, name: str, element: Locator | None = None) -> Path:
    Path(output_path).mkdir(parents=True, exist_ok=True)
    path = Path(output_path) / name
    if element is not None:
        element.scroll_into_view_if_needed()
        element.screenshot(path=str(path))
    else:
        page.screenshot(path=str(path))
    assert path.stat().st_size > 3_000
    return path


def same_colour(page: Page, variable: str, selector: str, prop: str) -> list[str]:
    """The computed colour of ``var(variable)`` and of ``prop`` on the first ``selector``."""
    return list(
        page.evaluate(
            """([variable, selector, prop]) => {
                const probe = document.createElement('div');
                probe.style.color = `var(${variable})`;
                document.body.append(probe);
                const want = getComputedStyle(probe).color;
                probe.remove();
                return [want, getComputedStyle(document.querySelector(selector))[prop]];
            }""",
            [variable, selector, prop],
        )
    )


def line_strokes(box: Locator) -> list[str]:
    """The computed stroke of each line a Vega chart in ``box`` draws, in order."""
    return list(
        box.locator(".role-mark.mark-line path, .mark-line.role-mark path").evaluate_all(
            "paths => paths.map(p => getComputedStyle(p).stroke)"
        )
    )


def unclipped(box: Locator) -> bool:
    """Whether every text of the Vega chart in ``box`` lies inside its SVG (nothing cut off)."""
    return bool(
        box.locator(".jp-RenderedVegaLite svg").first.evaluate(
            """svg => {
                const outer = svg.getBoundingClientRect();
                return [...svg.querySelectorAll('text')].every(t => {
                    const r = t.getBoundingClientRect();
                    return r.width === 0 || (r.left >= outer.left - 0.5 && r.right <= outer.right + 0.5
                        && r.top >= outer.top - 0.5 && r.bottom <= outer.bottom + 0.5);
                });
            }"""
        )
    )


@pytest.fixture
def light_theme_after(lab_server: LabServer) -> Iterator[None]:
    """Put the Light theme back in the shared server's settings whatever the test did."""
    yield
    raw = json.dumps({"theme": "JupyterLab Light"})
    status, body = lab_server.request(THEMES, token=lab_server.token, method="PUT", body={"raw": raw})
    assert status in (200, 204), body


def use_dark_theme(page: Page) -> None:
    palette = open_palette(page)
    palette.locator("input").fill("JupyterLab Dark")
    palette.locator('.lm-CommandPalette-item[data-command="apputils:change-theme"]').first.click()
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=15_000)


def test_run_widget_and_metrics_chart_update_in_a_notebook(
    lab_page: Page, lab_server: LabServer, output_path: str, light_theme_after: None
) -> None:
    write_notebook(
        lab_server.root / "e2e" / "widgets.ipynb",
        [
            cell("%load_ext kfjupyter", "skip"),
            *(cell(source, tag) for source, tag in PIPELINE),
            cell("%kf run --widget", "skip"),
            cell("%kf metrics RUN", "skip"),
            cell("%kf runs --limit 5", "skip"),
        ],
    )
    panel = open_notebook(lab_page, lab_server, "e2e/widgets.ipynb")
    cells = cells_of(panel)
    run_cell(lab_page, cells.nth(0))
    expect(cells.nth(0).locator(".jp-InputPrompt")).to_have_text("[1]:", timeout=30_000)
    run_cell(lab_page, cells.nth(3))  # %kf run --widget: this very notebook, as a pipeline

    widget = cells.nth(3).locator(".jp-OutputArea .kfjupyter-run-widget")
    expect(widget).to_be_visible(timeout=30_000)
    header_badge = widget.locator(".kfjupyter-badge").first
    expect(header_badge).to_have_attribute("data-status", "running", timeout=30_000)
    expect(widget.locator('g.kfjupyter-dag-node[data-step="train"]')).to_have_attribute(
        "data-status", "running", timeout=15_000
    )
    shot(lab_page, output_path, "run-widget-running.png")

    expect(header_badge).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect(widget.locator("g.kfjupyter-dag-node[data-status='succeeded']")).to_have_count(2)
    expect(widget.locator("path.kfjupyter-dag-edge")).to_have_count(1)
    expect(widget.locator("pre.kfjupyter-log")).to_contain_text("checked m")
    want, got = same_colour(lab_page, "--jp-success-color1", "g.kfjupyter-dag-node rect", "stroke")
    assert want == got, (want, got)
    shot(lab_page, output_path, "run-widget-succeeded.png", widget)
    run_id = widget.locator("code.kfjupyter-run-id").inner_text().strip()

    # type the run id into the next cell and chart the run's loss
    cells.nth(4).locator(".cm-content").click()
    lab_page.keyboard.press("Control+a")
    lab_page.keyboard.type(f"%kf metrics {run_id} loss")
    lab_page.keyboard.press("Shift+Enter")
    chart_box = cells.nth(4).locator(".jp-OutputArea .kfjupyter-metrics-chart")
    expect(chart_box).to_be_visible(timeout=30_000)
    # the Vega-Lite spec of kfjupyter.charts, drawn as SVG by JupyterLab's own Vega renderer
    chart = chart_box.locator(".jp-RenderedVegaLite svg").first
    expect(chart).to_be_visible(timeout=30_000)
    expect(chart_box.locator(".role-legend-label text")).to_have_text(["train", "evaluate"])
    expect(chart_box.locator(".role-legend-title text")).to_have_text("pipeline step")
    expect(chart_box.locator(".role-axis-title text")).to_have_text(["step"])
    x_ticks = chart_box.locator(".role-axis[aria-label^='X-axis'] .role-axis-label text")
    expect(x_ticks).to_have_text(["0", "1", "2", "3", "4"])
    expect(chart_box.locator("select")).to_have_value("loss")
    # one colour per series, in palette order
    assert line_strokes(chart_box) == ["rgb(76, 120, 168)", "rgb(245, 133, 24)"]
    assert unclipped(chart_box), "a chart label lies outside the drawing"
    want, got = same_colour(
        lab_page, "--jp-ui-font-color2", ".kfjupyter-metrics-chart .role-axis-label text", "fill"
    )
    assert want == got, (want, got)
    # a tooltip names the series, the step and the exact value
    chart_box.locator(".mark-symbol path").first.hover(force=True)
    expect(lab_page.locator("#vg-tooltip-element")).to_contain_text("train", timeout=5_000)
    expect(lab_page.locator("#vg-tooltip-element")).to_contain_text("loss")
    expect(lab_page.locator("#vg-tooltip-element tr")).to_have_count(3)  # series, step, value
    shot(lab_page, output_path, "metrics-chart.png", chart_box)

    run_cell(lab_page, cells.nth(5))
    table = cells.nth(5).locator(".jp-OutputArea .kfjupyter-runs-table")
    expect(table).to_be_visible(timeout=30_000)
    row = table.locator(f"tr.kfjupyter-run-row[data-run-id='{run_id}']")
    expect(row).to_have_attribute("data-status", "succeeded")
    shot(lab_page, output_path, "runs-table.png", table)
    table.locator("select").first.select_option("training")
    expect(row).to_have_count(0)
    table.locator("select").first.select_option("all")
    expect(row).to_have_count(1)
    table.locator("select").nth(2).select_option(label=f"{run_id} · widgets")
    expect(table.locator(".kfjupyter-run-widget g.kfjupyter-dag-node")).to_have_count(2)
    shot(lab_page, output_path, "runs-table-opened.png", table)

    use_dark_theme(lab_page)
    lab_page.mouse.move(0, 0)
    want, got = same_colour(
        lab_page, "--jp-ui-font-color2", ".kfjupyter-metrics-chart .role-axis-label text", "fill"
    )
    assert want == got, (want, got)  # follows the theme switch without a redraw
    assert got not in ("rgb(0, 0, 0)", "rgb(97, 97, 97)", "rgb(136, 136, 136)"), got
    shot(lab_page, output_path, "metrics-chart-dark.png", chart_box)
    shot(lab_page, output_path, "run-widget-dark.png", widget)
