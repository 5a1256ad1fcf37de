"""Browser fixtures: Playwright driving Debian's Chromium (no browser download here)."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.support.jupyter import LabServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def lab_page(page: Page, lab_server: LabServer) -> Page:
    """A page with the JupyterLab shell loaded."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{lab_server.base}/lab?token={lab_server.token}")
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    return page
