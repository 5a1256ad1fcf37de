"""A visual tour of every kfjupyter view in the light and the dark theme, in real JupyterLab and
Chromium: the runs sidebar, the run detail of each kind of run, the compare view, the run, train
and step dialogs, and a notebook with step badges, a lint marker, the lint banner and the step
form of the property inspector. Each view is checked to have rendered and is saved as a screenshot
under the pytest output directory, for a person to look at."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from kfjupyter.store import RunRecord, SqliteRunStore, StepRecord
from kfjupyter.training import train
from tests.e2e.test_notebook_steps import cells_of, open_notebook
from tests.e2e.test_runs_compare import notebook_function, store_home
from tests.e2e.test_runs_sidebar import open_palette
from tests.support.jupyter import LabServer, running_lab
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import start_notebook_run, wait_until_ended

SIDEBAR_TAB = '.jp-SideBar.jp-mod-left li[data-id="jp-kfjupyter-sidebar"]'

TRAIN_SOURCE = """
import os
import time

def fit():
    rank = int(os.environ["RANK"])
    print(f"rank {rank} of {os.environ['WORLD_SIZE']} starting", flush=True)
    for step in range(6):
        print(f"step={step} loss={1 / (step + 1 + rank):.4f} accuracy={0.5 + step / 12:.4f}", flush=True)
        time.sleep(0.05)
"""

LONG_TRAIN_SOURCE = """
import os
import time

def fit():
    rank = int(os.environ["RANK"])
    for step in range(1200):
        print(f"rank {rank} step={step} loss={1 / (step + 1 + rank):.4f}", flush=True)
        time.sleep(0.5)
"""


@dataclass
class Tour:
    """The ids of the seeded runs."""

    succeeded: str
    sweep: str
    cached: str
    failed: str
    running: str
    training: str
    kfp: str
    training_live: str


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A lab of the tour's own: its store holds only the runs seeded here (other tests add thousands)."""
    with running_lab(tmp_path_factory.mktemp("tour-lab")) as server:
        yield server


