"""The demo hub in a real browser: log in, choose a GPU profile with live capacity, get JupyterLab."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, log_in
from tests.support.hub import Hub


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def test_gpu_user_sees_capacity_and_gets_jupyterlab_with_the_sidebar(
    page: Page, hub: Hub, output_path: str
) -> None:
    log_in(page, hub, "ada")
    page.goto(f"{hub.base}/hub/spawn")
    form = page.locator(".kfjupyter-profiles")
    expect(form).to_be_visible(timeout=30_000)
    expect(form.locator('[data-option="gpu_type"]')).to_be_hidden()  # options of the chosen profile only
    form.locator('input[name=profile][value="gpu"]').check()
    expect(form.locator('[data-option="gpu_type"]')).to_be_visible()
    expect(form.locator('[data-option="gpu_type"] option[value="a100"]')).to_have_text(
        re.compile(r"NVIDIA A100 \(\d of 4 free\)")
    )
    expect(form.locator('[data-option="gpu_type"] option[value="h100"]')).to_have_text(
        re.compile(r"NVIDIA H100 \(\d of 2 free\)")
    )
    page.screenshot(path=str(Path(output_path) / "spawn-form-ada.png"))
    page.select_option("select[name='gpu--gpu_type']", "a100")
    page.select_option("select[name='gpu--gpu_count']", "1")
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(re.compile(r"/user/ada/lab"), timeout=180_000)
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    tab = page.locator('.jp-SideBar.jp-mod-left li[data-id="jp-kfjupyter-sidebar"]')
    expect(tab).to_be_visible(timeout=60_000)
    tab.click()
    expect(page.locator("#jp-kfjupyter-sidebar .jp-kfjupyter-status")).to_have_text(
        re.compile(r"^kfjupyter ")
    )
    page.screenshot(path=str(Path(output_path) / "lab-through-hub.png"))
    status, _ = hub.api("/users/ada/server", method="DELETE")
    assert status in (202, 204)


def test_users_outside_the_group_never_see_gpus(page: Page, hub: Hub, output_path: str) -> None:
    log_in(page, hub, "bob")
    page.goto(f"{hub.base}/hub/spawn")
    form = page.locator(".kfjupyter-profiles")
    expect(form).to_be_visible(timeout=30_000)
    expect(form.locator('input[name=profile][value="cpu"]')).to_have_count(1)
    expect(form.locator('input[name=profile][value="gpu"]')).to_have_count(0)
    assert "A100" not in page.content() and "H100" not in page.content()
    page.screenshot(path=str(Path(output_path) / "spawn-form-bob.png"))
