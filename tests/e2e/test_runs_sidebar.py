"""Runs in the Kubeflow sidebar and the run detail panel, in real JupyterLab and real Chromium."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import wait_until_ended


def open_sidebar(page: Page) -> None:
    """Show the Kubeflow sidebar (a workspace may have restored it open already)."""
    if not page.locator("#jp-kfjupyter-sidebar").is_visible():
        page.locator('.jp-SideBar.jp-mod-left li[data-id="jp-kfjupyter-sidebar"]').click()
    expect(page.locator("#jp-kfjupyter-sidebar")).to_be_visible()


def test_a_run_shows_in_the_sidebar_and_its_step_log_opens(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(
        lab_server.root / "e2e" / "greeting.ipynb",
        [
            cell("who = 'browser'", "pipeline-parameters"),
            cell("print('hello from the', who)", "step:greet"),
            cell("print('and goodbye')", "step:wave"),
        ],
    )
    status, body = lab_server.request(
        "/kfjupyter/api/notebooks/run",
        token=lab_server.token,
        method="POST",
        body={"path": "e2e/greeting.ipynb", "no_cache": True},
    )
    assert status == 202, body
    run_id = body["run_id"]
    assert wait_until_ended(lab_server, run_id) == "succeeded"

    open_sidebar(lab_page)
    item = lab_page.locator(f'li.jp-kfjupyter-run[data-run-id="{run_id}"]')
    expect(item).to_be_visible(timeout=15_000)
    expect(item.locator(".jp-kfjupyter-badge")).to_have_text("succeeded")
    expect(item.locator(".jp-kfjupyter-run-meta")).to_contain_text("just now")
    Path(output_path).mkdir(parents=True, exist_ok=True)
    lab_page.screenshot(path=str(Path(output_path) / "runs-sidebar.png"))

    item.click()
    detail = lab_page.locator(f'.jp-kfjupyter-run-detail[data-run-id="{run_id}"]')
    expect(detail).to_be_visible()
    expect(detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")).to_have_text("succeeded")
    steps = detail.locator("tr.jp-kfjupyter-step")
    expect(steps).to_have_count(2)
    expect(steps.locator(".jp-kfjupyter-step-name")).to_have_text(["greet", "wave"])
    greet = detail.locator('tr.jp-kfjupyter-step[data-step="greet"]')
    greet.click()
    expect(greet).to_have_class("jp-kfjupyter-step jp-mod-selected")
    expect(detail.locator("pre.jp-kfjupyter-log")).to_contain_text("hello from the browser")
    detail.locator('tr.jp-kfjupyter-step[data-step="wave"]').click()
    log = detail.locator("pre.jp-kfjupyter-log")
    expect(log).to_contain_text("and goodbye")
    expect(log).not_to_contain_text("hello from the browser")
    shot = Path(output_path) / "run-detail.png"
    lab_page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def open_palette(page: Page) -> Locator:
    """Open the command palette; a late focus change can close it, so try a few times."""
    palette = page.locator("#command-palette")
    for _ in range(5):
        page.keyboard.press("Control+Shift+C")
        try:
            expect(palette).to_be_visible(timeout=2_000)
            page.wait_for_timeout(300)
            expect(palette).to_be_visible(timeout=100)
            return palette
        except AssertionError:
            page.keyboard.press("Escape")
    raise AssertionError("the command palette did not stay open")


def test_run_notebook_command_runs_the_open_notebook(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(
        lab_server.root / "e2e" / "from-command.ipynb", [cell("print('ran by command')", "step:only")]
    )
    lab_page.goto(f"{lab_server.base}/lab/tree/e2e/from-command.ipynb?token={lab_server.token}")
    expect(lab_page.locator(".jp-NotebookPanel")).to_be_visible(timeout=30_000)
    # Let the kernel settle first: its start moves focus, which would close the palette.
    expect(lab_page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_be_attached(
        timeout=60_000
    )
    lab_page.locator(".jp-NotebookPanel .jp-Cell").first.click()
    palette = open_palette(lab_page)
    palette.locator("input").fill("Kubeflow: Run as Pipeline with Defaults")
    item = palette.locator('li[data-command="kfjupyter:run-notebook"]')
    expect(item).to_have_class(re.compile(r"\blm-mod-active\b"))
    expect(item).not_to_have_class(re.compile(r"\blm-mod-disabled\b"))
    palette.locator("input").press("Enter")

    detail = lab_page.locator(".jp-kfjupyter-run-detail")
    expect(detail).to_be_visible(timeout=30_000)
    run_id = detail.get_attribute("data-run-id")
    assert run_id
    assert wait_until_ended(lab_server, run_id) == "succeeded"
    expect(detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")).to_have_text(
        "succeeded", timeout=15_000
    )
    detail.locator('tr.jp-kfjupyter-step[data-step="only"]').click()
    expect(detail.locator("pre.jp-kfjupyter-log")).to_contain_text("ran by command")
    open_sidebar(lab_page)
    expect(lab_page.locator(f'li.jp-kfjupyter-run[data-run-id="{run_id}"] .jp-kfjupyter-badge')).to_have_text(
        "succeeded", timeout=15_000
    )
    lab_page.screenshot(path=str(Path(output_path) / "run-from-command.png"))
