"""KFP run tracking without a server: state mapping, step matching, pods, cancel, failures, pod logs.

Task details come from :class:`tests.support.kfp_workflow.Workflow`, which builds them as a KFP
2.x server does from its Argo workflow's nodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kfp_server_api as api
import pytest
from kfp import dsl

from kfjupyter.errors import InvalidInput, Unavailable
from kfjupyter.k8s.logs import PodGone
from kfjupyter.kfp.entry import artifact_path
from kfjupyter.kfp.podlogs import PodTask, persist_pod_logs
from kfjupyter.kfp.steppods import StepPod, executor_node, failure_message, log_tail
from kfjupyter.kfp.terminate import mark_cancel_requested
from kfjupyter.kfp.tracking import RUN_STATES, STEP_STATES, map_tasks, sync_run, watch_run
from kfjupyter.store import KfpDetails, RunRecord, RunStore, StepRecord
from kfjupyter.store.memory import MemoryRunStore
from tests.support.kfp_workflow import START, Workflow


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with MemoryRunStore(tmp_path / "home") as s:
        yield s


def kfp_run(store: RunStore, steps: list[str]) -> RunRecord:
    record = store.create_run(
        RunRecord(
            kind="pipeline",
            name="nb",
            backend="kfp",
            external_id="kfp-1",
            details=KfpDetails(namespace="team"),
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


class Pods:
    """A RunPods: the run's pods (as StepPods) and their logs; a pod missing from ``logs`` is gone."""

    def __init__(self, wf: Workflow | None = None) -> None:
        self.wf = wf
        self.extra: list[StepPod] = []
        self.logs: dict[str, bytes] = {}
        self.messages: dict[str, str] = {}
        self.reads: list[str] = []
        self.broken: set[str] = set()
        self.unlisted = False

    def list_run_pods(self, namespace: str, run_id: str) -> list[StepPod]:
        assert (namespace, run_id) == ("team", "kfp-1")
        if self.unlisted:
            raise ConnectionError("no cluster")
        found = list(self.extra)
        for node in self.wf.nodes.values() if self.wf else []:
            if node.pod:
                code = {"Succeeded": 0, "Failed": 1}.get(node.phase)
                found.append(
                    StepPod(
                        name=node.pod,
                        node_name=node.name,
                        phase=node.phase,
                        started=True,
                        exit_code=code,
                        message=self.messages.get(node.pod, ""),
                    )
                )
        return found

    def read(self, namespace: str, pod: str) -> bytes:
        assert namespace == "team"
        self.reads.append(pod)
        if pod in self.broken:
            raise ConnectionError("apiserver hiccup")
        if pod not in self.logs:
            raise PodGone(pod)
        return self.logs[pod]


def workflow() -> Workflow:
    wf = Workflow("nb-abcde", "kfp-1", "team", "img", START)
    wf.start()
    return wf


def remote(state: str, wf: Workflow | None = None, history: tuple[str, ...] = ()) -> Any:
    return api.V2beta1Run(
        run_id="kfp-1",
        state=state,
        run_details=api.V2beta1RunDetails(task_details=wf.task_details() if wf else None),
        state_history=[api.V2beta1RuntimeStatus(state=h) for h in history] or None,
    )


def test_every_kfp_runtime_state_is_mapped() -> None:
    states = {v for k, v in vars(api.V2beta1RuntimeState).items() if k.isupper() and isinstance(v, str)}
    assert states == set(RUN_STATES) == set(STEP_STATES)


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ("wf-1.root.step-make.executor", ("step-make", 0)),
        ("wf-1.root.step-make.executor(2)", ("step-make", 2)),
        ("wf-1.root.step-make-driver", None),
        ("wf-1.root-driver", None),
        ("wf-1.root.step-make", None),
        ("wf-1.root.step-make.executor(x)", None),
        ("executor", None),
        ("", None),
    ],
)
def test_executor_pods_are_told_by_their_node_name(node: str, expected: tuple[str, int] | None) -> None:
    assert executor_node(node) == expected


