"""Responses that break the REST schema are refused by the generated guards with a readable reason.

The server is real; the browser's copy of one response is changed on the way (route interception),
as a server of another version would answer. The panels must say which field is wrong and how.
"""

from __future__ import annotations

import json

from playwright.sync_api import Page, Route, expect

from tests.e2e.test_runs_sidebar import open_sidebar
from tests.support.jupyter import LabServer


def test_health_with_an_unknown_backend_kind_is_refused_naming_the_field(
    page: Page, lab_server: LabServer
) -> None:
    def unknown_kind(route: Route) -> None:
        health = route.fetch().json()
        health["backends"][0]["kind"] = "quantum"
        route.fulfill(status=200, content_type="application/json", body=json.dumps(health))

    page.route("**/kfjupyter/api/health*", unknown_kind)
    page.goto(f"{lab_server.base}/lab?reset&token={lab_server.token}")
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    open_sidebar(page)
    error = page.locator("#jp-kfjupyter-sidebar .jp-kfjupyter-error").first
    expect(error).to_have_text(
        "Unexpected response from health: backends/0/kind must be equal to one of the allowed values "
        '("pipelines", "training"); the server and extension versions may differ'
    )
    expect(page.locator("li.jp-kfjupyter-backend")).to_have_count(0)


def test_a_runs_page_missing_a_field_is_refused_and_the_list_says_which(
    page: Page, lab_server: LabServer
) -> None:
    def without_has_more(route: Route) -> None:
        page_body = route.fetch().json()
        del page_body["has_more"]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(page_body))

    page.route("**/kfjupyter/api/runs?*", without_has_more)
    page.goto(f"{lab_server.base}/lab?reset&token={lab_server.token}")
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    open_sidebar(page)
    message = page.locator(".jp-kfjupyter-runs-message.jp-kfjupyter-error")
    expect(message).to_be_visible(timeout=15_000)
    expect(message).to_contain_text("Cannot list runs: Unexpected response from runs?")
    expect(message).to_contain_text(
        "the body must have required property 'has_more'; the server and extension versions may differ"
    )
    # The health part of the panel got a valid answer and still shows it.
    expect(page.locator("li.jp-kfjupyter-backend").first).to_be_visible()
