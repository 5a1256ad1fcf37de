"""Notebook-wide lint findings in a banner above the cells, in real JupyterLab and Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_notebook_steps import cells_of, open_notebook, shot
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook

THEMES = "/lab/api/settings/@jupyterlab/apputils-extension:themes"


@pytest.fixture
def dark_lab(lab_server: LabServer) -> Iterator[LabServer]:
    """The lab server with JupyterLab Dark as its theme for one test."""

    def set_theme(theme: str) -> None:
        raw = json.dumps({"theme": theme})
        status, body = lab_server.request(THEMES, token=lab_server.token, method="PUT", body={"raw": raw})
        assert status in (200, 204), body

    set_theme("JupyterLab Dark")
    try:
        yield lab_server
    finally:
        set_theme("JupyterLab Light")


def test_a_notebook_without_steps_shows_a_banner_until_a_step_is_marked(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(
        lab_server.root / "e2e" / "no-steps.ipynb",
        [cell("import math"), cell("print(math.pi)")],
    )
    panel = open_notebook(lab_page, lab_server, "e2e/no-steps.ipynb")
    banner = panel.locator(".jp-kfjupyter-lint-banner")
    expect(banner).to_be_visible(timeout=15_000)
    expect(banner).to_have_attribute("data-severity", "info")
    finding = banner.locator('.jp-kfjupyter-lint-banner-item[data-code="KF001"]')
    expect(finding).to_contain_text("KF001: the notebook has no steps")
    expect(finding.locator(".jp-kfjupyter-lint-banner-hint")).to_contain_text("Mark a cell as a step")
    # It sits above the cells, not on one of them.
    banner_box, notebook_box = banner.bounding_box(), panel.locator(".jp-Notebook").bounding_box()
    assert banner_box is not None and notebook_box is not None
    assert banner_box["y"] + banner_box["height"] <= notebook_box["y"] + 1
    expect(panel.locator('.jp-Cell .jp-kfjupyter-diagnostic[data-code="KF001"]')).to_have_count(0)
    shot(lab_page, output_path, "lint-banner.png")

    first = cells_of(panel).nth(0)
    first.locator(".jp-InputPrompt").click()
    lab_page.keyboard.press("Control+Alt+k")
    expect(lab_page.locator('.jp-Dialog .jp-kfjupyter-step-form input[name="step"]')).to_be_focused()
    lab_page.keyboard.type("compute")
    lab_page.keyboard.press("Enter")
    expect(first.locator(".jp-kfjupyter-step-badge")).to_have_text("step · compute", timeout=10_000)
    expect(banner).to_be_hidden(timeout=10_000)
    shot(lab_page, output_path, "lint-banner-gone.png")


def test_the_banner_can_be_dismissed(lab_page: Page, lab_server: LabServer) -> None:
    write_notebook(lab_server.root / "e2e" / "dismiss.ipynb", [cell("x = 1")])
    panel = open_notebook(lab_page, lab_server, "e2e/dismiss.ipynb")
    banner = panel.locator(".jp-kfjupyter-lint-banner")
    expect(banner).to_be_visible(timeout=15_000)
    banner.get_by_role("button", name="Hide the notebook lint findings").click()
    expect(banner).to_be_hidden()


def test_the_banner_follows_the_dark_theme(dark_lab: LabServer, lab_page: Page, output_path: str) -> None:
    write_notebook(dark_lab.root / "e2e" / "dark-banner.ipynb", [cell("y = 2")])
    panel = open_notebook(lab_page, dark_lab, "e2e/dark-banner.ipynb")
    expect(lab_page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=15_000)
    banner = panel.locator(".jp-kfjupyter-lint-banner")
    expect(banner).to_be_visible(timeout=15_000)
    colors = lab_page.evaluate(
        """() => {
            const body = document.querySelector('.jp-kfjupyter-lint-banner-body');
            const probe = document.createElement('div');
            probe.style.background = 'var(--jp-layout-color2)';
            document.body.append(probe);
            const want = getComputedStyle(probe).backgroundColor;
            probe.remove();
            return [getComputedStyle(body).backgroundColor, want];
        }"""
    )
    assert colors[0] == colors[1], colors
    shot(lab_page, output_path, "lint-banner-dark.png")
