"""The real hub in real Chromium, with servers as real containers of the notebook image.

ada logs in, chooses the GPU profile on the spawn form, follows the spawn page's progress and lands
in JupyterLab served from her container through the hub's proxy, with the Kubeflow sidebar signed
in as her. She opens a pipeline notebook (its kernel talks over a websocket through the proxy),
runs it with "Run as Pipeline" from the notebook toolbar, and sees it succeed, its step log written
in her container, her artifact download link, and the run in her sidebar; no "Jupyter news?" toast covers the Lab. bob logs in from another browser context, gets his
own container, and his sidebar lists none of ada's runs; ada's server refuses him.
"""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import Browser, Page, expect

from kfjupyter.k8s.client import Kube
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, log_in
from tests.support.hub import Hub, stop
from tests.support.notebooks import cell
from tests.support.realhub import call, container_id, in_pod, run_ids, user_token

SIDEBAR = "#jp-kfjupyter-sidebar"
SIDEBAR_TAB = '.jp-SideBar.jp-mod-left li[data-id="jp-kfjupyter-sidebar"]'


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def shoot(page: Page, output_path: str, name: str) -> Path:
    folder = Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name))
    return folder / name


def pipeline_notebook() -> dict[str, Any]:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    notebook.cells = [
        cell("numbers = list(range(10))", "step:make"),
        cell(
            "import socket\ntotal = sum(numbers)\nprint('total', total, 'on', socket.gethostname())",
            "step:total",
        ),
    ]
    return dict(json.loads(nbformat.writes(notebook)))


def spawn_from_the_form(page: Page, hub: Hub, user: str, profile: str, output_path: str) -> None:
    """Submit the spawn form for ``profile``, follow the progress page, wait for JupyterLab."""
    page.goto(f"{hub.base}/hub/spawn")
    form = page.locator(".kfjupyter-profiles")
    expect(form).to_be_visible(timeout=30_000)
    form.locator(f'input[name=profile][value="{profile}"]').check()
    expect(form.locator("input[name=profile]:checked")).to_have_value(profile)
    shoot(page, output_path, f"spawn-form-{user}.png")
    page.click("input[type=submit], button[type=submit]")

    page.wait_for_url(re.compile(rf"/hub/spawn-pending/{user}"), timeout=30_000)
    page.locator("#progress-details summary").click()
    log = page.locator("#progress-log")
    # The spawner's own words for the Kubernetes events of this pod on the real node.
    expect(log).to_contain_text("Found a place for your server (node node-0)", timeout=60_000)
    shoot(page, output_path, f"spawn-progress-{user}.png")

    page.wait_for_url(re.compile(rf"/user/{user}/lab"), timeout=240_000)
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=120_000)
    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=30_000)


def no_news_question(page: Page) -> None:
    """The image's JupyterLab defaults: no "get Jupyter news?" toast over the UI (it asks at once
    on a fresh profile when nothing turns it off)."""
    page.wait_for_timeout(2_000)
    expect(page.get_by_text("official Jupyter news")).to_have_count(0)


def open_sidebar(page: Page, user: str) -> None:
    if not page.locator(SIDEBAR).is_visible():
        page.locator(SIDEBAR_TAB).click()
    panel = page.locator(SIDEBAR)
    expect(panel).to_be_visible()
    expect(panel.locator(".jp-kfjupyter-status")).to_have_text(re.compile(r"^kfjupyter "), timeout=30_000)
    expect(panel.locator(".jp-kfjupyter-user")).to_have_text(f"Signed in as {user}")


