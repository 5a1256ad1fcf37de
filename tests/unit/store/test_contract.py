"""The RunStore contract, run against every implementation (see the ``store`` fixture)."""

from __future__ import annotations

import math
import re
import time

import pytest
from pydantic import ValidationError

from kfjupyter.errors import Conflict, InvalidInput, NotFound
from kfjupyter.store import (
    ArtifactRecord,
    CachedOutput,
    CachedRead,
    CacheEntry,
    EventRecord,
    MetricRecord,
    RunStore,
    RunUpdate,
    StepRecord,
)
from kfjupyter.store.details import KfpDetails, LocalDetails

from .helpers import make_run, make_steps

# -- runs -------------------------------------------------------------------------------------


def test_create_and_get_round_trip(store: RunStore) -> None:
    run = make_run(
        notebook="nb/demo.ipynb",
        parameters={"lr": 0.1, "layers": [1, 2], "opts": {"deep": None}, "name": "é\"'\n"},
        backend="kfp",
        details=KfpDetails(host="https://kfp.example", namespace="team", link="https://kfp.example/#/r"),
        owner_pid=123,
        owner_host="h",
        external_id="kfp-1",
    )
    assert store.create_run(run) == run
    assert store.get_run(run.id) == run


def test_new_run_defaults(store: RunStore) -> None:
    before = time.time()
    run = store.create_run(make_run())
    assert re.fullmatch(r"\d{6}-\d{6}-[0-9a-z]{4}", run.id)
    assert run.status == "pending"
    assert before <= run.created_at <= time.time()
    assert run.started_at is None and run.finished_at is None


def test_duplicate_run_id_conflicts(store: RunStore) -> None:
    store.create_run(make_run(id="r1"))
    with pytest.raises(Conflict, match="r1 already exists"):
        store.create_run(make_run(id="r1", name="other"))
    assert store.get_run("r1").name == "demo"


def test_missing_run_is_not_found(store: RunStore) -> None:
    with pytest.raises(NotFound, match="nope"):
        store.get_run("nope")
    with pytest.raises(NotFound):
        store.update_run("nope", RunUpdate(status="running"))
    with pytest.raises(NotFound):
        store.delete_run("nope")
    with pytest.raises(NotFound):
        store.get_steps("nope")


def test_lifecycle_sets_timestamps(store: RunStore) -> None:
    run = store.create_run(make_run())
    running = store.update_run(run.id, RunUpdate(status="running"))
    assert running.started_at is not None and running.finished_at is None
    done = store.update_run(run.id, RunUpdate(status="succeeded"))
    assert done.started_at == running.started_at
    assert done.finished_at is not None and done.finished_at >= done.started_at
    assert store.get_run(run.id) == done


def test_explicit_timestamps_win(store: RunStore) -> None:
    run = store.create_run(make_run())
    store.update_run(run.id, RunUpdate(status="running", started_at=10.0))
    done = store.update_run(run.id, RunUpdate(status="failed", finished_at=20.0, error="boom"))
    assert (done.started_at, done.finished_at, done.error) == (10.0, 20.0, "boom")


@pytest.mark.parametrize("final", ["succeeded", "failed", "cancelled"])
def test_final_status_is_final(store: RunStore, final: str) -> None:
    run = store.create_run(make_run())
    store.update_run(run.id, RunUpdate.model_validate({"status": final}))
    with pytest.raises(Conflict, match=f"is {final} and cannot become running"):
        store.update_run(run.id, RunUpdate(status="running"))
    assert store.update_run(run.id, RunUpdate(details=LocalDetails(reason="x"))).status == final


def test_resume_interrupted_run(store: RunStore) -> None:
    run = store.create_run(make_run())
    store.update_run(run.id, RunUpdate(status="running"))
    stopped = store.update_run(run.id, RunUpdate(status="interrupted", error="owner died"))
    assert stopped.finished_at is not None
    resumed = store.update_run(run.id, RunUpdate(status="running", error=None, owner_pid=42))
    assert resumed.finished_at is None and resumed.error is None and resumed.owner_pid == 42
    assert resumed.started_at == stopped.started_at


