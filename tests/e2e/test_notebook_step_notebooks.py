"""A step that runs another notebook, in real JupyterLab: lint on its cell, and the step dialog keeps it."""

from __future__ import annotations

import nbformat
from playwright.sync_api import Page, expect

from tests.e2e.test_notebook_steps import cells_of, open_notebook, saved_notebook, shot
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook


def test_a_notebook_step_is_linted_and_survives_the_step_dialog(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    folder = lab_server.root / "e2e" / "nbsteps"
    write_notebook(folder / "prep.ipynb", [cell("n = 3", "parameters"), cell("rows = list(range(n))")])
    step = nbformat.v4.new_code_cell("# runs prep.ipynb")
    step.metadata["kfjupyter"] = {
        "step": "prep",
        "notebook": "prep.ipynb",
        "outputs": ["rows"],
        "parameters": ["n", "lr"],
    }
    path = write_notebook(
        folder / "host.ipynb",
        [cell("n = 5\nlr = 0.1", "pipeline-parameters"), step, cell("total = sum(rows)", "step:report")],
    )
    panel = open_notebook(lab_page, lab_server, "e2e/nbsteps/host.ipynb")
    cells = cells_of(panel)
    expect(cells.nth(1).locator(".jp-kfjupyter-step-badge")).to_have_text("step · prep")
    # lr is a pipeline parameter that prep.ipynb does not have: an error on the step's cell
    marker = cells.nth(1).locator('.jp-kfjupyter-diagnostic[data-code="KF602"]')
    expect(marker).to_have_attribute("data-severity", "error", timeout=20_000)
    shot(lab_page, output_path, "notebook-step-lint.png")

    cells.nth(1).locator(".jp-InputPrompt").click()
    cells.nth(1).locator('.jp-cell-toolbar [data-command="kfjupyter:mark-step"]').click()
    dialog = lab_page.locator(".jp-Dialog .jp-kfjupyter-step-form")
    expect(dialog.locator('input[name="step"]')).to_have_value("prep")
    dialog.locator('input[name="memory"]').fill("2Gi")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Save step").click()
    expect(lab_page.locator(".jp-Dialog")).to_have_count(0)
    lab_page.keyboard.press("Control+s")
    saved = saved_notebook(path, lambda nb: "resources" in nb["cells"][1]["metadata"]["kfjupyter"])
    assert saved["cells"][1]["metadata"]["kfjupyter"] == {
        "step": "prep",
        "notebook": "prep.ipynb",
        "outputs": ["rows"],
        "parameters": ["n", "lr"],
        "resources": {"memory": "2Gi"},
    }
