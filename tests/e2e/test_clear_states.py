"""States a user must tell apart, in real JupyterLab and Chromium (light and dark): the step that
failed versus the steps it kept from running, two runs of one notebook, a whole float parameter,
the step dialog's choice of earlier steps, and lint that stays quiet until a cell is marked and
names cells as JupyterLab counts them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_notebook_steps import cells_of, open_notebook
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import start_notebook_run, wait_until_ended

SIDEBAR_TAB = '.jp-SideBar.jp-mod-left li[data-id="jp-kfjupyter-sidebar"]'


@pytest.fixture(scope="module")
def failed_run(lab_server: LabServer) -> str:
    write_notebook(
        lab_server.root / "states" / "broken.ipynb",
        [
            cell("rows = [1, 2, 3]", "step:extract"),
            cell("checked = [r for r in rows if r > 0]\nraise ValueError('bad rows')", "step:validate"),
            cell("print('never', checked)", "step:publish"),
        ],
    )
    run_id = start_notebook_run(lab_server, "states/broken.ipynb", no_cache=True)
    assert wait_until_ended(lab_server, run_id) == "failed"
    return run_id


def shoot(page: Page, output_path: str, name: str, section: Locator | None = None) -> None:
    if section is not None:
        section.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    Path(output_path).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(output_path) / name))


def test_the_failing_step_stands_out_from_the_steps_it_kept_from_running(
    theme: str, failed_run: str, lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    page = lab_page
    page.goto(f"{lab_server.base}/lab/workspaces/states-{theme}?reset&token={lab_server.token}")
    expect(page.locator("body")).to_have_attribute(
        "data-jp-theme-light", "true" if theme == "light" else "false", timeout=30_000
    )
    page.locator(SIDEBAR_TAB).click()
    page.locator(f'li.jp-kfjupyter-run[data-run-id="{failed_run}"]').click()
    detail = page.locator(f'.jp-kfjupyter-run-detail[data-run-id="{failed_run}"]')
    expect(detail).to_be_visible(timeout=15_000)
    page.locator(SIDEBAR_TAB).click()
    failed = detail.locator('g.jp-kfjupyter-dag-node[data-step="validate"]')
    blocked = detail.locator('g.jp-kfjupyter-dag-node[data-step="publish"]')
    expect(failed).to_have_attribute("data-status", "failed")
    expect(blocked).to_have_attribute("data-status", "upstream_failed")

    def style(node: Locator, selector: str, prop: str) -> str:
        return str(node.locator(selector).evaluate(f"e => getComputedStyle(e).{prop}"))

    assert style(failed, "rect", "strokeDasharray") == "none"
    assert style(blocked, "rect", "strokeDasharray") != "none"
    assert style(failed, "rect", "fill") != style(blocked, "rect", "fill")
    failed_badge = detail.locator('tr.jp-kfjupyter-step[data-step="validate"] .jp-kfjupyter-badge')
    blocked_badge = detail.locator('tr.jp-kfjupyter-step[data-step="publish"] .jp-kfjupyter-badge')
    expect(blocked_badge).to_have_text("upstream failed")
    assert failed_badge.evaluate("e => getComputedStyle(e).backgroundColor") != blocked_badge.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    legend = detail.locator(".jp-kfjupyter-dag-legend")
    expect(legend.locator('li[data-status="failed"]')).to_contain_text("the step that broke")
    expect(legend.locator('li[data-status="upstream_failed"]')).to_contain_text("not run")
    shoot(page, output_path, f"failed-root-cause-{theme}.png")


def test_two_runs_of_one_notebook_are_told_apart(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(lab_server.root / "states" / "twice.ipynb", [cell("print('hi')", "step:only")])
    first = start_notebook_run(lab_server, "states/twice.ipynb", no_cache=True)
    assert wait_until_ended(lab_server, first) == "succeeded"
    second = start_notebook_run(lab_server, "states/twice.ipynb", no_cache=True)
    assert wait_until_ended(lab_server, second) == "succeeded"
    page = lab_page
    page.locator(SIDEBAR_TAB).click()
    shorts = []
    for run_id in (first, second):
        item = page.locator(f'li.jp-kfjupyter-run[data-run-id="{run_id}"]')
        expect(item).to_be_visible(timeout=15_000)
        short = item.locator(".jp-kfjupyter-run-short-id")
        expect(short).to_have_text(f"#{run_id.rsplit('-', 1)[-1]}")
        expect(item.locator(".jp-kfjupyter-run-meta-text")).to_contain_text(re.compile(r"\(\d\d:\d\d"))
        shorts.append(short.text_content())
        item.click()
    assert shorts[0] != shorts[1]
    tabs = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tabLabel", has_text="Run twice")
    expect(tabs).to_have_count(2)
    assert sorted(tabs.all_text_contents()) == sorted(f"Run twice {s}" for s in shorts)
    shoot(page, output_path, "two-runs.png")


def test_dialogs_show_floats_and_only_earlier_steps(
    theme: str, lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    name = f"dialogs-{theme}"
    write_notebook(
        lab_server.root / "states" / f"{name}.ipynb",
        [
            cell("lr = 2.0\nepochs = 3", "pipeline-parameters"),
            cell("x = lr * epochs", "step:prepare"),
            cell("y = x + 1", "step:train"),
            cell("z = y * 2", "step:report"),
        ],
    )
    panel = open_notebook(lab_page, lab_server, f"states/{name}.ipynb")
    expect(lab_page.locator("body")).to_have_attribute(
        "data-jp-theme-light", "true" if theme == "light" else "false", timeout=15_000
    )
    cells = cells_of(panel)
    expect(cells.nth(2).locator(".jp-kfjupyter-step-badge")).to_have_text("step · train", timeout=15_000)
    button = panel.locator('.jp-Toolbar [data-command="kfjupyter:run-as-pipeline"]')
    expect(button).to_contain_text("Run as Pipeline")
    button.click()
    form = lab_page.locator(".jp-Dialog .jp-kfjupyter-run-form")
    expect(form.locator('input[name="lr"]')).to_have_value("2.0")
    expect(form.locator('input[name="epochs"]')).to_have_value("3")
    shoot(lab_page, output_path, f"run-dialog-float-{theme}.png")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()
    expect(lab_page.locator(".jp-Dialog")).to_have_count(0)

    cells.nth(2).locator(".jp-InputPrompt").click()
    lab_page.keyboard.press("Control+Alt+k")
    step_form = lab_page.locator(".jp-Dialog .jp-kfjupyter-step-form")
    expect(step_form).to_be_visible()
    expect(step_form.locator('select[name="after"] option')).to_have_text(["prepare"])
    expect(step_form.locator(".jp-kfjupyter-after-note")).to_contain_text("pick several")
    shoot(lab_page, output_path, f"step-dialog-after-{theme}.png")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()


def test_lint_is_quiet_until_a_cell_is_marked_and_links_cells(
    theme: str, lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    scratch = f"scratch-{theme}"
    write_notebook(
        lab_server.root / "states" / f"{scratch}.ipynb", [cell("import math"), cell("print(math.pi)")]
    )
    panel = open_notebook(lab_page, lab_server, f"states/{scratch}.ipynb")
    banner = panel.locator(".jp-kfjupyter-lint-banner")
    expect(banner).to_be_visible(timeout=15_000)
    expect(banner).to_have_attribute("data-severity", "info")
    expect(banner).to_contain_text("KF001")
    lab_page.wait_for_timeout(500)
    expect(panel.locator(".jp-kfjupyter-diagnostic")).to_have_count(0)
    expect(panel.locator('.jp-kfjupyter-step-badge[data-kind="setup"]')).to_have_count(0)
    shoot(lab_page, output_path, f"lint-quiet-{theme}.png")

    name = f"dup-{theme}"
    write_notebook(
        lab_server.root / "states" / f"{name}.ipynb",
        [cell("import math"), cell("x = 1", "step:a"), cell("y = x + 1", "step:b"), cell("z = x", "step:a")],
    )
    panel = open_notebook(lab_page, lab_server, f"states/{name}.ipynb")
    cells = cells_of(panel)
    setup = cells.nth(0).locator('.jp-kfjupyter-diagnostic[data-code="KF004"]')
    expect(setup).to_contain_text("this cell comes before the first marked cell", timeout=15_000)
    again = cells.nth(3).locator('.jp-kfjupyter-diagnostic[data-code="KF202"]')
    expect(again).to_contain_text("declared again in this cell (first in cell 2)")
    expect(panel.locator(".jp-kfjupyter-diagnostic", has_text=re.compile(r"\bcell 0\b"))).to_have_count(0)
    shoot(lab_page, output_path, f"lint-cell-links-{theme}.png")
    cells.nth(3).locator(".jp-InputPrompt").click()
    again.locator('a.jp-kfjupyter-cell-link[data-cell="1"]').click()
    expect(cells.nth(1)).to_have_class(re.compile(r"\bjp-mod-active\b"))


def test_looking_at_a_cell_in_the_property_inspector_writes_nothing(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    step = cell("y = x + 1")
    step.metadata["kfjupyter"] = {"step": "train", "after": ["load"]}
    path = lab_server.root / "states" / "inspect.ipynb"
    write_notebook(path, [cell("x = 1", "step:load"), step, cell("print(y)")])
    panel = open_notebook(lab_page, lab_server, "states/inspect.ipynb")
    cells = cells_of(panel)
    lab_page.locator('.jp-SideBar.jp-mod-right li[data-id="jp-property-inspector"]').click()
    section = lab_page.get_by_text("Kubeflow step", exact=True)
    expect(section).to_be_visible()
    section.click()
    inspector = lab_page.locator("#jp-property-inspector")
    for index in (2, 1, 2):
        cells.nth(index).locator(".jp-InputPrompt").click()
        expect(inspector.locator('input[id$="/kfjupyter/step"]')).to_be_visible()
        lab_page.wait_for_timeout(500)
    expect(inspector.locator('input[id$="/kfjupyter/step"]')).to_have_value("")
    shoot(lab_page, output_path, "inspector-plain-cell.png")
    lab_page.keyboard.press("Control+s")
    expect(panel.locator(".jp-mod-dirty")).to_have_count(0, timeout=10_000)
    lab_page.wait_for_timeout(500)
    saved = json.loads(path.read_text())
    assert "kfjupyter" not in saved["cells"][2]["metadata"], saved["cells"][2]["metadata"]
    assert saved["cells"][1]["metadata"]["kfjupyter"] == {"step": "train", "after": ["load"]}
