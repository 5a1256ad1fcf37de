"""KFP run tracking without a server: state mapping, task-to-step matching, backoff, pod-log persistence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kfp_server_api as api
import pytest
from kfp import dsl

from kfjupyter.errors import InvalidInput, Unavailable
from kfjupyter.kfp.entry import artifact_path
from kfjupyter.kfp.podlogs import PodGone, PodTask, persist_pod_logs
from kfjupyter.kfp.tracking import RUN_STATES, STEP_STATES, map_tasks, sync_run, watch_run
from kfjupyter.store import RunRecord, RunStore, StepRecord
from kfjupyter.store.memory import MemoryRunStore
from tests.support.kfp_standin import task


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with MemoryRunStore(tmp_path / "home") as s:
        yield s


def kfp_run(store: RunStore, steps: list[str]) -> RunRecord:
    record = store.create_run(
        RunRecord(
            kind="pipeline", name="nb", backend="kfp", external_id="kfp-1", labels={"kfp_namespace": "team"}
        )
    )
    store.upsert_steps([StepRecord(run_id=record.id, name=s) for s in steps])
    return record


class Script:
    """A RunService that replays V2beta1Run objects (the last one repeats)."""

    def __init__(self, *runs: Any) -> None:
        self.runs = list(runs)
        self.calls = 0

    def get_run(self, run_id: str) -> Any:
        self.calls += 1
        item = self.runs.pop(0) if len(self.runs) > 1 else self.runs[0]
        if isinstance(item, Exception):
            raise item
        return item


def remote(state: str, tasks: list[Any] | None = None, error: str | None = None) -> Any:
    return api.V2beta1Run(
        run_id="kfp-1",
        state=state,
        run_details=api.V2beta1RunDetails(task_details=tasks or []),
        error=api.GoogleRpcStatus(message=error) if error else None,
    )


def graph(make: str, train: str, *, pods: bool = True) -> list[Any]:
    """Task details shaped like KFP's: root DAG, drivers, the task node and its executor pod."""
    return [
        task("r", "root", "RUNNING"),
        task("d1", "step-make-driver", "SUCCEEDED", parent="r", pod="make-driver-pod"),
        task("t1", "step-make", make, parent="r"),
        task("e1", "executor", make, parent="t1", pod="make-pod" if pods else None),
        task("t2", "train", train, parent="r", error="boom" if train == "FAILED" else None),
        task("e2", "executor", train, parent="t2", pod="train-pod"),
    ]


def test_every_kfp_runtime_state_is_mapped() -> None:
    states = {v for k, v in vars(api.V2beta1RuntimeState).items() if k.isupper() and isinstance(v, str)}
    assert states == set(RUN_STATES) == set(STEP_STATES)


def test_tasks_map_to_steps_by_display_name_and_parent_chain(store: RunStore) -> None:
    record = kfp_run(store, ["make", "train", "never"])
    changed, pods = map_tasks(record.id, store.get_steps(record.id), graph("SUCCEEDED", "FAILED"))
    by_name = {s.name: s for s in changed}
    assert set(by_name) == {"make", "train"}
    assert by_name["make"].status == "succeeded" and by_name["make"].finished_at
    assert by_name["train"].status == "failed" and by_name["train"].error == "boom"
    assert pods == [
        PodTask(step="make", pod="make-pod", finished=True),
        PodTask(step="train", pod="train-pod", finished=True),
    ]


def test_sync_writes_steps_then_the_final_run_status(store: RunStore) -> None:
    record = kfp_run(store, ["make", "train"])
    service = Script(remote("RUNNING", graph("RUNNING", "PENDING")))
    assert sync_run(store, record.id, service).status == "running"
    assert [s.status for s in store.get_steps(record.id)] == ["running", "pending"]

    service = Script(remote("FAILED", graph("SUCCEEDED", "FAILED"), error="train failed"))
    final = sync_run(store, record.id, service)
    assert (final.status, final.error) == ("failed", "train failed")
    assert final.owner_pid is None and final.finished_at
    assert [s.status for s in store.get_steps(record.id)] == ["succeeded", "failed"]
    assert sync_run(store, record.id, service) == final and service.calls == 1


def test_steps_never_started_in_a_failed_run_are_closed(store: RunStore) -> None:
    record = kfp_run(store, ["make", "train", "report"])
    sync_run(store, record.id, Script(remote("FAILED", graph("SUCCEEDED", "FAILED"))))
    assert [s.status for s in store.get_steps(record.id)] == ["succeeded", "failed", "upstream_failed"]


def test_sync_refuses_local_runs_and_reports_an_unreachable_server(store: RunStore) -> None:
    local = store.create_run(RunRecord(kind="pipeline", name="nb", backend="local"))
    with pytest.raises(InvalidInput, match="not a Kubeflow Pipelines run"):
        sync_run(store, local.id, Script(remote("RUNNING")))
    record = kfp_run(store, ["make"])
    with pytest.raises(Unavailable, match="could not read KFP run kfp-1"):
        sync_run(store, record.id, Script(api.ApiException(status=503, reason="Service Unavailable")))
    assert store.get_run(record.id).status == "pending"


