"""Typed run details: stored as the labels the store always kept, so older stores load unchanged."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from pydantic import ValidationError

from kfjupyter.errors import Conflict
from kfjupyter.store import (
    Engine,
    KfpDetails,
    KubernetesDetails,
    LocalDetails,
    RunRecord,
    RunStore,
    RunUpdate,
    SqliteRunStore,
)
from kfjupyter.store.details import details_from_labels, details_to_labels, record_json

from .helpers import make_run


def _insert_raw(home: Path, run_id: str, backend: str, kind: str, labels: dict[str, str]) -> None:
    """A row as an older kfjupyter wrote it: the labels column a JSON object of strings."""
    with sqlite3.connect(home / "runs.db") as conn:
        conn.execute(
            "INSERT INTO runs (id, kind, name, backend, status, created_at, parameters, labels) "
            "VALUES (?, ?, 'old', ?, 'succeeded', 1.0, '{}', ?)",
            (run_id, kind, backend, json.dumps(labels)),
        )


def test_runs_written_with_labels_load_as_typed_details(tmp_path: Path) -> None:
    with SqliteRunStore(tmp_path) as store:
        store.get_run  # noqa: B018 - the schema exists once the store is open
    _insert_raw(
        tmp_path,
        "k8s-1",
        "kubernetes",
        "training",
        {"namespace": "team", "kind": "PyTorchJob", "trainer_version": "", "reason": "DeadlineExceeded"},
    )
    _insert_raw(
        tmp_path,
        "kfp-1",
        "kfp",
        "pipeline",
        {"kfp_host": "http://kfp", "kfp_link": "http://kfp/#/r/1", "kfp_cancel": "requested"},
    )
    _insert_raw(tmp_path, "local-1", "local", "training", {"reason": "RankFailed"})
    with SqliteRunStore(tmp_path) as store:
        assert store.get_run("k8s-1").details == KubernetesDetails(
            namespace="team", kind="PyTorchJob", reason="DeadlineExceeded"
        )
        assert store.get_run("kfp-1").details == KfpDetails(
            host="http://kfp", link="http://kfp/#/r/1", cancel="requested"
        )
        assert store.get_run("local-1").details == LocalDetails(reason="RankFailed")
    with sqlite3.connect(tmp_path / "runs.db") as conn:  # and are written back in the same form
        row = conn.execute("SELECT labels FROM runs WHERE id='k8s-1'").fetchone()
    assert json.loads(row[0])["kind"] == "PyTorchJob"


def test_labels_round_trip_per_engine() -> None:
    for details in (
        LocalDetails(reason="RankFailed"),
        KfpDetails(host="h", namespace="n", link="l", cancel="canceling"),
        KubernetesDetails(namespace="ns", kind="TrainJob", trainer_version="v2.3"),
    ):
        assert details_from_labels(details.backend, details_to_labels(details)) == details


def test_a_run_on_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValidationError, match="backend"):
        RunRecord(kind="pipeline", name="x", backend="k8s")  # type: ignore[arg-type]


def test_details_must_be_of_the_run_engine(store: RunStore) -> None:
    with pytest.raises(ValidationError, match="details of a kfp run"):
        make_run(backend="local", details=KfpDetails())
    run = store.create_run(make_run())
    with pytest.raises(Conflict, match="cannot take kfp details"):
        store.update_run(run.id, RunUpdate(details=KfpDetails()))


def test_new_runs_get_the_empty_details_of_their_engine() -> None:
    assert make_run(backend="kfp").details == KfpDetails()
    assert make_run().backend is Engine.LOCAL and make_run().details == LocalDetails()
    with pytest.raises(ValidationError, match="namespace"):
        make_run(kind="training", backend="kubernetes")  # a cluster job always knows its namespace


def test_the_command_line_json_keeps_the_labels_object() -> None:
    run = make_run(backend="kfp", details=KfpDetails(host="http://kfp"))
    body = record_json(run)
    assert body["labels"] == {"kfp_host": "http://kfp"} and body["backend"] == "kfp" and "details" not in body
