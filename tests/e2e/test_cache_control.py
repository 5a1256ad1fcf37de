"""Cache control has one name and one shape in the property inspector and the step dialog, in real
JupyterLab and Chromium, light and dark: "Cache: Default / Reuse cached outputs / Always run"."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.test_notebook_steps import cells_of, open_notebook, saved_notebook
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook

CHOICES = ["Default", "Reuse cached outputs", "Always run"]


def test_cache_reads_the_same_in_the_inspector_and_the_step_dialog(
    theme: str, lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    folder = Path(output_path) / "cache-control"
    folder.mkdir(parents=True, exist_ok=True)
    step = cell("x = 1")
    step.metadata["kfjupyter"] = {"step": "train"}
    path = write_notebook(lab_server.root / "e2e-cache" / f"cache-{theme}.ipynb", [step])
    panel = open_notebook(lab_page, lab_server, f"e2e-cache/cache-{theme}.ipynb")
    cells_of(panel).nth(0).locator(".jp-InputPrompt").click()
    lab_page.locator('.jp-SideBar.jp-mod-right li[data-id="jp-property-inspector"]').click()
    lab_page.get_by_text("Kubeflow step", exact=True).click()
    inspector = lab_page.locator("#jp-property-inspector")
    select = inspector.locator('select[id$="/kfjupyter/cache"]')
    expect(select).to_be_visible()
    expect(select.locator("option")).to_have_text(CHOICES)
    expect(inspector.get_by_text("Cache", exact=True)).to_be_visible()
    select.select_option(label="Always run")
    lab_page.keyboard.press("Control+s")
    saved = saved_notebook(path, lambda nb: nb["cells"][0]["metadata"]["kfjupyter"].get("cache") is False)
    assert saved["cells"][0]["metadata"]["kfjupyter"] == {"step": "train", "cache": False}
    # The inspector's form re-renders after the save; scroll in one step in the page (a
    # scroll_into_view_if_needed can find the select detached between its checks).
    expect(select.locator("option:checked")).to_have_text("Always run")
    select.evaluate("element => element.scrollIntoView({block: 'nearest'})")
    lab_page.screenshot(path=str(folder / f"inspector-{theme}.png"))

    # the step dialog names the same three choices and shows the one the inspector wrote
    cells_of(panel).nth(0).locator(".jp-InputPrompt").click()
    lab_page.keyboard.press("Control+Alt+k")
    form = lab_page.locator(".jp-Dialog .jp-kfjupyter-step-form")
    expect(form).to_be_visible()
    dialog_select = form.locator('select[name="cache"]')
    expect(dialog_select.locator("option")).to_have_text(CHOICES)
    expect(dialog_select).to_have_value("off")
    expect(form.get_by_text("Cache", exact=True)).to_be_visible()
    lab_page.screenshot(path=str(folder / f"dialog-{theme}.png"))
    dialog_select.select_option(label="Default")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Save step").click()
    expect(lab_page.locator(".jp-Dialog")).to_have_count(0)
    expect(select).to_have_value("")  # the inspector follows: back to Default
    lab_page.keyboard.press("Control+s")
    saved = saved_notebook(path, lambda nb: "cache" not in nb["cells"][0]["metadata"]["kfjupyter"])
    assert saved["cells"][0]["metadata"]["kfjupyter"]["step"] == "train"
