"""Notebook steps in real JupyterLab and Chromium: the step dialog, live lint markers, run as pipeline."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_runs_sidebar import open_palette
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook


def open_notebook(page: Page, lab: LabServer, path: str) -> Locator:
    """Open ``path`` alone in a fresh workspace and wait until the notebook is linted and idle."""
    workspace = Path(path).stem
    page.goto(f"{lab.base}/lab/workspaces/{workspace}/tree/{path}?token={lab.token}")
    panel = page.locator(".jp-NotebookPanel.jp-kfjupyter-linted:visible")
    expect(panel).to_be_visible(timeout=30_000)
    indicator = panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
    expect(indicator.first).to_be_attached(timeout=60_000)
    return panel


def cells_of(panel: Locator) -> Locator:
    return panel.locator(".jp-Notebook > .jp-Cell, .jp-WindowedPanel-viewport > .jp-Cell")


def saved_notebook(path: Path, check: Any, timeout: float = 15) -> dict[str, Any]:
    """Read the .ipynb from disk until ``check(notebook)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        notebook: dict[str, Any] = json.loads(path.read_text())
        if check(notebook):
            return notebook
        assert time.monotonic() < deadline, f"{path} never satisfied the check: {notebook['cells']}"
        time.sleep(0.2)


def shot(page: Page, output_path: str, name: str) -> None:
    Path(output_path).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(output_path) / name))


