"""A failed step in real JupyterLab and Chromium, light and dark: its log holds the traceback once,
stderr set apart, and the cell is named one way, as JupyterLab counts it, as a link to the cell."""

from __future__ import annotations

from pathlib import Path

import nbformat
from playwright.sync_api import Page, expect

from tests.e2e.test_visual_tour import open_detail
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import start_notebook_run, wait_until_ended


def test_the_failing_cell_is_one_link_and_its_traceback_is_shown_once(
    theme: str, lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    path = f"e2e-failed/broken-{theme}.ipynb"
    write_notebook(
        lab_server.root / path,
        [
            nbformat.v4.new_markdown_cell("# Checks"),
            cell("rows = [1, -2, -3]", "step:extract"),
            cell(
                "def check(r):\n    raise ValueError(f'{sum(v < 0 for v in r)} negative values')", "functions"
            ),
            cell("print('validating', len(rows))\ncheck(rows)", "step:validate"),
        ],
    )
    run_id = start_notebook_run(lab_server, path, no_cache=True)
    assert wait_until_ended(lab_server, run_id) == "failed"
    lab_page.goto(f"{lab_server.base}/lab/workspaces/failed-{theme}?reset&token={lab_server.token}")
    lab_page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    detail = open_detail(lab_page, run_id)
    row = detail.locator('tr.jp-kfjupyter-step[data-step="validate"]')
    # the server counts cells from 0 ("cell 3"); JupyterLab shows the fourth cell as "cell 4"
    expect(row.locator(".jp-kfjupyter-step-error")).to_contain_text(
        "cell 4 of step 'validate' raised ValueError"
    )
    row.click()
    log = detail.locator("pre.jp-kfjupyter-log")
    expect(log).to_contain_text("2 negative values")
    expect(log).to_contain_text('File "cell 4", line 2, in <module>')
    expect(log).to_contain_text('File "cell 3", line 2, in check')
    text = log.inner_text()
    assert text.count("Traceback (most recent call last)") == 1
    assert "ipython-input" not in text and "Cell In[" not in text
    stderr = log.locator(".jp-kfjupyter-log-stderr")
    expect(stderr.first).to_contain_text("cell 4 of step 'validate'")
    expect(log.locator(".jp-kfjupyter-log-stderr", has_text="validating")).to_have_count(
        0
    )  # stdout stays plain
    colours = lab_page.evaluate(
        """log => [...log.childNodes].map(n => n.nodeType === 1 ? getComputedStyle(n).color : null)""",
        log.element_handle(),
    )
    assert len({c for c in colours if c}) == 1  # every stderr span has one colour...
    plain = lab_page.evaluate("log => getComputedStyle(log).color", log.element_handle())
    assert plain not in colours  # ...that differs from stdout's
    folder = Path(output_path) / "failed-step"
    folder.mkdir(parents=True, exist_ok=True)
    log.scroll_into_view_if_needed()
    lab_page.screenshot(path=str(folder / f"failed-step-{theme}.png"))
    # the cell link in the step's error opens the notebook at that cell
    row.locator(".jp-kfjupyter-cell-link").first.click()
    notebook = lab_page.locator(".jp-NotebookPanel:visible")
    expect(notebook.locator(".jp-Cell.jp-mod-active")).to_contain_text("check(rows)", timeout=30_000)