def test_update_only_touches_given_fields(store: RunStore) -> None:
    run = store.create_run(make_run(error="old", details=LocalDetails(reason="a"), external_id="x"))
    new = store.update_run(run.id, RunUpdate(details=LocalDetails(reason="b")))
    assert (new.error, new.details, new.external_id, new.status) == (
        "old",
        LocalDetails(reason="b"),
        "x",
        "pending",
    )


def test_list_runs_newest_first_with_filters(store: RunStore) -> None:
    ids = []
    for i in range(5):
        kind = "training" if i % 2 else "pipeline"
        ids.append(store.create_run(make_run(id=f"run-{i}", kind=kind, created_at=100.0 + i)).id)
    store.update_run("run-3", RunUpdate(status="running"))
    assert [r.id for r in store.list_runs()] == ids[::-1]
    assert [r.id for r in store.list_runs(kind="training")] == ["run-3", "run-1"]
    assert [r.id for r in store.list_runs(status="running")] == ["run-3"]
    assert [r.id for r in store.list_runs(kind="pipeline", status="running")] == []
    assert [r.id for r in store.list_runs(limit=2, offset=1)] == ["run-3", "run-2"]


def test_negative_paging_is_invalid(store: RunStore) -> None:
    with pytest.raises(InvalidInput):
        store.list_runs(limit=-1)
    with pytest.raises(InvalidInput):
        store.list_runs(offset=-1)
    with pytest.raises(InvalidInput):
        store.list_events(limit=-1)


def test_delete_run_removes_everything(store: RunStore) -> None:
    keep = store.create_run(make_run(id="keep"))
    run = store.create_run(make_run(id="gone", status="succeeded"))
    for rid in (keep.id, run.id):
        store.upsert_steps(make_steps(rid, 2))
        store.add_event(EventRecord(run_id=rid, type="x"))
        store.add_metric(MetricRecord(run_id=rid, name="m", value=1.0))
        store.add_artifact(
            ArtifactRecord(run_id=rid, step="s0", name="a", kind="value", path=f"runs/{rid}/a")
        )
        store.put_cache(CacheEntry(cache_key=f"k-{rid}", run_id=rid, step="s0"))
    log = store.log_path(run.id, "s0", create_dir=True)
    log.write_text("hello\n")
    store.delete_run(run.id)
    with pytest.raises(NotFound):
        store.get_run(run.id)
    assert not store.run_dir(run.id).exists()
    assert store.get_cache("k-gone") is None
    assert all(e.run_id == "keep" for e in store.list_events())
    assert len(store.get_steps("keep")) == 2
    assert store.get_cache("k-keep") is not None


@pytest.mark.parametrize("active", ["pending", "running"])
def test_cannot_delete_active_run(store: RunStore, active: str) -> None:
    run = store.create_run(make_run(status=active))
    with pytest.raises(Conflict, match="cancel it"):
        store.delete_run(run.id)


# -- steps ------------------------------------------------------------------------------------


def test_steps_upsert_keeps_first_order(store: RunStore) -> None:
    run = store.create_run(make_run())
    steps = make_steps(run.id, 3)
    store.upsert_steps(steps[::-1])
    store.upsert_step(steps[1].model_copy(update={"status": "running", "attempt": 1}))
    got = store.get_steps(run.id)
    assert [s.name for s in got] == ["s2", "s1", "s0"]
    assert got[1].status == "running" and got[1].attempt == 1
    assert got[0] == steps[2]


def test_step_round_trip_every_field(store: RunStore) -> None:
    run = store.create_run(make_run())
    step = StepRecord(
        run_id=run.id,
        name="train model",
        status="failed",
        cached=True,
        attempt=3,
        started_at=1.5,
        finished_at=2.5,
        error="ZeroDivisionError: division by zero",
        cache_key="abc",
        exit_code=1,
        signal=9,
        upstream=["a", "b"],
    )
    store.upsert_step(step)
    assert store.get_steps(run.id) == [step]


