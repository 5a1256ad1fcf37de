"""The run detail's step graph, metric charts and artifacts, in real JupyterLab and real Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import wait_until_ended
from tests.support.vega_charts import lines, texts_inside, tooltip_of_last_point, vega_chart, y_ticks

THEMES = "/lab/api/settings/@jupyterlab/apputils-extension:themes"
STEPS = ["load", "train", "plot", "report"]


@pytest.fixture(scope="module")
def diamond_run(lab_server: LabServer) -> str:
    """A finished four-step diamond: a DataFrame, a loss curve, a figure and a report."""
    write_notebook(
        lab_server.root / "e2e" / "diamond.ipynb",
        [
            cell(
                "import pandas as pd\nframe = pd.DataFrame({'epoch': [0, 1, 2, 3, 4], "
                "'loss': [1.0, 0.6, 0.4, 0.3, 0.25]})",
                "step:load",
            ),
            cell(
                "import kfjupyter\nfor i, v in enumerate(frame['loss']):\n"
                "    kfjupyter.log_metric('loss', float(v), step=i)\n"
                "    kfjupyter.log_metric('accuracy', 0.5 + i / 10, step=i)\n"
                "final = float(frame['loss'].iloc[-1])\nprint('trained to', final)",
                "step:train",
            ),
            cell(
                "import matplotlib.pyplot as plt\nplt.plot(frame['epoch'], frame['loss'], marker='o')\n"
                "plt.title('loss')\nplotted = True",
                "step:plot",
            ),
            cell("print('report', final, plotted)", "step:report"),
        ],
    )
    status, body = lab_server.request(
        "/kfjupyter/api/notebooks/run",
        token=lab_server.token,
        method="POST",
        body={"path": "e2e/diamond.ipynb", "no_cache": True},
    )
    assert status == 202, body
    run_id = str(body["run_id"])
    assert wait_until_ended(lab_server, run_id) == "succeeded"
    return run_id


def open_run(page: Page, run_id: str) -> Locator:
    page.locator('.jp-SideBar.jp-mod-left li[data-id="jp-kfjupyter-sidebar"]').click()
    item = page.locator(f'li.jp-kfjupyter-run[data-run-id="{run_id}"]')
    expect(item).to_be_visible(timeout=15_000)
    item.click()
    detail = page.locator(f'.jp-kfjupyter-run-detail[data-run-id="{run_id}"]')
    expect(detail).to_be_visible()
    # Give the main area the room: close the sidebar again.
    page.locator('.jp-SideBar.jp-mod-left li[data-id="jp-kfjupyter-sidebar"]').click()
    return detail


def shoot(page: Page, output_path: str, name: str, section: Locator | None = None) -> Path:
    Path(output_path).mkdir(parents=True, exist_ok=True)
    shot = Path(output_path) / name
    if section is not None:
        section.scroll_into_view_if_needed()
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    return shot


def test_graph_metrics_and_figure_of_a_finished_run(
    lab_page: Page, diamond_run: str, output_path: str
) -> None:
    detail = open_run(lab_page, diamond_run)
    expect(detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")).to_have_text("succeeded")
    expect(detail.locator("button.jp-kfjupyter-cancel")).to_be_hidden()
    nodes = detail.locator("g.jp-kfjupyter-dag-node")
    expect(nodes).to_have_count(4)
    for step in STEPS:
        expect(detail.locator(f'g.jp-kfjupyter-dag-node[data-step="{step}"]')).to_have_attribute(
            "data-status", "succeeded"
        )
    expect(detail.locator("path.jp-kfjupyter-dag-edge")).to_have_count(4)
    # Layered left to right: load, then train and plot side by side in one column, then report.
    box = {
        step: detail.locator(f'g.jp-kfjupyter-dag-node[data-step="{step}"]').bounding_box() for step in STEPS
    }
    x = {step: b["x"] for step, b in box.items() if b is not None}
    assert x["load"] < x["train"] == x["plot"] < x["report"], box
    # Succeeded nodes are drawn in the theme's success colour.
    same = lab_page.evaluate(
        """() => {
            const probe = document.createElement('div');
            probe.style.color = 'var(--jp-success-color1)';
            document.body.append(probe);
            const want = getComputedStyle(probe).color;
            probe.remove();
            const rect = document.querySelector('g.jp-kfjupyter-dag-node rect');
            return [want, getComputedStyle(rect).stroke];
        }"""
    )
    assert same[0] == same[1], same
    shoot(lab_page, output_path, "run-detail-graph.png")

    detail.locator('g.jp-kfjupyter-dag-node[data-step="train"]').click()
    expect(detail.locator("pre.jp-kfjupyter-log")).to_contain_text("trained to 0.25")
    expect(detail.locator('g.jp-kfjupyter-dag-node[data-step="train"]')).to_have_class(
        "jp-kfjupyter-dag-node jp-mod-selected"
    )
    expect(detail.locator('tr.jp-kfjupyter-step[data-step="train"]')).to_have_class(
        "jp-kfjupyter-step jp-mod-selected"
    )
    detail.locator('g.jp-kfjupyter-dag-node[data-step="report"]').click()
    expect(detail.locator("pre.jp-kfjupyter-log")).to_contain_text("report 0.25 True")

    # the server's Vega-Lite spec (the one %kf metrics shows), drawn by JupyterLab's Vega renderer
    chart = vega_chart(detail, "loss")
    expect(chart).to_be_visible(timeout=15_000)
    expect(lines(chart)).to_have_count(1)
    expect(chart.locator(".mark-symbol path")).to_have_count(5)
    assert y_ticks(chart) == ["0.2", "0.4", "0.6", "0.8", "1.0"]
    assert texts_inside(chart)
    expect(tooltip_of_last_point(lab_page, chart)).to_contain_text("0.25")
    lab_page.mouse.move(0, 0)
    expect(detail.locator('tr[data-metric="loss"] .jp-kfjupyter-metric-last')).to_have_text("0.25")
    expect(detail.locator("figure.jp-kfjupyter-vega .jp-RenderedVegaLite svg")).to_have_count(2)
    shoot(lab_page, output_path, "run-detail-metrics.png", chart)

    figure = detail.locator('tr.jp-kfjupyter-artifact[data-kind="figure"] img.jp-kfjupyter-figure')
    expect(figure).to_have_count(1)
    figure.scroll_into_view_if_needed()
    lab_page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=figure.element_handle(), timeout=15_000
    )
    frame = detail.locator('tr.jp-kfjupyter-artifact[data-name="frame"]')
    expect(frame.locator(".jp-kfjupyter-preview-summary")).to_contain_text("5 \u00d7 2")
    expect(frame.locator("table.jp-kfjupyter-head tbody tr")).to_have_count(5)
    shoot(lab_page, output_path, "run-detail-artifacts.png", figure)


@pytest.fixture
def dark_theme(lab_server: LabServer) -> Iterator[None]:
    def set_theme(theme: str) -> None:
        raw = json.dumps({"theme": theme})
        status, body = lab_server.request(THEMES, token=lab_server.token, method="PUT", body={"raw": raw})
        assert status in (200, 204), body

    set_theme("JupyterLab Dark")
    try:
        yield
    finally:
        set_theme("JupyterLab Light")


def test_the_views_follow_the_dark_theme(
    dark_theme: None, lab_page: Page, diamond_run: str, output_path: str
) -> None:
    expect(lab_page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=15_000)
    detail = open_run(lab_page, diamond_run)
    expect(detail.locator("g.jp-kfjupyter-dag-node")).to_have_count(4)
    background = lab_page.evaluate(
        "() => getComputedStyle(document.querySelector('.jp-kfjupyter-run-detail')).backgroundColor"
    )
    channels = [int(c) for c in background[background.index("(") + 1 : background.index(")")].split(",")[:3]]
    assert sum(channels) < 3 * 96, background
    text = lab_page.evaluate(
        "() => getComputedStyle(document.querySelector('g.jp-kfjupyter-dag-node text')).fill"
    )
    assert text != "rgb(0, 0, 0)", text
    shoot(lab_page, output_path, "run-detail-dark.png")
    chart = vega_chart(detail, "loss")
    fill = chart.locator(".role-axis-label text").first.evaluate("t => getComputedStyle(t).fill")
    assert fill not in ("rgb(0, 0, 0)", "rgb(136, 136, 136)"), fill  # the theme's colour, not Vega's
    shoot(lab_page, output_path, "run-detail-dark-metrics.png", chart)


def test_the_cancel_button_stops_a_running_run(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(
        lab_server.root / "e2e" / "sleepy.ipynb",
        [cell("import time\nprint('napping', flush=True)\ntime.sleep(300)", "step:nap")],
    )
    status, body = lab_server.request(
        "/kfjupyter/api/notebooks/run",
        token=lab_server.token,
        method="POST",
        body={"path": "e2e/sleepy.ipynb", "no_cache": True},
    )
    assert status == 202, body
    run_id = str(body["run_id"])
    detail = open_run(lab_page, run_id)
    expect(detail.locator('g.jp-kfjupyter-dag-node[data-step="nap"]')).to_have_attribute(
        "data-status", "running", timeout=30_000
    )
    button = detail.locator("button.jp-kfjupyter-cancel")
    expect(button).to_be_visible()
    button.click()
    dialog = lab_page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Cancel the run?")
    shoot(lab_page, output_path, "run-detail-cancel-dialog.png")
    dialog.locator("button.jp-mod-warn").click()
    expect(detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")).to_have_text(
        "cancelled", timeout=30_000
    )
    expect(button).to_be_hidden()
    expect(detail.locator('g.jp-kfjupyter-dag-node[data-step="nap"]')).not_to_have_attribute(
        "data-status", "running"
    )
    shoot(lab_page, output_path, "run-detail-cancelled.png")
