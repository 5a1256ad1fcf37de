"""Kubeflow Pipelines from JupyterLab in real Chromium: "Compile to KFP" writes the YAML, the run
dialog offers Kubeflow Pipelines only on a server configured with ``kfp_host`` (here the KFP API
stand-in of :mod:`tests.support.kfp_standin`), a KFP run cancelled from its panel, which a
KFP 2.x server ends FAILED after CANCELING, shows cancelled in the panel and the runs list, and
"Load inputs into kernel" on a KFP run's step loads the artifacts its pipeline root holds."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
import yaml
from kfp import components, local
from kfp.local import executor_input_utils, subprocess_task_handler
from playwright.sync_api import Page, expect

from kfjupyter.store import open_store
from tests.e2e.test_notebook_steps import open_notebook, shot
from tests.e2e.test_run_detail_views import open_run, shoot
from tests.support.jupyter import LabServer, running_lab
from tests.support.kfp_context import checked_standin
from tests.support.kfp_standin import KfpStandIn
from tests.support.notebooks import cell, write_notebook

IMAGE = "registry.example/kfjupyter:1"


def step_with_image(source: str, step: str) -> nbformat.NotebookNode:
    node = cell(source)
    node.metadata["kfjupyter"] = {"step": step, "image": IMAGE}
    return node


@pytest.fixture(scope="module")
def standin() -> Iterator[KfpStandIn]:
    with checked_standin() as server:
        yield server


@pytest.fixture(scope="module")
def kfp_lab(tmp_path_factory: pytest.TempPathFactory, standin: KfpStandIn) -> Iterator[LabServer]:
    """A second `jupyter lab` whose kfjupyter submits to the stand-in (c.KfJupyterApp.kfp_host)."""
    home = tmp_path_factory.mktemp("kfp-lab")
    config = home / "config"
    config.mkdir(parents=True)
    settings = {"KfJupyterApp": {"kfp_host": standin.url, "kfp_image": IMAGE}}
    (config / "jupyter_server_config.json").write_text(json.dumps(settings))
    with pytest.MonkeyPatch.context() as env:  # the server's environment, inherited by its kernels
        env.setenv("KFJUPYTER_PIPELINE_ROOT", (home / "pipeline-root").as_uri())
        env.delenv("KFJUPYTER_PIPELINE_ROOT_MOUNTS", raising=False)
        with running_lab(home) as server:
            yield server


@pytest.fixture
def kfp_page(page: Page, kfp_lab: LabServer) -> Page:
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{kfp_lab.base}/lab?reset&token={kfp_lab.token}")
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=60_000)
    return page


def pipeline_notebook(root: Path, name: str) -> str:
    write_notebook(
        root / "e2e" / f"{name}.ipynb",
        [
            cell("n = 3", "pipeline-parameters"),
            step_with_image("data = list(range(n))", "make"),
            step_with_image("total = sum(data)\nprint(total)", "total"),
        ],
    )
    return f"e2e/{name}.ipynb"


def test_compile_to_kfp_writes_the_yaml_next_to_the_notebook(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    path = pipeline_notebook(lab_server.root, "compile-me")
    panel = open_notebook(lab_page, lab_server, path)
    button = panel.locator('.jp-Toolbar [data-command="kfjupyter:compile-notebook"]')
    expect(button).to_be_visible()
    button.click()
    dialog = lab_page.locator(".jp-Dialog .jp-kfjupyter-compile-form")
    expect(dialog.locator('input[name="image"]')).to_have_value("")  # this server sets no default
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Compile").click()
    toast = lab_page.locator(".Toastify__toast", has_text="Compiled")
    expect(toast).to_contain_text("e2e/compile-me.pipeline.yaml", timeout=30_000)
    expect(toast).to_contain_text("2 steps")
    shot(lab_page, output_path, "compile-notification.png")
    written = lab_server.root / "e2e" / "compile-me.pipeline.yaml"
    spec = yaml.safe_load(written.read_text())
    assert sorted(spec["root"]["dag"]["tasks"]) == ["step-make", "step-total"]
    assert spec["deploymentSpec"]["executors"]["exec-step-make"]["container"]["image"] == IMAGE


def test_compile_errors_show_the_server_message(
    theme: str, lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(
        lab_server.root / "e2e" / f"no-image-{theme}.ipynb",
        [cell("x = 1", "step:one")],
    )
    open_notebook(lab_page, lab_server, f"e2e/no-image-{theme}.ipynb")
    # Through the Kubeflow main menu this time.
    lab_page.locator(".lm-MenuBar-itemLabel", has_text="Kubeflow").click()
    menu = lab_page.locator(".lm-Menu:visible")
    labels = menu.locator('.lm-Menu-item:not([data-type="separator"]) .lm-Menu-itemLabel')
    expect(labels).to_have_text(
        ["Run as Pipeline…", "Compile to KFP", "Train with kfjupyter…", "Focus Runs List", "Refresh Runs"]
    )
    shot(lab_page, output_path, f"kubeflow-menu-{theme}.png")
    menu.locator(".lm-Menu-item", has_text="Compile to KFP").click()
    # The compile dialog asks for the image and says where else one can be set.
    form = lab_page.locator(".jp-Dialog .jp-kfjupyter-compile-form")
    expect(form.locator('input[name="image"]')).to_have_value("")
    expect(form).to_contain_text("c.KfJupyterApp.kfp_image")
    shot(lab_page, output_path, f"compile-dialog-{theme}.png")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Compile").click()
    dialog = lab_page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Cannot compile the notebook", timeout=30_000)
    expect(dialog).to_contain_text("no container image")
    expect(dialog).to_contain_text("Image field of the Compile dialog")
    shot(lab_page, output_path, f"compile-error-{theme}.png")
    dialog.get_by_role("button").last.click()
    written = lab_server.root / "e2e" / f"no-image-{theme}.pipeline.yaml"
    assert not written.exists()
    # With an image entered, it compiles, and every step runs in that image.
    lab_page.locator(".lm-MenuBar-itemLabel", has_text="Kubeflow").click()
    lab_page.locator(".lm-Menu:visible .lm-Menu-item", has_text="Compile to KFP").click()
    form.locator('input[name="image"]').fill("registry.example/team/nb:2")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Compile").click()
    expect(lab_page.locator(".Toastify__toast", has_text="Compiled")).to_be_visible(timeout=30_000)
    spec = yaml.safe_load(written.read_text())
    assert spec["deploymentSpec"]["executors"]["exec-step-one"]["container"]["image"] == (
        "registry.example/team/nb:2"
    )


def test_the_compile_dialog_offers_the_server_default_image(kfp_page: Page, kfp_lab: LabServer) -> None:
    status, health = kfp_lab.request("/kfjupyter/api/health", token=kfp_lab.token)
    assert status == 200 and health["kfp_image"] == IMAGE, health
    write_notebook(kfp_lab.root / "e2e" / "prefill.ipynb", [cell("x = 1", "step:one")])
    panel = open_notebook(kfp_page, kfp_lab, "e2e/prefill.ipynb")
    panel.locator('.jp-Toolbar [data-command="kfjupyter:compile-notebook"]').click()
    form = kfp_page.locator(".jp-Dialog .jp-kfjupyter-compile-form")
    expect(form.locator('input[name="image"]')).to_have_value(IMAGE)
    kfp_page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()
    expect(kfp_page.locator(".jp-Dialog")).to_have_count(0)
    assert not (kfp_lab.root / "e2e" / "prefill.pipeline.yaml").exists()


def test_the_run_dialog_has_no_kfp_choice_without_kfp_host(lab_page: Page, lab_server: LabServer) -> None:
    path = pipeline_notebook(lab_server.root, "local-only")
    panel = open_notebook(lab_page, lab_server, path)
    panel.locator('.jp-Toolbar [data-command="kfjupyter:run-as-pipeline"]').click()
    form = lab_page.locator(".jp-Dialog .jp-kfjupyter-run-form")
    expect(form).to_be_visible()
    expect(form.locator('input[data-parameter="n"]')).to_have_value("3")
    expect(form.locator('select[name="backend"]')).to_have_count(0)
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()


def test_submit_to_kfp_from_the_run_dialog(
    kfp_page: Page, kfp_lab: LabServer, standin: KfpStandIn, output_path: str
) -> None:
    status, health = kfp_lab.request("/kfjupyter/api/health", token=kfp_lab.token)
    assert status == 200 and any(b["name"] == "kfp" for b in health["backends"]), health
    path = pipeline_notebook(kfp_lab.root, "to-kfp")
    panel = open_notebook(kfp_page, kfp_lab, path)
    panel.locator('.jp-Toolbar [data-command="kfjupyter:run-as-pipeline"]').click()
    form = kfp_page.locator(".jp-Dialog .jp-kfjupyter-run-form")
    backend = form.locator('select[name="backend"]')
    expect(backend).to_be_visible()
    expect(backend.locator("option")).to_have_text(["This server (local)", "Kubeflow Pipelines"])
    expect(form.locator('input[name="experiment"]')).to_be_hidden()
    backend.select_option("kfp")
    expect(form.locator('input[name="no_cache"]')).to_be_hidden()
    form.locator('input[name="experiment"]').fill("notebooks")
    form.locator('input[data-parameter="n"]').fill("5")
    shot(kfp_page, output_path, "run-dialog-kfp.png")
    kfp_page.locator(".jp-Dialog").get_by_role("button", name="Run").click()

    toast = kfp_page.locator(".Toastify__toast", has_text="Submitted")
    expect(toast).to_contain_text("to Kubeflow Pipelines", timeout=60_000)
    expect(toast.get_by_role("button", name="Open in Kubeflow Pipelines")).to_be_visible()
    (kfp_run,) = standin.runs.values()
    assert kfp_run.runtime_config.parameters["n"] == 5
    (experiment,) = standin.experiments.values()
    assert experiment.display_name == "notebooks"
    detail = kfp_page.locator(".jp-kfjupyter-run-detail:visible")
    expect(detail).to_be_visible(timeout=30_000)
    run_id = detail.get_attribute("data-run-id")
    status, body = kfp_lab.request(f"/kfjupyter/api/runs/{run_id}", token=kfp_lab.token)
    assert status == 200 and body["run"]["backend"] == "kfp", body
    expect(detail.locator(".jp-kfjupyter-facts")).to_contain_text("kfp")
    assert body["external_id"] == kfp_run.run_id, body
    link = detail.locator("a.jp-kfjupyter-external-link")
    expect(link).to_contain_text(kfp_run.run_id)
    assert link.get_attribute("href") == body["external_url"]
    assert (body["external_url"] or "").startswith("http"), body
    shot(kfp_page, output_path, "kfp-submitted.png")


def test_a_kfp_run_cancelled_from_the_sidebar_shows_cancelled(
    kfp_page: Page, kfp_lab: LabServer, standin: KfpStandIn, output_path: str
) -> None:
    """Cancel asks KFP to terminate; KFP reports CANCELING then FAILED, and the Lab shows cancelled."""
    path = pipeline_notebook(kfp_lab.root, "to-cancel")
    status, body = kfp_lab.request(
        "/kfjupyter/api/notebooks/submit", token=kfp_lab.token, method="POST", body={"path": path}
    )
    assert status == 202, body
    run_id, kfp_id = str(body["run_id"]), str(body["kfp_run_id"])
    standin.start_run(kfp_id)
    standin.run_task(kfp_id, "step-make", exits=(None,))
    detail = open_run(kfp_page, run_id)
    badge = detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")
    expect(badge).to_have_text("running", timeout=30_000)
    make = detail.locator('g.jp-kfjupyter-dag-node[data-step="make"]')
    expect(make).to_have_attribute("data-status", "running", timeout=30_000)
    button = detail.locator("button.jp-kfjupyter-cancel")
    expect(button).to_be_visible()
    button.click()
    kfp_page.locator(".jp-Dialog button.jp-mod-warn").click()
    expect(kfp_page.locator(".jp-Dialog")).to_have_count(0)
    deadline = time.monotonic() + 30
    while standin.runs[kfp_id].state != "CANCELING":
        assert time.monotonic() < deadline, standin.runs[kfp_id].state
        time.sleep(0.2)
    assert standin.terminated == [kfp_id]

    assert standin.finish_run(kfp_id) == "FAILED"  # how a KFP 2.x server ends a terminated run
    expect(badge).to_have_text("cancelled", timeout=30_000)
    expect(make).to_have_attribute("data-status", "cancelled")
    expect(detail.locator('g.jp-kfjupyter-dag-node[data-step="total"]')).to_have_attribute(
        "data-status", "cancelled"
    )
    expect(button).to_be_hidden()
    shoot(kfp_page, output_path, "kfp-run-cancelled.png")
    kfp_page.locator('.jp-SideBar.jp-mod-left li[data-id="jp-kfjupyter-sidebar"]').click()
    item = kfp_page.locator(f'li.jp-kfjupyter-run[data-run-id="{run_id}"]')
    expect(item).to_contain_text("cancelled", timeout=15_000)
    shoot(kfp_page, output_path, "kfp-run-cancelled-sidebar.png")
    assert standin.terminated == [kfp_id] and standin.errors == []


@pytest.mark.filterwarnings("ignore:You may be attemping to run a task:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:Task .* have no effect in the current local runner:UserWarning")
def test_load_inputs_of_a_kfp_runs_step_from_its_pipeline_root(
    kfp_page: Page,
    kfp_lab: LabServer,
    standin: KfpStandIn,
    output_path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run's artifacts are written by its compiled steps under ``kfp.local``, at the paths a KFP
    server gives them (``<root>/<pipeline>/<KFP run id>/<task>/<artifact>``), in the pipeline root
    the server is configured with (``KFJUPYTER_PIPELINE_ROOT``, a ``file://`` root)."""
    path = pipeline_notebook(kfp_lab.root, "kfp-debug")
    status, body = kfp_lab.request(
        "/kfjupyter/api/notebooks/submit", token=kfp_lab.token, method="POST", body={"path": path}
    )
    assert status == 202, body
    run_id, kfp_id = str(body["run_id"]), str(body["kfp_run_id"])
    with open_store(kfp_lab.root.parent / "kfjupyter") as store:
        package = store.run_dir(run_id) / "pipeline.yaml"
    monkeypatch.setattr(
        subprocess_task_handler.SubprocessTaskHandler, "validate_not_container_component", lambda *_: None
    )
    monkeypatch.setattr(
        executor_input_utils, "get_local_pipeline_resource_name", lambda name: f"{name}/{kfp_id}"
    )
    root = kfp_lab.root.parent / "pipeline-root"
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root))
    components.load_component_from_file(str(package))(n=3)
    standin.start_run(kfp_id)
    standin.run_task(kfp_id, "step-make")
    standin.run_task(kfp_id, "step-total")
    assert standin.finish_run(kfp_id) == "SUCCEEDED"

    detail = open_run(kfp_page, run_id)
    total = detail.locator('g.jp-kfjupyter-dag-node[data-step="total"]')
    expect(total).to_have_attribute("data-status", "succeeded", timeout=30_000)
    total.click()
    bar = detail.locator(".jp-kfjupyter-step-actions")
    expect(bar).to_be_visible()
    expect(bar.get_by_role("button", name="Re-run from here")).to_be_hidden()  # local runs only
    bar.get_by_role("button", name="Load inputs into kernel").click()
    toast = kfp_page.locator(".Toastify__toast", has_text=f"Loaded into {path}: data (step total)")
    expect(toast).to_be_visible(timeout=60_000)
    notebook = kfp_page.locator(".jp-NotebookPanel:visible")
    notebook.locator(".jp-Cell").last.click()
    kfp_page.keyboard.press("Escape")
    kfp_page.keyboard.press("b")  # a new cell below, in the notebook's own kernel
    notebook.locator(".jp-Cell").last.locator(".cm-content").click()
    kfp_page.keyboard.type("print('data is', data)")
    kfp_page.keyboard.press("Shift+Enter")
    expect(notebook.locator(".jp-OutputArea-output", has_text="data is [0, 1, 2]")).to_be_visible(
        timeout=30_000
    )
    shot(kfp_page, output_path, "kfp-inputs-loaded-in-kernel.png")
