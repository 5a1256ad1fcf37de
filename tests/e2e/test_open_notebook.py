"""The run detail's "Open notebook" action, in real JupyterLab and real Chromium."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import wait_until_ended

SIDEBAR_TAB = '.jp-SideBar.jp-mod-left li[data-id="jp-kfjupyter-sidebar"]'


def test_open_notebook_opens_the_runs_notebook(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(
        lab_server.root / "e2e" / "open me.ipynb",
        [cell("print('opened from the run detail')", "step:hello")],
    )
    status, body = lab_server.request(
        "/kfjupyter/api/notebooks/run",
        token=lab_server.token,
        method="POST",
        body={"path": "e2e/open me.ipynb", "no_cache": True},
    )
    assert status == 202, body
    run_id = body["run_id"]
    assert wait_until_ended(lab_server, run_id) == "succeeded"

    lab_page.locator(SIDEBAR_TAB).click()
    item = lab_page.locator(f'li.jp-kfjupyter-run[data-run-id="{run_id}"]')
    expect(item).to_be_visible(timeout=15_000)
    item.click()
    detail = lab_page.locator(f'.jp-kfjupyter-run-detail[data-run-id="{run_id}"]')
    expect(detail).to_be_visible()
    button = detail.locator("button.jp-kfjupyter-open-notebook")
    expect(button).to_have_text("Open notebook")
    expect(button).to_have_attribute("title", "Open e2e/open me.ipynb in JupyterLab")
    Path(output_path).mkdir(parents=True, exist_ok=True)
    lab_page.screenshot(path=str(Path(output_path) / "open-notebook-button.png"))

    button.click()
    tab = lab_page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    expect(tab).to_contain_text("open me.ipynb", timeout=30_000)
    panel = lab_page.locator(".jp-NotebookPanel:visible")
    expect(panel).to_be_visible()
    expect(panel.locator(".jp-Cell").first).to_contain_text("opened from the run detail")
    shot = Path(output_path) / "open-notebook.png"
    lab_page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