@pytest.mark.timeout(900)
def test_ada_and_bob_in_chromium_through_the_hub(
    page: Page, browser: Browser, real_hub: Hub, real_kube: Kube, output_path: str
) -> None:
    try:
        log_in(page, real_hub, "ada")
        spawn_from_the_form(page, real_hub, "ada", "gpu", output_path)
        pod = real_kube.core.read_namespaced_pod("jupyter-ada", "default")
        assert pod.spec.node_name == "node-0"
        assert pod.spec.containers[0].resources.limits["nvidia.com/gpu"] == "1"
        open_sidebar(page, "ada")

        token = user_token(real_hub, "ada")
        status, body = call(real_hub, token, "/user/ada/api/contents/browser-sums.ipynb", method="PUT",
                            body={"type": "notebook", "content": pipeline_notebook()})  # fmt: skip
        assert status in (200, 201), body
        assert "browser-sums.ipynb" in in_pod(real_kube, "jupyter-ada", "ls $HOME").split()

        page.goto(f"{real_hub.base}/user/ada/lab/workspaces/browser-sums/tree/browser-sums.ipynb")
        notebook = page.locator(".jp-NotebookPanel.jp-kfjupyter-linted:visible")
        expect(notebook).to_be_visible(timeout=60_000)
        # The kernel answers over its websocket, through the proxy, from the container.
        idle = notebook.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
        expect(idle.first).to_be_attached(timeout=120_000)
        notebook.locator('.jp-Toolbar [data-command="kfjupyter:run-as-pipeline"]').click()
        expect(page.locator(".jp-Dialog .jp-kfjupyter-run-form")).to_be_visible()
        page.locator(".jp-Dialog").get_by_role("button", name="Run").click()

        detail = page.locator(".jp-kfjupyter-run-detail")
        expect(detail).to_be_visible(timeout=30_000)
        expect(detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")).to_have_text(
            "succeeded", timeout=180_000
        )
        run_id = detail.get_attribute("data-run-id")
        assert run_id
        detail.locator('tr.jp-kfjupyter-step[data-step="total"]').click()
        expect(detail.locator("pre.jp-kfjupyter-log")).to_contain_text("total 45 on jupyter-ada")
        # A download link of the run page: a plain link, under the server's base URL, that the
        # browser follows with its hub cookie (no token header).
        link = detail.locator("a.jp-kfjupyter-artifact-download", has_text="numbers")
        href = link.get_attribute("href") or ""
        assert href.startswith(f"{real_hub.base}/user/ada/kfjupyter/api/runs/{run_id}/artifacts/"), href
        with page.expect_download() as download:
            link.click()
        # The step's value as the server keeps it (a pickle the step wrote in ada's container).
        assert pickle.loads(Path(download.value.path()).read_bytes()) == list(range(10))
        open_sidebar(page, "ada")
        item = page.locator(f'{SIDEBAR} li.jp-kfjupyter-run[data-run-id="{run_id}"]')
        expect(item.locator(".jp-kfjupyter-badge")).to_have_text("succeeded", timeout=30_000)
        no_news_question(page)
        shoot(page, output_path, "lab-ada.png")
        adas = run_ids(real_hub, token, "ada")
        assert run_id in adas

        bob = browser.new_context(viewport={"width": 1280, "height": 800})
        try:
            other = bob.new_page()
            log_in(other, real_hub, "bob")
            other.goto(f"{real_hub.base}/hub/spawn")
            expect(other.locator('input[name=profile][value="cpu"]')).to_have_count(1, timeout=30_000)
            expect(other.locator('input[name=profile][value="gpu"]')).to_have_count(0)
            spawn_from_the_form(other, real_hub, "bob", "cpu", output_path)
            assert container_id(real_kube, "jupyter-bob") != container_id(real_kube, "jupyter-ada")
            open_sidebar(other, "bob")
            runs = other.locator(f"{SIDEBAR} li.jp-kfjupyter-run")
            expect(other.locator(f"{SIDEBAR} .jp-kfjupyter-runs-message")).to_contain_text(
                "No runs yet", timeout=30_000
            )
            expect(runs).to_have_count(0)
            for run in adas:
                expect(other.locator(f'{SIDEBAR} [data-run-id="{run}"]')).to_have_count(0)
            no_news_question(other)
            shoot(other, output_path, "lab-bob.png")
            # ada's server does not let bob in, from his browser.
            reply = other.request.get(f"{real_hub.base}/user/ada/kfjupyter/api/runs")
            assert reply.status == 403, (reply.status, reply.url, reply.text()[:500])
        finally:
            bob.close()
    finally:
        stop(real_hub, "bob")
        stop(real_hub, "ada")
