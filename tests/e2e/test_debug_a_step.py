"""Debugging a step in real JupyterLab and Chromium: the plan in the Run dialog, a failed step's
inputs loaded into the notebook's kernel, and Re-run from here on the graph; light and dark."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from playwright.sync_api import Page, expect

from tests.e2e.test_notebook_steps import open_notebook, shot
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import start_notebook_run, wait_until_ended

SIDEBAR_TAB = '.jp-SideBar.jp-mod-left li[data-id="jp-kfjupyter-sidebar"]'


def pipeline(lab: LabServer, name: str) -> Path:
    return write_notebook(
        lab.root / "e2e" / f"{name}.ipynb",
        [
            cell("import numpy as np", "imports"),
            cell("scale = 2", "pipeline-parameters"),
            cell(f"%%step load\ndata = np.arange(4.0)  # {name}"),
            cell("%%step prep\nx = data * scale"),
            cell("%%step train\nmodel = float(x.sum())\nassert model < 0, 'the model is not negative'"),
        ],
    )


def set_cell(nb: Path, index: int, source: str) -> None:
    book = nbformat.read(str(nb), as_version=4)
    book.cells[index].source = source
    nbformat.write(book, str(nb))


def test_the_run_dialog_shows_the_plan_before_start(
    theme: str, lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    nb = pipeline(lab_server, f"plan-{theme}")
    first = start_notebook_run(lab_server, f"e2e/plan-{theme}.ipynb")
    assert wait_until_ended(lab_server, first) == "failed"
    set_cell(nb, 4, "%%step train\nmodel = -float(x.sum())")

    panel = open_notebook(lab_page, lab_server, f"e2e/plan-{theme}.ipynb")
    expect(lab_page.locator("body")).to_have_attribute(
        "data-jp-theme-light", "true" if theme == "light" else "false", timeout=30_000
    )
    panel.locator('.jp-Toolbar [data-command="kfjupyter:run-as-pipeline"]').click()
    form = lab_page.locator(".jp-Dialog .jp-kfjupyter-run-form")
    plan = form.locator(".jp-kfjupyter-plan")
    expect(plan.locator(".jp-kfjupyter-plan-status")).to_have_text(
        "1 step will run, 2 come from the cache", timeout=30_000
    )
    expect(plan.locator('tr[data-step="load"]')).to_have_attribute("data-action", "cached")
    expect(plan.locator('tr[data-step="prep"]')).to_have_attribute("data-action", "cached")
    train = plan.locator('tr[data-step="train"]')
    expect(train).to_have_attribute("data-action", "run")
    # The server says "cell 4" (from 0); the dialog counts as JupyterLab does, from 1.
    expect(train.locator(".jp-kfjupyter-plan-reasons")).to_have_text(f"cell 5 changed since run {first}")
    shot(lab_page, output_path, f"plan-in-run-dialog-{theme}.png")

    form.locator('input[data-parameter="scale"]').fill("3")
    expect(plan.locator(".jp-kfjupyter-plan-status")).to_have_text(
        "2 steps will run, 1 comes from the cache", timeout=30_000
    )
    expect(plan.locator('tr[data-step="prep"] .jp-kfjupyter-plan-reasons')).to_have_text(
        f"parameter 'scale' changed (2 -> 3) since run {first}"
    )
    form.locator('input[name="no_cache"]').check()
    expect(plan.locator('tr[data-step="load"] .jp-kfjupyter-plan-reasons')).to_have_text(
        "caching is off for this run (--no-cache)", timeout=30_000
    )
    shot(lab_page, output_path, f"plan-after-changes-{theme}.png")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()
    expect(form).to_have_count(0)


def test_load_a_failed_steps_inputs_then_rerun_from_it(
    theme: str, lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    name = f"debug-{theme}"
    nb = pipeline(lab_server, name)
    failed = start_notebook_run(lab_server, f"e2e/{name}.ipynb")
    assert wait_until_ended(lab_server, failed) == "failed"
    page = lab_page
    page.goto(f"{lab_server.base}/lab/workspaces/{name}?reset&token={lab_server.token}")
    expect(page.locator("body")).to_have_attribute(
        "data-jp-theme-light", "true" if theme == "light" else "false", timeout=30_000
    )
    page.locator(SIDEBAR_TAB).click()
    page.locator(f'li.jp-kfjupyter-run[data-run-id="{failed}"]').click()
    detail = page.locator(f'.jp-kfjupyter-run-detail[data-run-id="{failed}"]')
    expect(detail).to_be_visible(timeout=15_000)
    page.locator(SIDEBAR_TAB).click()

    bar = detail.locator(".jp-kfjupyter-step-actions")
    expect(bar).to_be_hidden()
    detail.locator('g.jp-kfjupyter-dag-node[data-step="train"]').click()
    expect(bar).to_be_visible()
    expect(bar.locator(".jp-kfjupyter-step-actions-label")).to_have_text("Step train:")
    shot(page, output_path, f"step-actions-{theme}.png")

    # Load inputs into kernel: the run's notebook opens and its kernel gets the step's inputs.
    bar.get_by_role("button", name="Load inputs into kernel").click()
    toast = page.locator(".Toastify__toast", has_text=f"Loaded into e2e/{name}.ipynb: x (step train)")
    expect(toast).to_be_visible(timeout=60_000)
    notebook = page.locator(".jp-NotebookPanel:visible")
    expect(notebook).to_be_visible()
    last = notebook.locator(".jp-Cell").last
    last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # a new cell below, in the notebook's own kernel
    editor = notebook.locator(".jp-Cell").last.locator(".cm-content")
    editor.click()
    page.keyboard.type("print('x is', x.tolist(), type(x).__name__)")
    page.keyboard.press("Shift+Enter")
    expect(
        notebook.locator(".jp-OutputArea-output", has_text="x is [0.0, 2.0, 4.0, 6.0] memmap")
    ).to_be_visible(timeout=30_000)
    shot(page, output_path, f"inputs-loaded-in-kernel-{theme}.png")

    # Fix the cell (on disk: the open notebook is not saved over it) and re-run from the failed step.
    set_cell(nb, 2, f"%%step load\ndata = np.arange(5.0)  # {name}, changed after the run")
    set_cell(nb, 4, "%%step train\nmodel = -float(x.sum())")
    page.locator(f'.lm-TabBar-tab:has-text("#{failed[-4:]}")').first.click()
    detail.locator('g.jp-kfjupyter-dag-node[data-step="train"]').click()
    bar.get_by_role("button", name="Re-run from here").click()
    second = page.locator(f'.jp-kfjupyter-run-detail:not([data-run-id="{failed}"]):visible')
    expect(second).to_be_visible(timeout=30_000)
    again = second.get_attribute("data-run-id")
    assert again and again != failed
    assert wait_until_ended(lab_server, again) == "succeeded"
    expect(second.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")).to_have_text(
        "succeeded", timeout=30_000
    )
    expect(second.locator('tr.jp-kfjupyter-step[data-step="load"] td').nth(2)).to_have_text("yes")
    expect(second.locator('tr.jp-kfjupyter-step[data-step="prep"] td').nth(2)).to_have_text("yes")
    expect(second.locator('tr.jp-kfjupyter-step[data-step="train"] td').nth(2)).to_have_text("no")
    status, body = lab_server.request(f"/kfjupyter/api/runs/{again}", token=lab_server.token)
    assert status == 200, body
    # load was taken from the failed run (its cell changed since, so the cache could not have it)
    assert {s["name"]: (s["status"], s["cached"]) for s in body["steps"]} == {
        "load": ("cached", True),
        "prep": ("cached", True),
        "train": ("succeeded", False),
    }, json.dumps(body["steps"])
    shot(page, output_path, f"rerun-from-here-{theme}.png")