def test_steps_match_task_nodes_by_kfp_task_name_only(store: RunStore) -> None:
    record = kfp_run(store, ["root", "executor", "Make Data", "never"])
    wf = workflow()
    wf.run_task("step-root", [0], ["r"], False)
    wf.run_task("step-executor", [1], ["e"], False)
    wf.run_task("step-make-data", [None], ["m"], False)
    changed = {s.name: s for s in map_tasks(store.get_steps(record.id), wf.task_details())}
    assert {n: s.status for n, s in changed.items()} == {
        "root": "succeeded",
        "executor": "failed",
        "Make Data": "running",
    }
    assert changed["root"].started_at == START.timestamp() + 7 and changed["Make Data"].finished_at is None


def test_times_reported_as_the_epoch_are_unset(store: RunStore) -> None:
    record = kfp_run(store, ["make"])
    wf = workflow()
    wf.run_task("step-make", [None], ["x"], False)
    (step,) = map_tasks(store.get_steps(record.id), wf.task_details())
    assert step.status == "running" and step.started_at and step.finished_at is None


def test_sync_writes_steps_then_the_final_run_status(store: RunStore) -> None:
    record = kfp_run(store, ["make", "train"])
    wf = workflow()
    wf.run_task("step-make", [None], ["loading"], False)
    service = Script(remote("RUNNING", wf))
    assert sync_run(store, record.id, service).status == "running"
    assert [s.status for s in store.get_steps(record.id)] == ["running", "pending"]

    wf = workflow()
    wf.run_task("step-make", [0], ["ok"], False)
    wf.run_task("step-train", [1], ["boom"], False)
    wf.finish()
    pods = Pods(wf)
    pods.logs = {
        n.pod: f"2026-01-01T00:00:0{i}Z line {i}\n".encode() for i, n in enumerate(wf.nodes.values()) if n.pod
    }
    service = Script(remote("FAILED", wf, ("PENDING", "RUNNING", "FAILED")))
    final = sync_run(store, record.id, service, pod_logs=pods)
    assert final.status == "failed" and final.owner_pid is None and final.finished_at
    steps = {s.name: s for s in store.get_steps(record.id)}
    assert [s.status for s in steps.values()] == ["succeeded", "failed"]
    assert steps["train"].error and "exited with code 1" in steps["train"].error
    assert final.error == f"step 'train' failed: {steps['train'].error}"
    assert sync_run(store, record.id, service) == final and service.calls == 1


def test_a_failed_step_shows_its_termination_message_else_its_log_tail(store: RunStore) -> None:
    record = kfp_run(store, ["make", "train", "report"])
    wf = workflow()
    (make_pod,) = wf.run_task("step-make", [0], ["made"], False)
    (train_pod,) = wf.run_task("step-train", [1], ["x"], False)
    wf.finish()
    pods = Pods(wf)
    pods.logs = {
        make_pod: b"2026-01-01T00:00:01.5Z made\n",
        train_pod: b"".join(f"2026-01-01T00:00:02Z line {i}\n".encode() for i in range(9))
        + b"2026-01-01T00:00:03Z ValueError: bad learning rate\n",
    }
    sync_run(store, record.id, Script(remote("FAILED", wf)), pod_logs=pods)
    steps = {s.name: s for s in store.get_steps(record.id)}
    assert [s.status for s in steps.values()] == ["succeeded", "failed", "upstream_failed"]
    assert steps["train"].error == (
        "the step's container exited with code 1: line 5\nline 6\nline 7\nline 8\nValueError: bad learning rate"
    )
    assert store.read_log(record.id, "make").text == "2026-01-01T00:00:01.5Z made\n"

    other = kfp_run(store, ["train"])
    pods.messages[train_pod] = "OOMKilled: the container ran out of memory"
    sync_run(store, other.id, Script(remote("FAILED", wf)), pod_logs=pods)
    (step,) = store.get_steps(other.id)
    assert step.error == "the step's container exited with code 1: OOMKilled: the container ran out of memory"


def test_without_access_to_the_pods_the_message_says_so(store: RunStore) -> None:
    record = kfp_run(store, ["make"])
    wf = workflow()
    wf.run_task("step-make", [2], ["x"], False)
    wf.finish()
    pods = Pods(wf)
    pods.unlisted = True
    final = sync_run(store, record.id, Script(remote("FAILED", wf)), pod_logs=pods)
    (step,) = store.get_steps(record.id)
    assert step.error == "the step failed on Kubeflow Pipelines; its pod could not be read from the cluster"
    assert final.error == f"step 'make' failed: {step.error}"


