"""Every kind of cell is visible in the notebook, in real JupyterLab and Chromium, light and dark.

A parameters cell, a cell that continues the step above, a skipped cell and set-up each get a
badge; ``%load_ext kfjupyter`` above the first step gets none, and a ``%kf run --widget`` cell below
the last step is not part of that step: one quiet info marker says it is left out.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_notebook_steps import cells_of, open_notebook
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook


def test_parameters_continuation_skip_and_kf_cells_show_what_they_are(
    theme: str, lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    path = f"e2e-roles/roles-{theme}.ipynb"
    write_notebook(
        lab_server.root / path,
        [
            cell("%load_ext kfjupyter"),
            cell("import json", "imports"),
            cell("lr = 0.1\nepochs = 2.0", "pipeline-parameters"),
            cell("rows = [1, 2, 3]", "step:load"),
            cell("doubled = [r * 2 for r in rows]"),
            cell("print('a scratch look at', rows)", "skip"),
            cell("total = sum(doubled) * lr * epochs\nprint(json.dumps(total))", "step:train"),
            cell("%kf run --widget"),
        ],
    )
    panel = open_notebook(lab_page, lab_server, path)
    cells = cells_of(panel)
    expect(cells).to_have_count(8)

    def badge(index: int) -> Locator:
        return cells.nth(index).locator(".jp-kfjupyter-step-badge")

    expect(badge(3)).to_have_text("step · load", timeout=30_000)
    expect(badge(0)).to_have_count(0)  # %load_ext kfjupyter: nothing to say
    expect(cells.nth(0).locator(".jp-kfjupyter-diagnostic")).to_have_count(0)
    expect(badge(1)).to_have_attribute("data-kind", "setup")
    expect(badge(2)).to_have_text("parameters")
    expect(badge(4)).to_have_text("↳ step · load")
    expect(badge(4)).to_have_attribute("data-kind", "continues")
    expect(badge(5)).to_have_text("skipped")
    expect(badge(6)).to_have_text("step · train")
    # the %kf cell is not part of step train: no badge, one info marker
    expect(badge(7)).to_have_count(0)
    marker = cells.nth(7).locator(".jp-kfjupyter-diagnostic")
    expect(marker).to_have_count(1)
    expect(marker).to_have_attribute("data-severity", "info")
    expect(marker).to_contain_text("KF014")
    expect(marker).to_contain_text("left out of the pipeline")
    expect(panel.locator(".jp-kfjupyter-diagnostic[data-severity='warning']")).to_have_count(0)
    folder = Path(output_path) / "cell-roles"
    folder.mkdir(parents=True, exist_ok=True)
    lab_page.screenshot(path=str(folder / f"roles-{theme}.png"))
    # The continuation badge leads to the cell that starts its step.
    badge(4).click()
    expect(panel.locator(".jp-Cell.jp-mod-active")).to_contain_text("rows = [1, 2, 3]")