@pytest.fixture(scope="module")
def tour(lab_server: LabServer) -> Iterator[Tour]:
    """Seed a realistic store: finished, cached, failed, running, training and KFP runs."""
    root = lab_server.root / "tour"
    write_notebook(
        root / "churn_model_training_with_a_rather_long_notebook_name.ipynb",
        [
            cell("lr = 0.1\nepochs = 5", "pipeline-parameters"),
            cell(
                "import pandas as pd\nframe = pd.DataFrame({'customer': ['a', 'b', 'c', 'd', 'e'], "
                "'tenure': [3, 14, 27, 6, 40], 'churned': [True, False, False, True, False]})",
                "step:load_customers",
            ),
            cell(
                "import kfjupyter\nfor i in range(epochs):\n"
                "    kfjupyter.log_metric('loss', 1 / (1 + lr * 10 * i), step=i)\n"
                "    kfjupyter.log_metric('accuracy', 0.6 + lr * i / 2, step=i)\n"
                "kfjupyter.log_metric('auc', 0.8 + lr / 10)\n"
                "print('trained for', epochs, 'epochs at lr', lr)",
                "step:train_model",
            ),
            cell(
                "import matplotlib.pyplot as plt\nplt.bar(frame['customer'], frame['tenure'])\n"
                "plt.title('tenure')\nplotted = True",
                "step:plot",
            ),
            cell("print('report', plotted)", "step:report"),
        ],
    )
    write_notebook(
        root / "broken.ipynb",
        [
            cell("rows = [1, 2, 3]", "step:extract"),
            cell(
                "print('validating', len(rows), 'rows')\nchecked = list(rows)\n"
                "raise ValueError('column \"tenure\" has 3 negative values; expected >= 0')",
                "step:validate",
            ),
            cell("print('never', checked)", "step:publish"),
        ],
    )
    write_notebook(
        root / "slow.ipynb",
        [
            cell("print('warming up', flush=True)", "step:prepare"),
            cell(
                "import time\nfor i in range(600):\n    print(f'working on batch {i}', flush=True)\n"
                "    time.sleep(0.5)",
                "step:crunch",
            ),
            cell("print('done')", "step:finish"),
        ],
    )
    notebook = "tour/churn_model_training_with_a_rather_long_notebook_name.ipynb"
    succeeded = start_notebook_run(lab_server, notebook, no_cache=True)
    assert wait_until_ended(lab_server, succeeded) == "succeeded"
    sweep = start_notebook_run(lab_server, notebook, parameters={"lr": "0.3"}, no_cache=True)
    failed = start_notebook_run(lab_server, "tour/broken.ipynb", no_cache=True)
    assert wait_until_ended(lab_server, sweep) == "succeeded"
    assert wait_until_ended(lab_server, failed) == "failed"
    cached = start_notebook_run(lab_server, notebook)
    assert wait_until_ended(lab_server, cached) == "succeeded"

    now = time.time()
    with SqliteRunStore(store_home(lab_server)) as store:
        job = train(notebook_function(TRAIN_SOURCE, "fit"), procs_per_node=2, name="tour-fit", store=store)
        assert job.wait(timeout=120).status == "Complete"
        kfp = store.create_run(
            RunRecord(
                id="tour-kfp-0001",
                kind="pipeline",
                name="churn-on-kubeflow-pipelines",
                notebook=notebook,
                backend="kfp",
                status="succeeded",
                created_at=now - 3600,
                started_at=now - 3590,
                finished_at=now - 3000,
                parameters={"lr": 0.1, "epochs": 5},
                external_id="7f9c2e51-0a7d-4b1e-9a55-2f6f0c1d3e42",
            )
        )
        store.upsert_steps(
            [
                StepRecord(
                    run_id=kfp.id,
                    name=name,
                    status="succeeded",
                    started_at=now - 3590 + i * 100,
                    finished_at=now - 3500 + i * 100,
                    upstream=up,
                )
                for i, (name, up) in enumerate(
                    [("load_customers", []), ("train_model", ["load_customers"]), ("report", ["train_model"])]
                )
            ]
        )
        live = train(
            notebook_function(LONG_TRAIN_SOURCE, "fit"), procs_per_node=2, name="tour-live", store=store
        )
    running = start_notebook_run(lab_server, "tour/slow.ipynb", no_cache=True)
    try:
        yield Tour(succeeded, sweep, cached, failed, running, job.id, kfp.id, live.id)
    finally:
        for run_id in (running, live.id):
            lab_server.request(f"/kfjupyter/api/runs/{run_id}/cancel", token=lab_server.token, method="POST")


class Camera:
    """Saves numbered screenshots of one theme under the output directory."""

    def __init__(self, page: Page, output_path: str, theme: str) -> None:
        self.page = page
        self.folder = Path(output_path) / "visual-tour" / theme
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def shoot(self, name: str, section: Locator | None = None) -> Path:
        if section is not None:
            section.scroll_into_view_if_needed()
        self.page.wait_for_timeout(250)
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        return path


def load_lab(page: Page, lab: LabServer, workspace: str, theme: str) -> None:
    page.goto(f"{lab.base}/lab/workspaces/{workspace}?reset&token={lab.token}")
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    light = "true" if theme == "light" else "false"
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", light, timeout=15_000)


def open_detail(page: Page, run_id: str) -> Locator:
    page.locator(SIDEBAR_TAB).click()
    item = page.locator(f'li.jp-kfjupyter-run[data-run-id="{run_id}"]')
    expect(item).to_be_visible(timeout=15_000)
    item.click()
    detail = page.locator(f'.jp-kfjupyter-run-detail[data-run-id="{run_id}"]')
    expect(detail).to_be_visible()
    page.locator(SIDEBAR_TAB).click()
    return detail


