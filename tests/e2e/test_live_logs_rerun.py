"""Live step logs (server-sent events), Re-run and Delete in the run detail, and the runs list from
the keyboard, in real JupyterLab and real Chromium."""

from __future__ import annotations

import time

from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_notebook_steps import shot
from tests.e2e.test_runs_sidebar import open_palette, open_sidebar
from tests.support.jupyter import LabServer
from tests.support.notebooks import cell, write_notebook
from tests.support.runs import start_notebook_run, wait_until_ended

TICKS = 8


def show_sidebar(page: Page) -> None:
    """Open the Kubeflow sidebar unless it is open already (its tab toggles it)."""
    if not page.locator("#jp-kfjupyter-sidebar").is_visible():
        open_sidebar(page)


def open_run_detail(page: Page, run_id: str) -> Locator:
    """Open the run from the Kubeflow sidebar, then close the sidebar to give the detail room."""
    show_sidebar(page)
    item = page.locator(f'li.jp-kfjupyter-run[data-run-id="{run_id}"]')
    expect(item).to_be_visible(timeout=15_000)
    item.click()
    detail = page.locator(f'.jp-kfjupyter-run-detail[data-run-id="{run_id}"]')
    expect(detail).to_be_visible(timeout=15_000)
    page.locator('.jp-SideBar.jp-mod-left li[data-id="jp-kfjupyter-sidebar"]').click()
    return detail


def ticking_notebook(lab: LabServer, name: str) -> str:
    write_notebook(
        lab.root / "e2e" / f"{name}.ipynb",
        [
            cell("data = list(range(3))", "step:prepare"),
            cell(
                "import time\n"
                f"for i in range({TICKS}):\n"
                "    print('tick', i, 'of', len(data), flush=True)\n"
                "    time.sleep(0.8)",
                "step:tick",
            ),
        ],
    )
    return f"e2e/{name}.ipynb"


