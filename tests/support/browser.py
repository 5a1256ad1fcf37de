"""Real Chromium for browser tests: Debian's build (Playwright cannot download one here), and
logging in to the demo hub the way a person does."""

from __future__ import annotations

import shutil

from playwright.sync_api import Page

from tests.support.hub import PASSWORD, Hub

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def log_in(page: Page, hub: Hub, user: str) -> None:
    """Sign in on the hub's login page with the demo password."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{hub.base}/hub/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
