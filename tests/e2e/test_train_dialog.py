"""The "Train with kfjupyter" dialog in real JupyterLab and Chromium: from the file browser's
context menu to a running job whose ranks show in the run detail."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.test_notebook_steps import shot
from tests.e2e.test_runs_sidebar import open_palette
from tests.support.jupyter import LabServer
from tests.support.runs import wait_until_ended

TINY_SCRIPT = """\
import os
import sys
import time

rank = os.environ["RANK"]
world = os.environ["WORLD_SIZE"]
for epoch in range(int(sys.argv[sys.argv.index("--epochs") + 1])):
    print(f"rank {rank} of {world} epoch {epoch}", flush=True)
    time.sleep(0.3)
print(f"rank {rank} done", flush=True)
"""


def test_train_a_script_from_the_file_browser(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    folder = lab_server.root / "e2e-train"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny_train.py").write_text(TINY_SCRIPT)
    lab_page.goto(f"{lab_server.base}/lab/workspaces/train/tree/e2e-train?token={lab_server.token}")
    item = lab_page.locator('.jp-DirListing-item[data-file-type="python"]', has_text="tiny_train.py")
    expect(item).to_be_visible(timeout=30_000)
    item.click(button="right")
    entry = lab_page.locator(".lm-Menu .lm-Menu-item", has_text="Train with kfjupyter…")
    expect(entry).to_be_visible()
    shot(lab_page, output_path, "train-context-menu.png")
    entry.click()

    form = lab_page.locator(".jp-Dialog .jp-kfjupyter-train-form")
    expect(form).to_be_visible()
    expect(form.locator('input[name="script"]')).to_have_value("e2e-train/tiny_train.py")
    expect(form.locator('input[name="num_nodes"]')).to_have_value("1")
    expect(form.locator('select[name="backend"]')).to_have_value("local")
    form.locator('input[name="args"]').fill("--epochs 3")
    form.locator('input[name="procs_per_node"]').fill("2")
    form.locator('input[name="name"]').fill("Tiny Job")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Train").click()
    # A name Kubernetes would refuse is caught before anything is sent.
    expect(form.locator(".jp-kfjupyter-form-problem")).to_contain_text("lowercase letters")
    expect(form.locator('input[name="args"]')).to_have_value("--epochs 3")
    form.locator('input[name="name"]').fill("tiny-job")
    shot(lab_page, output_path, "train-dialog.png")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Train").click()
    expect(lab_page.locator(".jp-Dialog")).to_have_count(0)

    detail = lab_page.locator(".jp-kfjupyter-run-detail:visible")
    expect(detail).to_be_visible(timeout=30_000)
    run_id = detail.get_attribute("data-run-id")
    assert run_id
    expect(detail.locator(".jp-kfjupyter-run-detail-name")).to_contain_text("tiny-job", timeout=15_000)
    facts = detail.locator(".jp-kfjupyter-facts")
    expect(facts).to_contain_text("tiny_train.py --epochs 3")
    expect(facts).to_contain_text("1 node, 2 processes per node")
    rank1 = detail.locator('tr.jp-kfjupyter-step[data-step="rank-1"]')
    expect(rank1).to_be_visible(timeout=30_000)
    rank1.click()
    log = detail.locator("pre.jp-kfjupyter-log")
    expect(log).to_contain_text("rank 1 of 2 epoch 0", timeout=60_000)
    expect(log).to_contain_text("rank 1 done", timeout=60_000)
    assert wait_until_ended(lab_server, run_id) == "succeeded"
    expect(detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")).to_have_text(
        "succeeded", timeout=30_000
    )
    status, body = lab_server.request(f"/kfjupyter/api/runs/{run_id}", token=lab_server.token)
    assert status == 200, body
    assert body["run"]["kind"] == "training"
    assert sorted(s["name"] for s in body["steps"]) == ["rank-0", "rank-1"]
    shot(lab_page, output_path, "train-job-detail.png")


def test_train_the_open_script_and_see_the_server_error(lab_page: Page, lab_server: LabServer) -> None:
    folder = lab_server.root / "e2e-train"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "edited.py").write_text("print('hi')\n")
    lab_page.goto(f"{lab_server.base}/lab/workspaces/edit/tree/e2e-train/edited.py?token={lab_server.token}")
    expect(lab_page.locator(".jp-FileEditor:visible")).to_be_visible(timeout=30_000)
    palette = open_palette(lab_page)
    palette.locator("input").fill("Train with kfjupyter")
    palette.locator(".lm-CommandPalette-item", has_text="Train with kfjupyter").first.click()
    form = lab_page.locator(".jp-Dialog .jp-kfjupyter-train-form")
    expect(form).to_be_visible()
    # The script in the current editor is prefilled.
    expect(form.locator('input[name="script"]')).to_have_value("e2e-train/edited.py")
    form.locator('input[name="script"]').fill("no/such/script.py")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Train").click()
    error = lab_page.locator(".jp-Dialog")
    expect(error).to_contain_text("Cannot start the training job", timeout=15_000)
    expect(error).to_contain_text("script.py")
    error.get_by_role("button").last.click()
    expect(lab_page.locator(".jp-Dialog")).to_have_count(0)
