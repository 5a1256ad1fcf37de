"""``%kf run`` runs what the user sees: a step cell edited but not saved is saved before the run.

Real JupyterLab in Chromium with a real kernel: the step cell is changed in the editor, the
notebook is not saved, and ``%kf run`` in another cell asks the Lab extension to save it first.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.test_notebook_steps import cells_of
from tests.e2e.test_widgets_in_notebook import open_notebook, run_cell, shot
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook


def step_source_on_disk(path: Path) -> str:
    return "".join(json.loads(path.read_text())["cells"][1]["source"])


def test_an_edited_unsaved_step_cell_is_what_kf_run_runs(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    path = write_notebook(
        lab_server.root / "e2e" / "unsaved.ipynb",
        [
            cell("%load_ext kfjupyter", "skip"),
            cell("value = 1", "step:calc"),
            cell("value", "pipeline-metrics"),
            cell("%kf run", "skip"),
        ],
    )
    panel = open_notebook(lab_page, lab_server, "e2e/unsaved.ipynb")
    cells = cells_of(panel)
    run_cell(lab_page, cells.nth(0))
    expect(cells.nth(0).locator(".jp-InputPrompt")).to_have_text("[1]:", timeout=30_000)

    cells.nth(1).locator(".cm-content").click()
    lab_page.keyboard.press("Control+a")
    lab_page.keyboard.type("value = 41 + 1")
    lab_page.keyboard.press("Escape")
    expect(cells.nth(1).locator(".cm-content")).to_have_text("value = 41 + 1")
    time.sleep(0.5)
    assert step_source_on_disk(path) == "value = 1"  # edited in the browser only
    shot(lab_page, output_path, "unsaved-step-edited.png")

    run_cell(lab_page, cells.nth(3))
    output = cells.nth(3).locator(".jp-OutputArea")
    expect(output).to_contain_text("succeeded", timeout=90_000)
    expect(output).to_contain_text("value = 42")
    expect(output).to_contain_text("calc: running")
    expect(output).not_to_contain_text("warning")
    assert step_source_on_disk(path) == "value = 41 + 1"  # the extension saved it first
    shot(lab_page, output_path, "unsaved-step-run.png", cells.nth(3))