def test_a_running_step_log_streams_live_and_can_be_searched(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    run_id = start_notebook_run(lab_server, ticking_notebook(lab_server, "ticking"), no_cache=True)
    detail = open_run_detail(lab_page, run_id)
    row = detail.locator('tr.jp-kfjupyter-step[data-step="tick"]')
    expect(row).to_be_visible(timeout=15_000)
    row.click()
    view = detail.locator(".jp-kfjupyter-log-view")
    log = view.locator("pre.jp-kfjupyter-log")
    expect(view).to_have_attribute("data-mode", "stream", timeout=10_000)
    expect(log).to_contain_text("tick 1 of 3", timeout=30_000)
    # Seen while the step is still printing: the lines arrive live, not after the run.
    status, body = lab_server.request(f"/kfjupyter/api/runs/{run_id}", token=lab_server.token)
    assert status == 200 and body["run"]["status"] == "running", body["run"]
    assert f"tick {TICKS - 1}" not in (log.text_content() or "")
    expect(view.locator(".jp-kfjupyter-log-live")).to_be_visible()
    shot(lab_page, output_path, "live-log-streaming.png")

    follow = view.locator("button.jp-kfjupyter-log-follow")
    expect(follow).to_have_attribute("aria-pressed", "true")
    follow.click()
    expect(follow).to_have_attribute("aria-pressed", "false")
    follow.click()
    expect(follow).to_have_attribute("aria-pressed", "true")

    expect(log).to_contain_text(f"tick {TICKS - 1} of 3", timeout=60_000)
    expect(detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")).to_have_text(
        "succeeded", timeout=60_000
    )
    expect(view).to_have_attribute("data-mode", "idle", timeout=10_000)
    # Each line once: the stream and the catch-up read never duplicate a chunk.
    text = log.text_content() or ""
    assert [text.count(f"tick {i} of 3") for i in range(TICKS)] == [1] * TICKS, text

    search = view.locator("input.jp-kfjupyter-log-search")
    search.fill("tick 3")
    expect(log.locator("mark.jp-kfjupyter-log-match")).to_have_count(1)
    expect(view.locator(".jp-kfjupyter-log-count")).to_have_text("1 match")
    search.fill("of 3")
    expect(log.locator("mark.jp-kfjupyter-log-match")).to_have_count(TICKS)
    search.press("Enter")
    expect(view.locator(".jp-kfjupyter-log-count")).to_have_text(f"1 of {TICKS}")
    expect(log.locator("mark.jp-mod-current")).to_have_count(1)
    expect(follow).to_have_attribute("aria-pressed", "false")
    shot(lab_page, output_path, "live-log-search.png")


def test_the_log_falls_back_to_polling_when_the_stream_fails(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    lab_page.route("**/logs/*/stream*", lambda route: route.fulfill(status=503, body="no streams today"))
    run_id = start_notebook_run(lab_server, ticking_notebook(lab_server, "fallback"), no_cache=True)
    detail = open_run_detail(lab_page, run_id)
    row = detail.locator('tr.jp-kfjupyter-step[data-step="tick"]')
    expect(row).to_be_visible(timeout=15_000)
    row.click()
    view = detail.locator(".jp-kfjupyter-log-view")
    log = view.locator("pre.jp-kfjupyter-log")
    expect(view).to_have_attribute("data-mode", "poll", timeout=10_000)
    expect(log).to_contain_text("tick 1 of 3", timeout=30_000)
    expect(view.locator(".jp-kfjupyter-log-live")).to_be_hidden()
    expect(log).to_contain_text(f"tick {TICKS - 1} of 3", timeout=60_000)
    assert wait_until_ended(lab_server, run_id) == "succeeded"
    text = log.text_content() or ""
    assert [text.count(f"tick {i} of 3") for i in range(TICKS)] == [1] * TICKS, text
    shot(lab_page, output_path, "log-polling-fallback.png")


def test_rerun_hits_the_cache_and_delete_removes_the_run(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    write_notebook(
        lab_server.root / "e2e" / "rerun.ipynb",
        [
            cell("data = list(range(5))", "step:prepare"),
            cell("total = sum(data)\nprint('total', total)", "step:total"),
        ],
    )
    first = start_notebook_run(lab_server, "e2e/rerun.ipynb", no_cache=True)
    assert wait_until_ended(lab_server, first) == "succeeded"
    detail = open_run_detail(lab_page, first)
    rerun = detail.locator("button.jp-kfjupyter-rerun")
    expect(rerun).to_be_visible()
    expect(detail.locator("button.jp-kfjupyter-delete")).to_be_visible()
    expect(detail.locator("button.jp-kfjupyter-cancel")).to_be_hidden()
    rerun.click()
    form = lab_page.locator(".jp-Dialog .jp-kfjupyter-rerun-form")
    expect(form).to_be_visible()
    expect(form.locator('input[name="no_cache"]')).not_to_be_checked()
    shot(lab_page, output_path, "rerun-dialog.png")
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Re-run").click()

    second_detail = lab_page.locator(f'.jp-kfjupyter-run-detail:not([data-run-id="{first}"]):visible')
    expect(second_detail).to_be_visible(timeout=30_000)
    second = second_detail.get_attribute("data-run-id")
    assert second and second != first
    assert wait_until_ended(lab_server, second) == "succeeded"
    status, body = lab_server.request(f"/kfjupyter/api/runs/{second}", token=lab_server.token)
    assert status == 200, body
    assert [s["cached"] for s in body["steps"]] == [True, True], body["steps"]
    expect(second_detail.locator(".jp-kfjupyter-run-detail-header .jp-kfjupyter-badge")).to_have_text(
        "succeeded", timeout=30_000
    )
    expect(second_detail.locator('tr.jp-kfjupyter-step[data-step="total"] td').nth(2)).to_have_text("yes")
    shot(lab_page, output_path, "rerun-cached.png")

    # Delete the re-run through its command (palette), with the panel current.
    palette = open_palette(lab_page)
    palette.locator("input").fill("Kubeflow: Delete Run")
    palette.locator(".lm-CommandPalette-item", has_text="Delete Run").first.click()
    confirm = lab_page.locator(".jp-Dialog")
    expect(confirm).to_contain_text(f"Run {second} is deleted")
    shot(lab_page, output_path, "delete-confirm.png")
    confirm.get_by_role("button", name="Delete").click()
    expect(lab_page.locator(f'.jp-kfjupyter-run-detail[data-run-id="{second}"]')).to_have_count(0)
    status, _ = lab_server.request(f"/kfjupyter/api/runs/{second}", token=lab_server.token)
    assert status == 404
    show_sidebar(lab_page)
    expect(lab_page.locator(f'li.jp-kfjupyter-run[data-run-id="{first}"]')).to_be_visible(timeout=15_000)
    expect(lab_page.locator(f'li.jp-kfjupyter-run[data-run-id="{second}"]')).to_have_count(0)

    # The first run's Delete button does the same.
    detail = open_run_detail(lab_page, first)
    detail.locator("button.jp-kfjupyter-delete").click()
    lab_page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(detail).to_have_count(0)
    show_sidebar(lab_page)
    expect(lab_page.locator(f'li.jp-kfjupyter-run[data-run-id="{first}"]')).to_have_count(0, timeout=15_000)


def test_the_runs_list_works_from_the_keyboard(lab_page: Page, lab_server: LabServer) -> None:
    write_notebook(lab_server.root / "e2e" / "keyboard.ipynb", [cell("print('k')", "step:only")])
    runs = [start_notebook_run(lab_server, "e2e/keyboard.ipynb", no_cache=True) for _ in range(3)]
    for run_id in runs:
        assert wait_until_ended(lab_server, run_id) == "succeeded"
    palette = open_palette(lab_page)
    palette.locator("input").fill("Kubeflow: Focus Runs List")
    palette.locator(".lm-CommandPalette-item", has_text="Focus Runs List").first.click()
    items = lab_page.locator("li.jp-kfjupyter-run")
    expect(items.first).to_be_focused(timeout=15_000)
    newest = items.first.get_attribute("data-run-id")
    lab_page.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_be_focused()
    lab_page.keyboard.press("ArrowDown")
    expect(items.nth(2)).to_be_focused()
    lab_page.keyboard.press("ArrowUp")
    expect(items.nth(1)).to_be_focused()
    # Focus survives the list's periodic refresh.
    time.sleep(3.5)
    expect(items.nth(1)).to_be_focused()
    target = items.nth(1).get_attribute("data-run-id")
    assert target != newest
    lab_page.keyboard.press("Enter")
    expect(lab_page.locator(f'.jp-kfjupyter-run-detail[data-run-id="{target}"]')).to_be_visible()
    lab_page.locator("#jp-kfjupyter-sidebar li.jp-kfjupyter-run").first.focus()
    lab_page.keyboard.press("End")
    expect(items.last).to_be_focused()
    lab_page.keyboard.press("Home")
    expect(items.first).to_be_focused()
