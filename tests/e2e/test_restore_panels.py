"""Run panels survive a reload of JupyterLab (WidgetTracker + ILayoutRestorer), in real JupyterLab
and Chromium: the run detail and the Kubeflow sidebar come back as they were."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.test_visual_tour import SIDEBAR_TAB, open_detail
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import start_notebook_run, wait_until_ended


def test_an_open_run_detail_is_restored_after_a_reload(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(
        lab_server.root / "e2e-restore" / "kept.ipynb", [cell("x = 1\nprint('kept', x)", "step:one")]
    )
    run_id = start_notebook_run(lab_server, "e2e-restore/kept.ipynb", no_cache=True)
    assert wait_until_ended(lab_server, run_id) == "succeeded"
    workspace = f"{lab_server.base}/lab/workspaces/restore"
    lab_page.goto(f"{workspace}?reset&token={lab_server.token}")
    lab_page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    detail = open_detail(lab_page, run_id)
    expect(detail.locator(".jp-kfjupyter-run-detail-name")).to_have_text("kept", timeout=15_000)
    lab_page.locator(SIDEBAR_TAB).click()  # leave the Kubeflow sidebar open
    expect(lab_page.locator("#jp-kfjupyter-sidebar")).to_be_visible()
    lab_page.wait_for_timeout(1500)  # the workspace is saved shortly after a layout change

    lab_page.goto(f"{workspace}?token={lab_server.token}")
    lab_page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    restored = lab_page.locator(f'.jp-kfjupyter-run-detail[data-run-id="{run_id}"]')
    expect(restored).to_be_visible(timeout=30_000)
    expect(restored.locator(".jp-kfjupyter-run-detail-name")).to_have_text("kept")
    expect(lab_page.locator("#jp-kfjupyter-sidebar")).to_be_visible()
    tab = lab_page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="Run kept")
    expect(tab).to_have_count(1)
    folder = Path(output_path) / "restore"
    folder.mkdir(parents=True, exist_ok=True)
    lab_page.screenshot(path=str(folder / "restored.png"))
