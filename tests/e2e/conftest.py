"""Browser fixtures: Playwright driving Debian's Chromium (no browser download here)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.jupyter import LabServer


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def lab_page(page: Page, lab_server: LabServer) -> Page:
    """A page with the JupyterLab shell loaded, in a fresh default workspace (panels an earlier
    test opened there are not restored)."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{lab_server.base}/lab?reset&token={lab_server.token}")
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    return page


THEMES = "/lab/api/settings/@jupyterlab/apputils-extension:themes"


@pytest.fixture(params=["light", "dark"])
def theme(request: pytest.FixtureRequest, lab_server: LabServer) -> Iterator[str]:
    """Runs the test in JupyterLab Light and in JupyterLab Dark; Light is restored afterwards.

    It uses the ``lab_server`` of the test's module, so a module with a lab of its own gets that one.
    """

    def set_theme(name: str) -> None:
        raw = json.dumps({"theme": name})
        status, body = lab_server.request(THEMES, token=lab_server.token, method="PUT", body={"raw": raw})
        assert status in (200, 204), body

    set_theme("JupyterLab Dark" if request.param == "dark" else "JupyterLab Light")
    try:
        yield str(request.param)
    finally:
        set_theme("JupyterLab Light")