def test_visual_tour(theme: str, tour: Tour, lab_page: Page, lab_server: LabServer, output_path: str) -> None:
    page = lab_page
    page.set_viewport_size({"width": 1280, "height": 900})
    camera = Camera(page, output_path, theme)
    load_lab(page, lab_server, f"tour-{theme}", theme)

    # The sidebar: every run, filters and sort; then a filter that matches nothing.
    page.locator(SIDEBAR_TAB).click()
    runs = page.locator("li.jp-kfjupyter-run")
    expect(page.locator(f'li.jp-kfjupyter-run[data-run-id="{tour.kfp}"]')).to_be_visible(timeout=15_000)
    expect(page.locator("input.jp-kfjupyter-runs-search")).to_be_visible()
    expect(page.locator("select.jp-kfjupyter-runs-sort")).to_be_visible()
    page.locator(f'li.jp-kfjupyter-run[data-run-id="{tour.succeeded}"] input.jp-kfjupyter-run-select').check()
    page.locator(f'li.jp-kfjupyter-run[data-run-id="{tour.sweep}"] input.jp-kfjupyter-run-select').check()
    page.locator(f'li.jp-kfjupyter-run[data-run-id="{tour.failed}"] input.jp-kfjupyter-run-select').check()
    expect(page.locator(".jp-kfjupyter-runs-selection-count")).to_have_text("3 selected")
    # Arrow keys move the keyboard focus (and its ring) down the list.
    runs.first.focus()
    page.keyboard.press("ArrowDown")
    expect(runs.nth(1)).to_be_focused()
    camera.shoot("sidebar")
    page.locator('select.jp-kfjupyter-runs-filter[name="status"]').select_option("failed")
    expect(runs).to_have_count(1)
    camera.shoot("sidebar-filtered")
    page.locator("input.jp-kfjupyter-runs-search").fill("no run is called this")
    expect(page.locator(".jp-kfjupyter-runs-message")).to_be_visible()
    camera.shoot("sidebar-empty")
    page.locator("input.jp-kfjupyter-runs-search").fill("")
    page.locator('select.jp-kfjupyter-runs-filter[name="status"]').select_option("")

    # Compare the three selected runs.
    page.locator("button.jp-kfjupyter-compare-button").click()
    compare = page.locator(".jp-kfjupyter-compare")
    expect(compare).to_be_visible(timeout=15_000)
    expect(compare.locator("figure.jp-kfjupyter-vega .jp-RenderedVegaLite svg").first).to_be_visible(
        timeout=15_000
    )
    page.locator(SIDEBAR_TAB).click()
    camera.shoot("compare")
    camera.shoot("compare-charts", compare.locator("figure.jp-kfjupyter-vega").last)
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").click()

    # The run detail of a succeeded run: graph, steps, log, metrics, artifacts.
    detail = open_detail(page, tour.succeeded)
    expect(detail.locator("g.jp-kfjupyter-dag-node")).to_have_count(4)
    expect(detail.locator("button.jp-kfjupyter-rerun")).to_be_visible()
    detail.locator('tr.jp-kfjupyter-step[data-step="train_model"]').click()
    expect(detail.locator("pre.jp-kfjupyter-log")).to_contain_text("trained for 5 epochs")
    camera.shoot("detail-succeeded")
    camera.shoot("detail-succeeded-log", detail.locator("pre.jp-kfjupyter-log"))
    expect(detail.locator("figure.jp-kfjupyter-vega .jp-RenderedVegaLite svg")).to_have_count(
        2, timeout=15_000
    )
    # A metric logged once is its number, not a chart.
    expect(
        detail.locator('.jp-kfjupyter-metric-single[data-metric="auc"] .jp-kfjupyter-metric-value')
    ).to_have_text("0.81")
    camera.shoot("detail-succeeded-metrics", detail.locator("figure.jp-kfjupyter-vega").last)
    figure = detail.locator("img.jp-kfjupyter-figure")
    expect(figure).to_have_count(1)
    figure.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=figure.element_handle())
    expect(detail.locator("table.jp-kfjupyter-head").first).to_be_visible()
    camera.shoot("detail-succeeded-artifacts", detail.locator("table.jp-kfjupyter-head").first)
    camera.shoot("detail-succeeded-figure", figure)
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").click()

    # A failed run, a cached re-run, a running run, a training job and a KFP-tracked run.
    detail = open_detail(page, tour.failed)
    expect(detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")).to_have_text("failed")
    detail.locator('tr.jp-kfjupyter-step[data-step="validate"]').click()
    expect(detail.locator("pre.jp-kfjupyter-log")).to_contain_text("ValueError")
    # The step that broke and the one it kept from running look different, with a legend.
    expect(detail.locator('g.jp-kfjupyter-dag-node[data-step="publish"]')).to_have_attribute(
        "data-status", "upstream_failed"
    )
    expect(detail.locator(".jp-kfjupyter-dag-legend li")).to_have_count(2)
    camera.shoot("detail-failed")
    camera.shoot("detail-failed-log", detail.locator("pre.jp-kfjupyter-log"))

    detail = open_detail(page, tour.cached)
    expect(detail.locator('tr.jp-kfjupyter-step[data-status="cached"]').first).to_be_visible()
    camera.shoot("detail-cached")

    detail = open_detail(page, tour.running)
    expect(detail.locator('g.jp-kfjupyter-dag-node[data-step="crunch"]')).to_have_attribute(
        "data-status", "running", timeout=30_000
    )
    expect(detail.locator("button.jp-kfjupyter-cancel")).to_be_visible()
    detail.locator('tr.jp-kfjupyter-step[data-step="crunch"]').click()
    expect(detail.locator("pre.jp-kfjupyter-log")).to_contain_text("working on batch")
    expect(detail.locator(".jp-kfjupyter-log-live")).to_be_visible()
    detail.locator(".jp-kfjupyter-log-search").fill("batch 1")
    camera.shoot("detail-running")
    camera.shoot("detail-running-log", detail.locator("pre.jp-kfjupyter-log"))

    detail = open_detail(page, tour.training)
    expect(detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-kind-badge")).to_have_text(
        "training"
    )
    detail.locator('tr.jp-kfjupyter-step[data-step="rank-1"]').click()
    expect(detail.locator("pre.jp-kfjupyter-log")).to_contain_text("rank 1 of 2")
    camera.shoot("detail-training")
    expect(detail.locator("figure.jp-kfjupyter-vega .jp-RenderedVegaLite svg").first).to_be_visible(
        timeout=15_000
    )
    # a line per rank, 2 charts, each with a legend entry per rank
    expect(detail.locator("figure.jp-kfjupyter-vega .mark-line path")).to_have_count(4)
    expect(detail.locator("figure.jp-kfjupyter-vega .role-legend-label text")).to_have_count(4)
    camera.shoot("detail-training-metrics", detail.locator("table.jp-kfjupyter-metrics-table"))

    # A training job whose ranks are logging: running, with a duration for the job and each rank.
    detail = open_detail(page, tour.training_live)
    expect(detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")).to_have_text(
        "running", timeout=30_000
    )
    for rank in ("rank-0", "rank-1"):
        row = detail.locator(f'tr.jp-kfjupyter-step[data-step="{rank}"]')
        expect(row).to_have_attribute("data-status", "running")
        expect(row.locator("td").nth(3)).not_to_have_text("—")
    detail.locator('tr.jp-kfjupyter-step[data-step="rank-1"]').click()
    expect(detail.locator("pre.jp-kfjupyter-log")).to_contain_text("rank 1 step=")
    camera.shoot("detail-training-running")

    detail = open_detail(page, tour.kfp)
    expect(detail.locator("g.jp-kfjupyter-dag-node")).to_have_count(3)
    camera.shoot("detail-kfp")
    # Keyboard focus shows a ring on the graph node and the step row it lands on.
    detail.locator('g.jp-kfjupyter-dag-node[data-step="load_customers"]').focus()
    page.keyboard.press("Tab")
    expect(detail.locator('g.jp-kfjupyter-dag-node[data-step="train_model"]')).to_be_focused()
    page.keyboard.press("Enter")
    expect(detail.locator('tr.jp-kfjupyter-step[data-step="train_model"]')).to_have_class(
        "jp-kfjupyter-step jp-mod-selected"
    )
    camera.shoot("detail-kfp-keyboard-node")
    detail.locator('tr.jp-kfjupyter-step[data-step="load_customers"]').focus()
    page.keyboard.press("Tab")
    expect(detail.locator('tr.jp-kfjupyter-step[data-step="train_model"]')).to_be_focused()
    camera.shoot("detail-kfp-keyboard-row")

    # The run dialog and the train dialog.
    page.goto(f"{lab_server.base}/lab/workspaces/tour-nb-{theme}?reset&token={lab_server.token}")
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    write_notebook(
        lab_server.root / "tour" / f"steps-{theme}.ipynb",
        [
            cell("threshold = 0.5\nregion = 'eu-west'", "pipeline-parameters"),
            cell("import math", "imports"),
            cell("values = [1, 2, 3]", "step:load"),
            cell("scores = [v * threshold for v in values]\nresult = undefined_thing + 1", "step:score"),
            cell("print('a look at the scores', scores)", "skip"),
            cell("best = max(scores)"),
            cell(
                "import kfjupyter\nkfjupyter.log_metric('mean', sum(scores) / len(scores))",
                "pipeline-metrics",
            ),
            cell("%kf run --widget"),
        ],
    )
    raw = json.loads((lab_server.root / "tour" / f"steps-{theme}.ipynb").read_text())
    raw["metadata"]["kfjupyter"] = {"volumes": [{"name": "data"}]}
    (lab_server.root / "tour" / f"steps-{theme}.ipynb").write_text(json.dumps(raw))
    panel = open_notebook(page, lab_server, f"tour/steps-{theme}.ipynb")
    cells = cells_of(panel)
    expect(cells.nth(2).locator(".jp-kfjupyter-step-badge")).to_have_text("step · load")
    # every kind of cell has its badge: parameters, set-up, skipped, a cell continuing a step
    expect(cells.nth(0).locator(".jp-kfjupyter-step-badge")).to_have_text("parameters")
    expect(cells.nth(1).locator(".jp-kfjupyter-step-badge")).to_have_text("set-up")
    expect(cells.nth(4).locator(".jp-kfjupyter-step-badge")).to_have_text("skipped")
    expect(cells.nth(5).locator(".jp-kfjupyter-step-badge")).to_have_text("↳ step · score")
    expect(cells.nth(7).locator('.jp-kfjupyter-diagnostic[data-code="KF014"]')).to_be_visible()
    expect(cells.nth(3).locator('.jp-kfjupyter-diagnostic[data-severity="error"]')).to_be_visible(
        timeout=15_000
    )
    expect(panel.locator(".jp-kfjupyter-lint-banner")).to_be_visible(timeout=15_000)
    camera.shoot("notebook-steps")

    panel.locator('.jp-Toolbar [data-command="kfjupyter:run-as-pipeline"]').click()
    form = page.locator(".jp-Dialog .jp-kfjupyter-run-form")
    expect(form).to_be_visible()
    camera.shoot("run-dialog")
    page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)

    cells.nth(3).locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+Alt+k")
    step_form = page.locator(".jp-Dialog .jp-kfjupyter-step-form")
    expect(step_form).to_be_visible()
    step_form.locator('input[name="step"]').fill("Score It")
    expect(step_form.locator(".jp-kfjupyter-form-problem")).not_to_have_text("")
    camera.shoot("step-dialog")
    page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)

    cells.nth(3).locator(".jp-InputPrompt").click()
    page.locator('.jp-SideBar.jp-mod-right li[data-id="jp-property-inspector"]').click()
    section = page.get_by_text("Kubeflow step", exact=True)
    expect(section).to_be_visible()
    section.click()
    inspector = page.locator("#jp-property-inspector")
    expect(inspector.locator('input[id$="/kfjupyter/step"]')).to_be_visible()
    camera.shoot("step-metadata-form")
    page.locator('.jp-SideBar.jp-mod-right li[data-id="jp-property-inspector"]').click()

    palette = open_palette(page)
    palette.locator("input").fill("Train with kfjupyter")
    palette.locator(".lm-CommandPalette-item", has_text="Train with kfjupyter").first.click()
    train_form = page.locator(".jp-Dialog .jp-kfjupyter-train-form")
    expect(train_form).to_be_visible()
    train_form.locator('input[name="script"]').fill("tour/train.py")
    train_form.locator('input[name="name"]').fill("Tour Job")
    page.locator(".jp-Dialog").get_by_role("button", name="Train").click()
    expect(train_form.locator(".jp-kfjupyter-form-problem")).not_to_have_text("")
    camera.shoot("train-dialog")
    page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)