def test_watch_backs_off_while_nothing_changes_and_resets_on_change(store: RunStore) -> None:
    record = kfp_run(store, ["make", "train"])
    running = remote("RUNNING", graph("RUNNING", "PENDING"))
    service = Script(
        running,
        running,
        api.ApiException(status=502),
        running,
        remote("RUNNING", graph("SUCCEEDED", "RUNNING")),
        remote("SUCCEEDED", graph("SUCCEEDED", "SUCCEEDED")),
    )
    sleeps: list[float] = []
    changes: list[str] = []
    final = watch_run(
        store,
        record.id,
        service,
        sleep=sleeps.append,
        clock=lambda: 0.0,
        on_change=lambda run, steps: changes.append(run.status + ":" + ",".join(s.status for s in steps)),
    )
    assert final.status == "succeeded"
    assert sleeps == [1.0, 2.0, 4.0, 8.0, 1.0]
    assert changes == [
        "running:running,pending",
        "running:succeeded,running",
        "succeeded:succeeded,succeeded",
    ]


def test_watch_stops_at_the_timeout(store: RunStore) -> None:
    record = kfp_run(store, ["make"])
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    final = watch_run(
        store, record.id, Script(remote("RUNNING")), timeout_s=10, sleep=sleep, clock=lambda: now[0]
    )
    assert final.status == "running" and now[0] <= 10


class Pods:
    """A PodLogSource whose logs the test grows; a pod missing from ``logs`` is gone."""

    def __init__(self) -> None:
        self.logs: dict[str, bytes] = {}
        self.reads: list[str] = []
        self.broken: set[str] = set()

    def read(self, namespace: str, pod: str) -> bytes:
        assert namespace == "team"
        self.reads.append(pod)
        if pod in self.broken:
            raise ConnectionError("apiserver hiccup")
        if pod not in self.logs:
            raise PodGone(pod)
        return self.logs[pod]


def test_pod_logs_are_appended_once_and_outlive_the_pod(store: RunStore) -> None:
    record = kfp_run(store, ["make", "train"])
    pods = Pods()
    pods.logs["make-pod"] = b"2026-01-01T00:00:01Z loading\n"
    running = [PodTask(step="make", pod="make-pod", finished=False)]
    assert persist_pod_logs(store, record.id, running, pods, "team") > 0
    pods.logs["make-pod"] += b"2026-01-01T00:00:02Z done\n"
    persist_pod_logs(store, record.id, running, pods, "team")
    finished = [PodTask(step="make", pod="make-pod", finished=True)]
    persist_pod_logs(store, record.id, finished, pods, "team")
    del pods.logs["make-pod"]  # the pod is garbage-collected
    persist_pod_logs(store, record.id, finished, pods, "team")
    assert pods.reads == ["make-pod"] * 3
    assert store.read_log(record.id, "make").text == (
        "2026-01-01T00:00:01Z loading\n2026-01-01T00:00:02Z done\n"
    )


def test_a_retried_task_appends_the_new_pod_and_failures_are_retried_later(store: RunStore) -> None:
    record = kfp_run(store, ["train"])
    pods = Pods()
    pods.logs = {"train-1": b"try 1\n", "train-2": b"try 2"}
    pods.broken = {"train-2"}
    tasks = [
        PodTask(step="train", pod="train-1", finished=True),
        PodTask(step="train", pod="train-2", finished=True),
    ]
    persist_pod_logs(store, record.id, tasks, pods, "team")
    assert store.read_log(record.id, "train").text == "try 1\n"
    pods.broken = set()
    persist_pod_logs(store, record.id, tasks, pods, "team")
    assert store.read_log(record.id, "train").text == "try 1\ntry 2\n"


def test_sync_reads_the_pods_of_each_step(store: RunStore) -> None:
    record = kfp_run(store, ["make", "train"])
    pods = Pods()
    pods.logs = {"make-pod": b"made\n", "train-pod": b"training\n"}
    sync_run(store, record.id, Script(remote("RUNNING", graph("SUCCEEDED", "RUNNING"))), pod_logs=pods)
    assert sorted(pods.reads) == ["make-pod", "train-pod"]
    assert store.read_log(record.id, "train").text == "training\n"


@pytest.mark.parametrize(
    ("uri", "metadata"),
    [
        ("gs://bucket/a/b", {}),
        ("minio://mlpipeline/v2/artifacts/x", {}),
        ("s3://bucket/k", {}),
        ("oci://registry/model:tag", {}),
        ("/tmp/local/outputs/x", {}),
        ("minio://mlpipeline/x", {"_kfp_workspace": True}),
    ],
)
def test_the_entry_maps_artifact_uris_like_the_kfp_sdk(uri: str, metadata: dict[str, Any]) -> None:
    expected = dsl.Artifact(uri=uri, metadata=metadata).path
    assert str(artifact_path({"uri": uri, "metadata": metadata})) == expected
