"""``GET runs/compare`` on a real jupyter server: diff, best values, history, errors, auth."""

from __future__ import annotations

import math
import time

import pytest

from kfjupyter.runs.compare import best_runs, differing, lower_is_better, thin
from kfjupyter.server.models import RunComparison
from kfjupyter.store import MetricRecord, RunRecord, SqliteRunStore
from tests.support.jupyter import LabServer

pytestmark = pytest.mark.integration

RUNS = {
    "cmp-a": ({"lr": 0.1, "epochs": 3, "tag": "x"}, [0.9, 0.5, 0.3], [0.6, 0.7, 0.8]),
    "cmp-b": ({"lr": 0.01, "epochs": 3, "tag": "x"}, [0.8, 0.6, 0.4], [0.5, 0.8, 0.9]),
    "cmp-c": ({"lr": 0.01, "epochs": 3}, [1.0, 0.2], []),
}


@pytest.fixture(scope="module")
def seeded(lab_server: LabServer) -> LabServer:
    now = time.time()
    with SqliteRunStore(lab_server.root.parent / "kfjupyter") as store:
        for i, (run_id, (params, losses, accs)) in enumerate(RUNS.items()):
            store.create_run(
                RunRecord(
                    id=run_id,
                    kind="pipeline",
                    name="train",
                    notebook="cmp/train.ipynb",
                    backend="local",
                    status="succeeded",
                    parameters=params,
                    created_at=now - 3600 + i,  # in the past: other tests' runs stay newest
                )
            )
            metrics = [
                MetricRecord(run_id=run_id, name="loss", value=v, index=n) for n, v in enumerate(losses)
            ]
            metrics += [MetricRecord(run_id=run_id, name="acc", value=v, index=n) for n, v in enumerate(accs)]
            # A second rank logging the same index: the comparison keeps one value per index.
            metrics.append(
                MetricRecord(
                    run_id=run_id, step="rank-1", name="loss", value=losses[-1], index=len(losses) - 1
                )
            )
            store.add_metrics(metrics)
    return lab_server


def compare(lab: LabServer, ids: str, token: bool = True) -> tuple[int, object]:
    return lab.request(f"/kfjupyter/api/runs/compare?ids={ids}", token=lab.token if token else None)


def test_compare_diffs_parameters_and_picks_the_best_run_per_metric(seeded: LabServer) -> None:
    status, body = compare(seeded, "cmp-c,cmp-a,cmp-b")
    assert status == 200, body
    result = RunComparison.model_validate(body)
    assert [r.run.id for r in result.runs] == ["cmp-c", "cmp-a", "cmp-b"]
    assert result.parameters == ["epochs", "lr", "tag"]
    assert result.differing == ["lr", "tag"]
    assert result.metrics == ["acc", "loss"]
    assert result.best == {"acc": "cmp-b", "loss": "cmp-c"}
    by_id = {r.run.id: r for r in result.runs}
    assert by_id["cmp-a"].metrics == {"acc": 0.8, "loss": 0.3}
    assert by_id["cmp-c"].metrics == {"loss": 0.2}
    assert [(p.name, p.index, p.value) for p in by_id["cmp-a"].history] == [
        ("acc", 0, 0.6),
        ("acc", 1, 0.7),
        ("acc", 2, 0.8),
        ("loss", 0, 0.9),
        ("loss", 1, 0.5),
        ("loss", 2, 0.3),
    ]
    # the charts are the kfjupyter.charts specs: a line per run, each run in its column's colour
    charts = {c.metric: c for c in result.charts}
    assert list(charts) == ["acc", "loss"] and not charts["loss"].single
    spec = charts["loss"].spec
    assert spec is not None and spec["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    assert spec["encoding"]["color"]["scale"]["domain"] == ["train #c", "train #a", "train #b"]
    rows = spec["data"]["values"]
    assert [(r["series"], r["x"], r["value"]) for r in rows if r["series"] == "train #c"] == [
        ("train #c", 0, "1"),
        ("train #c", 1, "0.2"),
    ]


@pytest.mark.parametrize(
    ("ids", "words"),
    [
        ("cmp-a", "2 to 50"),
        ("cmp-a,cmp-a", "distinct"),
        (",".join(f"r{i}" for i in range(51)), "got 51"),
        ("", "ids"),
    ],
)
def test_bad_id_lists_are_400(seeded: LabServer, ids: str, words: str) -> None:
    status, body = compare(seeded, ids)
    assert status == 400, body
    assert isinstance(body, dict) and words in body["message"]


def test_an_unknown_run_is_404(seeded: LabServer) -> None:
    status, body = compare(seeded, "cmp-a,cmp-nope")
    assert status == 404, body
    assert isinstance(body, dict) and "cmp-nope" in body["message"]


def test_anonymous_callers_cannot_compare(seeded: LabServer) -> None:
    status, body = compare(seeded, "cmp-a,cmp-b", token=False)
    assert status == 403
    assert isinstance(body, dict) and set(body) == {"message", "reason"}


def test_compare_rules() -> None:
    assert lower_is_better("val_loss") and lower_is_better("Error rate") and not lower_is_better("acc")
    assert differing([{"a": 1, "b": [1]}, {"a": 1, "b": [2]}, {"a": 1}]) == ["b"]
    assert differing([{"a": 1}, {"a": 1.0}]) == ["a"]  # 1 and 1.0 print differently: shown as a diff
    assert best_runs({"r1": {"loss": 1.0}, "r2": {"loss": 1.0}}) == {}
    assert best_runs({"r1": {"acc": math.nan}, "r2": {"acc": 0.1}, "r3": {"acc": 0.2}}) == {"acc": "r3"}
    points = [MetricRecord(run_id="r", name="m", value=i, index=i) for i in range(2000)]
    thinned = thin(points)
    assert len(thinned) == 500 and thinned[0].index == 0 and thinned[-1].index == 1999
