"""The Kubeflow sidebar in real JupyterLab, in real Chromium."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from kfjupyter import __version__
from tests.support.jupyter import LabServer


def test_sidebar_shows_what_the_server_reports(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    status, health = lab_server.request("/kfjupyter/api/health", token=lab_server.token)
    assert status == 200

    tab = lab_page.locator('.jp-SideBar.jp-mod-left li[data-id="jp-kfjupyter-sidebar"]')
    expect(tab).to_be_visible()
    tab.click()
    panel = lab_page.locator("#jp-kfjupyter-sidebar")
    expect(panel).to_be_visible()
    expect(panel.locator(".jp-kfjupyter-status")).to_have_text(f"kfjupyter {__version__}")
    # Token logins get a generated user name per session: the browser's differs from ours.
    expect(panel.locator(".jp-kfjupyter-user")).to_have_text(re.compile(r"^Signed in as \S+$"))
    expected = [
        f"{b['kind']}: {b['name']} — {'ready' if b['available'] else 'unavailable'}"
        for b in health["backends"]
    ]
    expect(panel.locator("li.jp-kfjupyter-backend")).to_have_text(expected)
    shot = Path(output_path) / "sidebar.png"
    lab_page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
