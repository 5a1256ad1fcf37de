"""The Kubeflow settings in JupyterLab's Settings Editor, in real JupyterLab and Chromium, light and
dark: each preference changes what the extension does, the dialogs and the runs list follow a change
without a reload, and settings written through the Lab's settings REST API apply after one."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, Request, expect

from tests.e2e.test_kfp_backend import pipeline_notebook
from tests.e2e.test_notebook_steps import open_notebook, shot
from tests.e2e.test_runs_sidebar import open_sidebar
from tests.support.jupyter import LabServer, running_lab
from tests.support.kfp_context import checked_standin
from tests.support.kfp_standin import KfpStandIn

PLUGIN = "kfjupyter:settings"
SETTINGS = f"/lab/api/settings/{PLUGIN}"
IMAGE = "registry.example/team/from-settings:7"


@pytest.fixture(scope="module")
def standin() -> Iterator[KfpStandIn]:
    with checked_standin() as server:
        yield server


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory, standin: KfpStandIn) -> Iterator[LabServer]:
    """This module's own lab (its settings stay here): connected to Kubeflow Pipelines (the
    stand-in), so the Run dialog offers it, and without a default image for compiled steps."""
    home = tmp_path_factory.mktemp("settings-lab")
    config = home / "config"
    config.mkdir(parents=True)
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"KfJupyterApp": {"kfp_host": standin.url}})
    )
    with running_lab(home) as server:
        yield server


def put_settings(lab: LabServer, values: dict[str, Any]) -> None:
    status, body = lab.request(SETTINGS, token=lab.token, method="PUT", body={"raw": json.dumps(values)})
    assert status in (200, 204), body


def saved_settings(lab: LabServer, check: Any, timeout: float = 15) -> dict[str, Any]:
    """The user's settings as the server stored them, once ``check(settings)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = lab.request(SETTINGS, token=lab.token)
        assert status == 200, body
        values: dict[str, Any] = json.loads(body["raw"] or "{}")
        if check(values):
            return values
        assert time.monotonic() < deadline, f"the settings never satisfied the check: {values}"
        time.sleep(0.2)


@pytest.fixture
def fresh_settings(lab_server: LabServer) -> Iterator[None]:
    put_settings(lab_server, {})
    yield
    put_settings(lab_server, {})


def open_compile_dialog(page: Page) -> Any:
    page.locator('.jp-NotebookPanel:visible .jp-Toolbar [data-command="kfjupyter:compile-notebook"]').click()
    form = page.locator(".jp-Dialog .jp-kfjupyter-compile-form")
    expect(form).to_be_visible()
    return form


def open_run_dialog(page: Page) -> Any:
    page.locator('.jp-NotebookPanel:visible .jp-Toolbar [data-command="kfjupyter:run-as-pipeline"]').click()
    form = page.locator(".jp-Dialog .jp-kfjupyter-run-form")
    expect(form).to_be_visible()
    return form


def cancel_dialog(page: Page) -> None:
    page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)


def test_the_settings_editor_changes_the_dialogs_and_the_runs_list_without_a_reload(
    theme: str, fresh_settings: None, lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    path = pipeline_notebook(lab_server.root, f"prefs-{theme}")
    open_notebook(lab_page, lab_server, path)
    # the defaults: no image offered, runs here with the cache, the list refreshes every 3 s
    form = open_compile_dialog(lab_page)
    expect(form.locator('input[name="image"]')).to_have_value("")
    expect(form).to_have_attribute("data-prefill", "none")
    cancel_dialog(lab_page)
    form = open_run_dialog(lab_page)
    expect(form.locator('select[name="backend"]')).to_have_value("local")
    expect(form.locator('input[name="no_cache"]')).not_to_be_checked()
    cancel_dialog(lab_page)
    open_sidebar(lab_page)
    runs = lab_page.locator(".jp-kfjupyter-runs")
    expect(runs).to_have_attribute("data-refresh-ms", "3000")

    # The Settings Editor lists "Kubeflow" with a title and a description for every setting.
    lab_page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    lab_page.locator(".lm-Menu:visible .lm-Menu-item", has_text="Settings Editor").click()
    editor = lab_page.locator(".jp-SettingsPanel:visible, .jp-SettingsEditor:visible").first
    expect(editor).to_be_visible(timeout=30_000)
    lab_page.locator(".jp-PluginList-entry", has_text="Kubeflow").first.click()
    section = lab_page.locator(".jp-SettingsForm", has_text="Run as Pipeline: run on").first
    expect(section).to_be_visible()
    for title, description in [
        ("Run as Pipeline: run on", "Kubeflow Pipelines is only preselected"),
        ("Run as Pipeline: run every step", "Run every step (ignore cached outputs)"),
        ("Open the run when it starts", "a notification with an Open button"),
        ("Runs list refresh (seconds)", "How often the runs list"),
        ("Compile to KFP: default image", "when the server sets none"),
    ]:
        expect(section).to_contain_text(title)
        expect(section).to_contain_text(description)

    field = lambda name: section.locator(f'[id="jp-SettingsEditor-{PLUGIN}_{name}"]')  # noqa: E731
    expect(field("defaultBackend").locator("option")).to_have_text(
        ["This server (local)", "Kubeflow Pipelines"]
    )
    field("compileImage").fill(IMAGE)
    field("defaultBackend").select_option(label="Kubeflow Pipelines")
    section.get_by_label("Run as Pipeline: run every step").check()
    field("runsRefreshSeconds").fill("1")
    changed = {"compileImage": IMAGE, "defaultBackend": "kfp", "runEveryStep": True, "runsRefreshSeconds": 1}
    saved = saved_settings(lab_server, lambda values: changed.items() <= values.items())
    assert saved.get("openRunOnStart", True) is True  # the editor may write the untouched defaults too
    shot(lab_page, output_path, f"settings-editor-{theme}.png")

    # Back in the same page (no reload), everything follows.
    expect(runs).to_have_attribute("data-refresh-ms", "1000")
    lab_page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=f"prefs-{theme}.ipynb").click()
    form = open_compile_dialog(lab_page)
    expect(form.locator('input[name="image"]')).to_have_value(IMAGE)
    expect(form).to_have_attribute("data-prefill", "settings")
    expect(form).to_contain_text("Prefilled from your Kubeflow settings")
    shot(lab_page, output_path, f"compile-image-from-settings-{theme}.png")
    cancel_dialog(lab_page)
    form = open_run_dialog(lab_page)
    expect(form.locator('select[name="backend"]')).to_have_value("kfp")
    expect(form.locator('input[name="experiment"]')).to_be_visible()
    expect(form).to_contain_text("KFP's own cache decides which steps run")
    shot(lab_page, output_path, f"run-dialog-kfp-from-settings-{theme}.png")
    form.locator('select[name="backend"]').select_option("local")
    expect(form.locator('input[name="no_cache"]')).to_be_checked()
    expect(form.locator(".jp-kfjupyter-plan-step")).to_have_count(2, timeout=30_000)
    shot(lab_page, output_path, f"run-dialog-every-step-from-settings-{theme}.png")
    cancel_dialog(lab_page)