def test_upsert_into_missing_run_writes_nothing(store: RunStore) -> None:
    run = store.create_run(make_run())
    with pytest.raises(NotFound, match="ghost"):
        store.upsert_steps([*make_steps(run.id, 1), *make_steps("ghost", 1)])
    assert store.get_steps(run.id) == []


# -- events -----------------------------------------------------------------------------------


def test_events_since_id(store: RunStore) -> None:
    a = store.create_run(make_run(id="a"))
    b = store.create_run(make_run(id="b"))
    first = store.add_event(EventRecord(run_id=a.id, type="run_started", payload={"n": 1}))
    second = store.add_event(EventRecord(run_id=b.id, step="s0", type="step_started"))
    third = store.add_event(EventRecord(run_id=a.id, step="s0", type="step_finished", payload={"ok": True}))
    assert 0 < first.id < second.id < third.id
    assert store.list_events(a.id) == [first, third]
    assert store.list_events(a.id, since_id=first.id) == [third]
    assert store.list_events(since_id=first.id) == [second, third]
    assert store.list_events(limit=1) == [first]
    with pytest.raises(NotFound):
        store.add_event(EventRecord(run_id="ghost", type="x"))


# -- metrics ----------------------------------------------------------------------------------


def test_metrics_keep_full_history(store: RunStore) -> None:
    run = store.create_run(make_run(kind="training"))
    store.add_metrics(
        [MetricRecord(run_id=run.id, name="loss", value=1.0 / (i + 1), index=i) for i in range(3)]
    )
    store.add_metric(MetricRecord(run_id=run.id, name="acc", value=0.5, index=0, step="train"))
    store.add_metric(MetricRecord(run_id=run.id, name="loss", value=9.0, index=1))
    got = store.list_metrics(run.id)
    assert [(m.name, m.index, m.value) for m in got] == [
        ("acc", 0, 0.5),
        ("loss", 0, 1.0),
        ("loss", 1, 0.5),
        ("loss", 1, 9.0),
        ("loss", 2, 1.0 / 3),
    ]
    assert got[0].step == "train"
    assert [m.value for m in store.list_metrics(run.id, "acc")] == [0.5]


def test_metrics_keep_nan_and_infinities(store: RunStore) -> None:
    run = store.create_run(make_run())
    values = [math.nan, math.inf, -math.inf, -0.0]
    store.add_metrics([MetricRecord(run_id=run.id, name="m", value=v, index=i) for i, v in enumerate(values)])
    got = [m.value for m in store.list_metrics(run.id)]
    assert math.isnan(got[0]) and got[1:] == values[1:]


def test_metrics_for_missing_run(store: RunStore) -> None:
    with pytest.raises(NotFound):
        store.add_metric(MetricRecord(run_id="ghost", name="m", value=1.0))
    with pytest.raises(NotFound):
        store.list_metrics("ghost")


# -- artifacts and cache ----------------------------------------------------------------------


def _artifact(run_id: str, step: str, name: str, **fields: object) -> ArtifactRecord:
    base: dict[str, object] = {
        "run_id": run_id,
        "step": step,
        "name": name,
        "kind": "value",
        "path": f"runs/{run_id}/{step}/{name}.pkl",
    }
    return ArtifactRecord.model_validate({**base, **fields})


def test_artifacts(store: RunStore) -> None:
    run = store.create_run(make_run())
    df = _artifact(
        run.id,
        "load",
        "df",
        kind="dataframe",
        media_type="application/vnd.apache.parquet",
        size=10,
        sha256="a" * 64,
        preview={"shape": [3, 2], "head": [{"x": 1}]},
        serializer="parquet",
    )
    for artifact in (_artifact(run.id, "train", "model"), df, _artifact(run.id, "load", "a")):
        store.add_artifact(artifact)
    assert [(a.step, a.name) for a in store.list_artifacts(run.id)] == [
        ("load", "a"),
        ("load", "df"),
        ("train", "model"),
    ]
    assert store.get_artifact(run.id, "load", "df") == df
    replaced = df.model_copy(update={"size": 99})
    store.add_artifact(replaced)
    assert store.list_artifacts(run.id, "load")[1] == replaced
    with pytest.raises(NotFound, match="no artifact 'x'"):
        store.get_artifact(run.id, "load", "x")
    with pytest.raises(NotFound):
        store.add_artifact(_artifact("ghost", "s", "n"))


