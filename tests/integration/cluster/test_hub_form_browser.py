"""The hub's spawn form in Chromium, light and dark: styled selects, GPU counts capped by the GPUs
free now for the chosen type (the example cluster: 4 A100, 2 H100)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.hub import PASSWORD, Hub


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_gpu_counts_follow_the_free_gpus_of_the_chosen_type(
    scheme: str, page: Page, hub: Hub, output_path: str
) -> None:
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    page.set_viewport_size({"width": 1100, "height": 800})
    page.goto(f"{hub.base}/hub/login")
    page.locator("input[name=username]").fill("ada")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.goto(f"{hub.base}/hub/spawn")
    page.locator("input[name=profile][value=gpu]").check()
    gpu_type = page.locator("select[name='gpu--gpu_type']")
    count = page.locator("select[name='gpu--gpu_count']")
    expect(gpu_type).to_be_visible()
    expect(gpu_type.locator("option[value=a100]")).to_contain_text("4 of 4 free")
    expect(count.locator("option[value='4']")).to_be_enabled()
    gpu_type.select_option("h100")  # 2 H100 exist: 4 cannot be had
    expect(count.locator("option[value='4']")).to_be_disabled()
    expect(count.locator("option[value='2']")).to_be_enabled()
    count.select_option("2")
    assert "form-select" in (count.get_attribute("class") or "")
    folder = Path(output_path) / "hub-form"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"spawn-form-{scheme}.png"), full_page=True)
    gpu_type.select_option("a100")
    expect(count.locator("option[value='4']")).to_be_enabled()