def runs_requests(page: Page, seconds: float) -> int:
    """How many times the page lists runs in the next ``seconds``."""
    seen: list[str] = []

    def listen(request: Request) -> None:
        if request.method == "GET" and "/kfjupyter/api/runs?" in request.url:
            seen.append(request.url)

    page.on("request", listen)
    page.wait_for_timeout(seconds * 1000)
    page.remove_listener("request", listen)
    return len(seen)


def test_settings_from_the_rest_api_apply_after_a_reload(
    fresh_settings: None, lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    path = pipeline_notebook(lab_server.root, "prefs-rest")
    # The runs list asks as often as the setting says: every second, or not again for 10 minutes.
    put_settings(lab_server, {"runsRefreshSeconds": 1})
    open_notebook(lab_page, lab_server, path)
    open_sidebar(lab_page)
    expect(lab_page.locator(".jp-kfjupyter-runs")).to_have_attribute("data-refresh-ms", "1000")
    assert runs_requests(lab_page, 5) >= 4
    put_settings(lab_server, {"runsRefreshSeconds": 600, "openRunOnStart": False, "runEveryStep": True})
    open_notebook(lab_page, lab_server, path)
    open_sidebar(lab_page)
    expect(lab_page.locator(".jp-kfjupyter-runs")).to_have_attribute("data-refresh-ms", "600000")
    lab_page.wait_for_timeout(1500)  # the first listing (and the one the loaded setting asks for)
    assert runs_requests(lab_page, 5) == 0

    # "Open the run when it starts" off: a notification says it started; its button opens it.
    form = open_run_dialog(lab_page)
    expect(form.locator('select[name="backend"]')).to_have_value("local")
    expect(form.locator('input[name="no_cache"]')).to_be_checked()
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Run").click()
    toast = lab_page.locator(".Toastify__toast", has_text="started")
    expect(toast).to_be_visible(timeout=60_000)
    expect(lab_page.locator(".jp-kfjupyter-run-detail")).to_have_count(0)
    shot(lab_page, output_path, "run-started-notification.png")
    announced = toast.text_content() or ""
    toast.get_by_role("button", name="Open run").click()
    detail = lab_page.locator(".jp-kfjupyter-run-detail:visible")
    expect(detail).to_be_visible(timeout=30_000)
    run_id = detail.get_attribute("data-run-id")
    assert run_id and f"Run {run_id} started" in announced, announced
    status, body = lab_server.request(f"/kfjupyter/api/runs/{run_id}", token=lab_server.token)
    assert status == 200 and body["notebook_path"] == path, body
    # "Run every step" is preselected in the Re-run dialog as well.
    expect(detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")).to_have_text(
        "succeeded", timeout=120_000
    )
    detail.locator("button.jp-kfjupyter-rerun").click()
    rerun = lab_page.locator(".jp-Dialog .jp-kfjupyter-rerun-form")
    expect(rerun.locator('input[name="no_cache"]')).to_be_checked()
    cancel_dialog(lab_page)