def test_mark_a_cell_as_step_through_the_dialog_saves_its_metadata(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    path = write_notebook(
        lab_server.root / "e2e" / "mark-step.ipynb",
        [
            cell("n = 3", "pipeline-parameters"),
            cell("data = list(range(n))", "step:load"),
            cell("total = sum(data)\nprint('total', total)"),
        ],
    )
    panel = open_notebook(lab_page, lab_server, "e2e/mark-step.ipynb")
    cells = cells_of(panel)
    expect(cells.nth(1).locator(".jp-kfjupyter-step-badge")).to_have_text("step · load")
    # An untagged cell below a step continues it, and says so.
    expect(cells.nth(2).locator('.jp-kfjupyter-step-badge[data-kind="continues"]')).to_have_text(
        "↳ step · load"
    )

    cells.nth(2).locator(".jp-InputPrompt").click()
    button = cells.nth(2).locator('.jp-cell-toolbar [data-command="kfjupyter:mark-step"]')
    expect(button).to_be_visible()
    button.click()
    dialog = lab_page.locator(".jp-Dialog .jp-kfjupyter-step-form")
    expect(dialog).to_be_visible()
    dialog.locator('input[name="step"]').fill("Sum It")
    expect(dialog.locator(".jp-kfjupyter-form-problem")).to_contain_text('try "sum_it"')
    shot(lab_page, output_path, "step-dialog-invalid-name.png")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Save step").click()
    # An invalid name is not saved: the dialog comes back with the reason.
    expect(dialog.locator(".jp-kfjupyter-form-problem")).to_contain_text("not a valid step name")
    dialog.locator('input[name="step"]').fill("summarize")
    expect(dialog.locator(".jp-kfjupyter-form-problem")).to_have_text("")
    dialog.locator('select[name="after"]').select_option(["load"])
    dialog.locator('input[name="gpu"]').fill("1")
    dialog.locator('input[name="memory"]').fill("2Gi")
    dialog.locator('input[name="retries"]').fill("2")
    dialog.locator('select[name="cache"]').select_option("off")
    shot(lab_page, output_path, "step-dialog.png")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Save step").click()
    expect(lab_page.locator(".jp-Dialog")).to_have_count(0)

    expect(cells.nth(2).locator(".jp-kfjupyter-step-badge")).to_have_text("step · summarize", timeout=10_000)
    # One GPU is asked for; a local run does not attach it, and lint says so on the cell.
    expect(cells.nth(2).locator('.jp-kfjupyter-diagnostic[data-code="KF401"]')).to_have_attribute(
        "data-severity", "info"
    )
    lab_page.keyboard.press("Control+s")
    saved = saved_notebook(path, lambda nb: "kfjupyter" in nb["cells"][2]["metadata"])
    assert saved["cells"][2]["metadata"]["kfjupyter"] == {
        "step": "summarize",
        "after": ["load"],
        "resources": {"memory": "2Gi", "gpu": 1},
        "retries": 2,
        "cache": False,
    }
    shot(lab_page, output_path, "step-badges.png")


def test_mark_step_works_from_the_keyboard(lab_page: Page, lab_server: LabServer) -> None:
    path = write_notebook(lab_server.root / "e2e" / "keys.ipynb", [cell("x = 1")])
    panel = open_notebook(lab_page, lab_server, "e2e/keys.ipynb")
    only = cells_of(panel).nth(0)
    only.locator(".jp-InputPrompt").click()
    lab_page.keyboard.press("Control+Alt+k")
    name = lab_page.locator('.jp-Dialog .jp-kfjupyter-step-form input[name="step"]')
    expect(name).to_be_focused()
    lab_page.keyboard.type("first")
    lab_page.keyboard.press("Enter")
    expect(only.locator(".jp-kfjupyter-step-badge")).to_have_text("step · first", timeout=10_000)
    lab_page.keyboard.press("Control+s")
    saved = saved_notebook(path, lambda nb: "kfjupyter" in nb["cells"][0]["metadata"])
    assert saved["cells"][0]["metadata"]["kfjupyter"] == {"step": "first"}


def test_set_kind_command_writes_a_kale_tag(lab_page: Page, lab_server: LabServer, output_path: str) -> None:
    path = write_notebook(
        lab_server.root / "e2e" / "kinds.ipynb",
        [cell("x = 1", "step:first"), cell("import math")],
    )
    panel = open_notebook(lab_page, lab_server, "e2e/kinds.ipynb")
    second = cells_of(panel).nth(1)
    expect(second.locator('.jp-kfjupyter-step-badge[data-kind="continues"]')).to_have_text("↳ step · first")
    second.locator(".jp-InputPrompt").click()
    palette = open_palette(lab_page)
    palette.locator("input").fill("Kubeflow: Mark Cell as imports")
    expect(palette.locator("li.lm-mod-active")).to_contain_text("Mark Cell as imports")
    palette.locator("input").press("Enter")
    expect(second.locator('.jp-kfjupyter-step-badge[data-kind="setup"]')).to_have_text(
        "set-up", timeout=10_000
    )
    shot(lab_page, output_path, "kind-imports.png")
    second.locator(".jp-InputPrompt").click()
    lab_page.keyboard.press("Control+s")
    saved = saved_notebook(path, lambda nb: nb["cells"][1]["metadata"].get("tags") == ["imports"])
    assert saved["cells"][0]["metadata"]["tags"] == ["step:first"]


def test_an_undefined_name_gets_a_marker_that_goes_when_fixed(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(
        lab_server.root / "e2e" / "live-lint.ipynb",
        [cell("n = 3", "pipeline-parameters"), cell("data = [n]", "step:load"), cell("")],
    )
    panel = open_notebook(lab_page, lab_server, "e2e/live-lint.ipynb")
    target = cells_of(panel).nth(2)
    target.locator(".cm-content").click()
    lab_page.keyboard.type("result = undefined_thing + 1")
    marker = target.locator('.jp-kfjupyter-diagnostic[data-severity="error"]')
    expect(marker).to_have_count(1, timeout=10_000)
    expect(marker).to_have_attribute("data-code", "KF101")
    title = marker.get_attribute("title") or ""
    assert "undefined_thing" in title, title
    shot(lab_page, output_path, "live-lint-error.png")

    lab_page.keyboard.press("Control+a")
    lab_page.keyboard.type("result = n + 1")
    expect(target.locator(".jp-kfjupyter-diagnostic")).to_have_count(0, timeout=10_000)
    expect(cells_of(panel).nth(1).locator(".jp-kfjupyter-step-badge")).to_have_text("step · load")
    shot(lab_page, output_path, "live-lint-fixed.png")


def test_run_as_pipeline_from_the_toolbar_with_a_parameter_override(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(
        lab_server.root / "e2e" / "toolbar-run.ipynb",
        [
            cell("who = 'nobody'\ntimes = 1", "pipeline-parameters"),
            cell("for _ in range(times):\n    print('hello from', who)", "step:greet"),
        ],
    )
    panel = open_notebook(lab_page, lab_server, "e2e/toolbar-run.ipynb")
    panel.locator('.jp-Toolbar [data-command="kfjupyter:run-as-pipeline"]').click()
    form = lab_page.locator(".jp-Dialog .jp-kfjupyter-run-form")
    expect(form).to_be_visible()
    expect(form.locator('input[data-parameter="who"]')).to_have_value("nobody")
    expect(form.locator('input[data-parameter="times"]')).to_have_value("1")
    form.locator('input[data-parameter="who"]').fill("the toolbar")
    form.locator('input[name="no_cache"]').check()
    shot(lab_page, output_path, "run-dialog.png")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Run").click()

    detail = lab_page.locator(".jp-kfjupyter-run-detail")
    expect(detail).to_be_visible(timeout=30_000)
    expect(detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")).to_have_text(
        "succeeded", timeout=120_000
    )
    run_id = detail.get_attribute("data-run-id")
    status, body = lab_server.request(f"/kfjupyter/api/runs/{run_id}", token=lab_server.token)
    assert status == 200, body
    assert body["parameters"]["who"] == "the toolbar"
    detail.locator('tr.jp-kfjupyter-step[data-step="greet"]').click()
    expect(detail.locator("pre.jp-kfjupyter-log")).to_contain_text("hello from the toolbar")
    shot(lab_page, output_path, "run-as-pipeline.png")


def test_the_property_inspector_has_a_kubeflow_step_form(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    step = cell("x = 1")
    step.metadata["kfjupyter"] = {"step": "train", "after": ["load"], "resources": {"gpu": 1}}
    write_notebook(lab_server.root / "e2e" / "form.ipynb", [cell("a = 1", "step:load"), step])
    panel = open_notebook(lab_page, lab_server, "e2e/form.ipynb")
    cells_of(panel).nth(1).locator(".jp-InputPrompt").click()
    lab_page.locator('.jp-SideBar.jp-mod-right li[data-id="jp-property-inspector"]').click()
    section = lab_page.get_by_text("Kubeflow step", exact=True)
    expect(section).to_be_visible()
    section.click()
    inspector = lab_page.locator("#jp-property-inspector")
    expect(inspector.locator('input[id$="/kfjupyter/step"]')).to_have_value("train")
    expect(inspector.locator('input[id$="/kfjupyter/resources/gpu"]')).to_have_value("1")
    shot(lab_page, output_path, "step-metadata-form.png")