def test_cache_entries(store: RunStore) -> None:
    run = store.create_run(make_run())
    assert store.get_cache("k") is None
    entry = CacheEntry(
        cache_key="k",
        run_id=run.id,
        step="train",
        outputs=[CachedOutput(name="model", path=f"runs/{run.id}/train/model.pkl", sha256="b" * 64)],
    )
    store.put_cache(entry)
    assert store.get_cache("k") == entry
    newer = entry.model_copy(update={"step": "train2", "outputs": []})
    store.put_cache(newer)
    assert store.get_cache("k") == newer
    with pytest.raises(NotFound):
        store.put_cache(CacheEntry(cache_key="k2", run_id="ghost", step="s"))


def test_cache_entries_keep_what_the_step_read(store: RunStore) -> None:
    run = store.create_run(make_run())
    reads = [
        CachedRead(kind="module", path="/nb/helper.py", name="helper", size=10, mtime_ns=5, sha256="a" * 64),
        CachedRead(kind="dir", path="/nb/data", size=0, mtime_ns=0, sha256="c" * 64),
        CachedRead(kind="file", path="/nb/gone.txt", size=-1, mtime_ns=0, sha256=""),
    ]
    store.put_cache(CacheEntry(cache_key="r", run_id=run.id, step="s", reads=reads))
    got = store.get_cache("r")
    assert got is not None and got.reads == reads
    store.put_cache(CacheEntry(cache_key="none", run_id=run.id, step="s"))
    got = store.get_cache("none")
    assert got is not None and got.reads is None  # not recorded is not the same as "read nothing"
    store.put_cache(CacheEntry(cache_key="empty", run_id=run.id, step="s", reads=[]))
    got = store.get_cache("empty")
    assert got is not None and got.reads == []


# -- interrupted runs -------------------------------------------------------------------------


def test_mark_interrupted_only_dead_local_owners(store: RunStore) -> None:
    dead, live = 1_000_001, 1_000_002
    orphan = store.create_run(make_run(id="orphan", owner_pid=dead))
    store.update_run(orphan.id, RunUpdate(status="running"))
    store.create_run(make_run(id="queued", owner_pid=dead))
    store.create_run(make_run(id="alive", owner_pid=live, status="running"))
    store.create_run(make_run(id="remote", owner_pid=dead, owner_host="elsewhere", status="running"))
    store.create_run(make_run(id="kfp", owner_pid=None, status="running"))
    store.create_run(make_run(id="done", owner_pid=dead, status="succeeded"))
    store.upsert_steps(
        [
            StepRecord(run_id="orphan", name="a", status="succeeded"),
            StepRecord(run_id="orphan", name="b", status="running", attempt=1),
            StepRecord(run_id="orphan", name="c", status="pending"),
        ]
    )
    marked = store.mark_interrupted(alive=lambda pid: pid == live)
    assert marked == ["orphan", "queued"]
    got = store.get_run("orphan")
    assert got.status == "interrupted" and got.finished_at is not None
    assert got.error is not None and str(dead) in got.error
    assert [s.status for s in store.get_steps("orphan")] == ["succeeded", "interrupted", "pending"]
    for rid, status in [
        ("alive", "running"),
        ("remote", "running"),
        ("kfp", "running"),
        ("done", "succeeded"),
    ]:
        assert store.get_run(rid).status == status
    assert store.mark_interrupted(alive=lambda pid: False) == ["alive"]


# -- records ----------------------------------------------------------------------------------


def test_records_are_immutable_and_strict() -> None:
    run = make_run()
    with pytest.raises(ValidationError):
        run.status = "running"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs"):
        make_run(colour="red")
    with pytest.raises(ValidationError):
        make_run(id="../etc")
    with pytest.raises(ValidationError):
        StepRecord(run_id="r", name="a/b")
    with pytest.raises(ValidationError, match="relative"):
        ArtifactRecord(run_id="r", step="s", name="n", kind="file", path="../secret")
