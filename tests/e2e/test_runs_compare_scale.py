"""The runs panel with 10 000 runs in the store: first page fast, paging, a 50-run compare."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Page, expect

from kfjupyter.store import MetricRecord, RunRecord, SqliteRunStore
from tests.e2e.test_runs_sidebar import open_sidebar
from tests.support.jupyter import LabServer

COUNT = 10_000


def seed(home: Path) -> None:
    """10 000 old runs (older than every other test's), with metrics on the newest 50."""
    with SqliteRunStore(home) as store:
        for i in range(COUNT):
            store.create_run(
                RunRecord(
                    id=f"scale-{i:05d}",
                    kind="training" if i % 10 == 0 else "pipeline",
                    name=f"scale sweep {i}",
                    notebook=f"scale/nb{i % 20}.ipynb",
                    backend="local",
                    status="failed" if i % 3 == 0 else "succeeded",
                    parameters={"lr": i % 7 / 10, "seed": i},
                    created_at=1_600_000_000 + i,
                    started_at=1_600_000_000 + i,
                    finished_at=1_600_000_030 + i,
                )
            )
        store.add_metrics(
            [
                MetricRecord(run_id=f"scale-{i:05d}", name="loss", value=1 / (k + i % 5 + 1), index=k)
                for i in range(COUNT - 50, COUNT)
                for k in range(20)
            ]
        )


def test_ten_thousand_runs_first_page_in_a_second_then_more_and_compare_fifty(
    lab_page: Page, lab_server: LabServer, output_path: str
) -> None:
    seed(lab_server.root.parent / "kfjupyter")
    open_sidebar(lab_page)
    runs = lab_page.locator("li.jp-kfjupyter-run")
    search = lab_page.locator("input.jp-kfjupyter-runs-search")
    search.fill("scale sweep")
    started = time.perf_counter()
    search.press("Enter")
    expect(runs).to_have_count(50, timeout=5_000)
    expect(runs.first).to_have_attribute("data-run-id", f"scale-{COUNT - 1:05d}")
    first_page_s = time.perf_counter() - started
    print(f"first page of 50 (search over {COUNT} runs) rendered in {first_page_s * 1000:.0f} ms")
    assert first_page_s <= 1.0

    more = lab_page.locator("button.jp-kfjupyter-runs-more")
    more.scroll_into_view_if_needed()  # scrolling to the end loads the next page as well
    expect(runs).to_have_count(100, timeout=5_000)
    expect(runs.last).to_have_attribute("data-run-id", f"scale-{COUNT - 100:05d}")
    Path(output_path).mkdir(parents=True, exist_ok=True)
    lab_page.screenshot(path=str(Path(output_path) / "runs-10k.png"))

    ids = ",".join(f"scale-{i:05d}" for i in range(COUNT - 50, COUNT))
    started = time.perf_counter()
    status, body = lab_server.request(f"/kfjupyter/api/runs/compare?ids={ids}", token=lab_server.token)
    compare_s = time.perf_counter() - started
    assert status == 200, body
    assert len(body["runs"]) == 50 and body["differing"] == ["lr", "seed"]
    assert compare_s <= 1.0, compare_s
