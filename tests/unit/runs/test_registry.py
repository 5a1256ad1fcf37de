"""The registry: each run goes to the backend of its kind and engine, and nothing else decides."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfjupyter.errors import Conflict, InvalidInput, NotFound
from kfjupyter.runs import registry
from kfjupyter.runs.backend import BackendKey, NotebookStart, Rerun, RunContext, ScriptStart
from kfjupyter.runs.operations import cancel_run, compare, delete_run, rerun_run
from kfjupyter.runs.stored import as_override, parameter_overrides, rerun_parameters
from kfjupyter.store import Engine, KubernetesDetails, MemoryRunStore, MetricRecord, RunRecord


def record(kind: str, engine: Engine, **fields: object) -> RunRecord:
    details = KubernetesDetails(namespace="ns") if engine is Engine.KUBERNETES else None
    return RunRecord.model_validate(
        {"kind": kind, "name": "r", "backend": engine, "details": details, **fields}
    )


@pytest.mark.parametrize(
    ("kind", "engine", "key"),
    [
        ("pipeline", Engine.LOCAL, BackendKey.LOCAL_PIPELINE),
        ("pipeline", Engine.KFP, BackendKey.KFP_PIPELINE),
        ("training", Engine.LOCAL, BackendKey.LOCAL_TRAINING),
        ("training", Engine.KUBERNETES, BackendKey.KUBERNETES_TRAINING),
    ],
)
def test_each_run_has_the_backend_of_its_kind_and_engine(kind: str, engine: Engine, key: BackendKey) -> None:
    run = record(kind, engine)
    assert registry.key_of(run) is key and registry.backend_of(run).key is key


def test_a_run_no_backend_handles_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="a pipeline run on kubernetes, which cannot be handled from here"):
        registry.key_of(record("pipeline", Engine.KUBERNETES))


def test_starts_go_to_the_backend_of_their_engine_or_target(tmp_path: Path) -> None:
    nb = tmp_path / "nb.ipynb"
    assert registry.backend_for_start(NotebookStart(notebook=nb)).key is BackendKey.LOCAL_PIPELINE
    assert registry.backend_for_start(NotebookStart(nb, engine=Engine.KFP)).key is BackendKey.KFP_PIPELINE
    with pytest.raises(InvalidInput, match="not on kubernetes"):
        registry.backend_for_start(NotebookStart(nb, engine=Engine.KUBERNETES))
    script = tmp_path / "train.py"
    for target, key in (
        ("local", BackendKey.LOCAL_TRAINING),
        ("auto", BackendKey.LOCAL_TRAINING),
        ("kubernetes", BackendKey.KUBERNETES_TRAINING),
    ):
        assert registry.backend_for_start(ScriptStart(script, target=target)).key is key  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="starts from a notebook"):
        registry.backend(BackendKey.LOCAL_PIPELINE).start(
            RunContext(MemoryRunStore(tmp_path)), ScriptStart(script)
        )


def test_operations_refuse_what_a_run_state_does_not_allow(tmp_path: Path) -> None:
    store = MemoryRunStore(tmp_path)
    ctx = RunContext(store)
    done = store.create_run(record("pipeline", Engine.LOCAL, status="succeeded"))
    with pytest.raises(Conflict, match="is succeeded; only a pending or running run can be cancelled"):
        cancel_run(ctx, done.id)
    with pytest.raises(Conflict, match="was not made from a notebook and cannot be re-run"):
        rerun_run(ctx, done.id, Rerun())
    kfp = store.create_run(
        record("pipeline", Engine.KFP, status="succeeded", notebook=str(tmp_path / "gone.ipynb"))
    )
    with pytest.raises(Conflict, match="no Kubeflow Pipelines host is configured here"):
        cancel_run(ctx, store.create_run(record("pipeline", Engine.KFP, external_id="x")).id)
    with pytest.raises(NotFound, match="no longer exists"):
        rerun_run(ctx, kfp.id, Rerun())
    delete_run(ctx, done.id)
    assert done.id not in {r.id for r in store.list_runs()} and kfp.id in {r.id for r in store.list_runs()}


def test_compare_marks_differing_parameters_and_the_best_run(tmp_path: Path) -> None:
    store = MemoryRunStore(tmp_path)
    a = store.create_run(record("pipeline", Engine.LOCAL, parameters={"lr": 0.1, "seed": 1}))
    b = store.create_run(record("pipeline", Engine.LOCAL, parameters={"lr": 0.2, "seed": 1}))
    store.add_metrics(
        [MetricRecord(run_id=a.id, name="loss", value=0.5), MetricRecord(run_id=b.id, name="loss", value=0.4)]
    )
    store.add_metrics(
        [MetricRecord(run_id=a.id, name="acc", value=0.9), MetricRecord(run_id=b.id, name="acc", value=0.8)]
    )
    found = compare(RunContext(store), [a.id, b.id])
    assert found.differing == ["lr"] and found.parameters == ["lr", "seed"]
    assert found.best == {"acc": a.id, "loss": b.id}
    with pytest.raises(InvalidInput, match="compare 2 to 50 runs, got 1"):
        compare(RunContext(store), [a.id])


def test_rerun_parameters_keep_recorded_values_that_are_still_declared() -> None:
    recorded = {"lr": 0.5, "name": "x", "flag": True, "layers": [1, 2], "gone": 3}
    values = rerun_parameters({"lr", "name", "flag", "layers"}, recorded, {"lr": "0.1"})
    assert values == {"lr": "0.1", "name": "x", "flag": "true", "layers": "[1, 2]"}
    assert as_override(None) == "null"
    assert parameter_overrides(["a=1", "b=x=y", "a=2"]) == {"a": "2", "b": "x=y"}
    with pytest.raises(InvalidInput, match="-p: '=1' is not NAME=VALUE"):
        parameter_overrides(["=1"])