def test_a_retried_step_keeps_every_attempts_log_and_no_driver_log(store: RunStore) -> None:
    record = kfp_run(store, ["train"])
    wf = workflow()
    first, second = wf.run_task("step-train", [1, 0], ["try 0", "try 1"], True)
    assert wf.nodes[wf.node_id("nb-abcde.root.step-train.executor(1)")].pod == second
    assert first.startswith("nb-abcde-retry-system-container-impl-")
    pods = Pods(wf)
    pods.logs = {n.pod: f"{n.display_name}\n".encode() for n in wf.nodes.values() if n.pod}
    pods.logs[first], pods.logs[second] = b"try 0\n", b"try 1\n"
    sync_run(store, record.id, Script(remote("RUNNING", wf)), pod_logs=pods)
    (step,) = store.get_steps(record.id)
    assert (step.status, step.attempt) == ("succeeded", 2)
    assert store.read_log(record.id, "train").text == "try 0\ntry 1\n"
    assert sorted(pods.reads) == sorted([first, second])


def test_a_run_seen_canceling_that_ends_failed_is_cancelled(store: RunStore) -> None:
    record = kfp_run(store, ["make", "train", "report"])
    wf = workflow()
    wf.run_task("step-make", [0], ["ok"], False)
    wf.run_task("step-train", [None], ["working"], False)
    running = sync_run(store, record.id, Script(remote("CANCELING", wf, ("PENDING", "RUNNING"))))
    assert running.status == "running" and running.details == KfpDetails(namespace="team", cancel="canceling")
    wf.terminated = True
    wf.finish()
    final = sync_run(store, record.id, Script(remote("FAILED", wf, ("PENDING", "RUNNING", "FAILED"))))
    assert (final.status, final.error) == ("cancelled", None)
    assert [(s.name, s.status) for s in store.get_steps(record.id)] == [
        ("make", "succeeded"),
        ("train", "cancelled"),
        ("report", "cancelled"),
    ]


def test_a_cancel_asked_here_makes_the_failed_end_cancelled(store: RunStore) -> None:
    record = kfp_run(store, ["broken", "make", "train"])
    wf = workflow()
    wf.run_task("step-broken", [1], ["boom"], False)
    wf.run_task("step-make", [None], ["working"], False)
    sync_run(store, record.id, Script(remote("RUNNING", wf)))
    mark_cancel_requested(store, record.id)
    wf.terminated = True
    wf.finish()
    final = sync_run(store, record.id, Script(remote("FAILED", wf, ("PENDING", "RUNNING", "FAILED"))))
    assert final.status == "cancelled"
    assert [s.status for s in store.get_steps(record.id)] == ["failed", "cancelled", "cancelled"]


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
    one = workflow()
    one.run_task("step-make", [None], ["x"], False)
    two = workflow()
    two.run_task("step-make", [0], ["x"], False)
    two.run_task("step-train", [None], ["x"], False)
    three = workflow()
    three.run_task("step-make", [0], ["x"], False)
    three.run_task("step-train", [0], ["x"], False)
    running = remote("RUNNING", one)
    service = Script(
        running,
        running,
        api.ApiException(status=502),
        running,
        remote("RUNNING", two),
        remote("SUCCEEDED", three),
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


def test_log_tail_and_failure_message_shapes() -> None:
    assert (
        log_tail("2026-01-01T00:00:01.123456789Z a\n\n2026-01-01T00:00:02+00:00 b\nplain c\n", 2)
        == "b\nplain c"
    )
    pod = StepPod(name="p", node_name="n", phase="Failed", started=True, exit_code=137)
    assert failure_message(pod, "") == "the step's container exited with code 137"
    killed = pod.model_copy(update={"reason": "OOMKilled"})
    assert (
        failure_message(killed, "epoch 3") == "the step's container exited with code 137 (OOMKilled): epoch 3"
    )
    assert failure_message(None, "") == "the step failed on Kubeflow Pipelines (no pod of it was found)"
    assert failure_message(pod, "x" * 2000).endswith("x" * 1000)


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
