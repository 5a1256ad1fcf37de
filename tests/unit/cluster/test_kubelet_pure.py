"""The process kubelet's pure parts: phases, status, env resolution, command wrapping, log slicing."""

from __future__ import annotations

from typing import Any

import pytest

from kfjupyter.cluster.kubelet.logs import render, select
from kfjupyter.cluster.kubelet.runtime import (
    ContainerConfigError,
    command_line,
    container_env,
    expand,
    field_value,
    wrap,
)
from kfjupyter.cluster.kubelet.status import ContainerRecord, backoff, phase, pod_status


def _done(name: str, code: int) -> ContainerRecord:
    record = ContainerRecord(name, "img")
    record.state = {"terminated": {"exitCode": code}}
    record.final = True
    return record


def _running(name: str) -> ContainerRecord:
    record = ContainerRecord(name, "img")
    record.state = {"running": {"startedAt": "t"}}
    return record


@pytest.mark.parametrize(
    ("containers", "expected"),
    [
        ([ContainerRecord("a", "img")], "Pending"),
        ([_running("a")], "Running"),
        ([_done("a", 0), _running("b")], "Running"),
        ([_done("a", 0), _done("b", 0)], "Succeeded"),
        ([_done("a", 0), _done("b", 1)], "Failed"),
    ],
)
def test_phase(containers: list[ContainerRecord], expected: str) -> None:
    assert phase(containers, [], False) == expected


def test_pending_until_init_containers_succeed() -> None:
    assert phase([ContainerRecord("a", "img")], [_running("init")], False) == "Pending"
    assert phase([_running("a")], [_done("init", 0)], False) == "Running"
    assert phase([ContainerRecord("a", "img")], [_done("init", 1)], True) == "Failed"


def test_crash_looping_container_keeps_the_pod_running() -> None:
    record = ContainerRecord("a", "img")
    record.state = {"waiting": {"reason": "CrashLoopBackOff"}}
    record.last_state = {"terminated": {"exitCode": 3}}
    assert phase([record], [], False) == "Running"


def test_status_is_ready_only_when_every_container_is() -> None:
    ready, unready = _running("a"), _running("b")
    ready.ready = True
    status = pod_status([ready, unready], [], pod_ip="127.0.1.1", host_ip="127.0.0.1", start_time="t")
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions["Ready"] == "False" and status["podIP"] == "127.0.1.1"
    again = pod_status(
        [ready, unready], [], pod_ip="127.0.1.1", host_ip="127.0.0.1", start_time="t", previous=status
    )
    assert again == status


def test_backoff_doubles_and_caps() -> None:
    assert [backoff(n, 10, 300) for n in range(7)] == [10, 20, 40, 80, 160, 300, 300]


POD: dict[str, Any] = {
    "metadata": {"name": "p", "namespace": "ns", "uid": "u", "labels": {"app": "x"}},
    "spec": {"nodeName": "cpu-0", "serviceAccountName": "default", "containers": []},
}


def test_env_resolves_literals_fields_secrets_and_config_maps() -> None:
    container = {
        "name": "c",
        "env": [
            {"name": "A", "value": "1"},
            {"name": "B", "value": "$(A)-two"},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            {"name": "M", "valueFrom": {"configMapKeyRef": {"name": "m", "key": "k"}}},
            {"name": "O", "valueFrom": {"configMapKeyRef": {"name": "none", "key": "k", "optional": True}}},
        ],
        "envFrom": [{"configMapRef": {"name": "m"}, "prefix": "CM_"}],
    }
    data = {("secret", "s"): {"k": "secret-v"}, ("configmap", "m"): {"k": "cm-v"}}
    env = container_env(POD, container, pod_ip="127.0.1.9", host_ip="127.0.0.1", base={"X": "y"},
                        lookup=lambda kind, ns, name: data.get((kind, name)))  # fmt: skip
    assert (env["B"], env["IP"], env["APP"], env["S"], env["M"], env["CM_k"]) == (
        "1-two", "127.0.1.9", "x", "secret-v", "cm-v", "cm-v")  # fmt: skip
    assert "O" not in env and env["X"] == "y" and env["HOSTNAME"] == "p"


def test_missing_secret_is_a_container_config_error() -> None:
    container = {
        "name": "c",
        "env": [{"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
    }
    with pytest.raises(ContainerConfigError):
        container_env(POD, container, pod_ip="", host_ip="", base={}, lookup=lambda *_: None)


def test_command_line_expands_and_requires_a_command() -> None:
    assert command_line({"name": "c", "command": ["echo"], "args": ["$(A)", "$(B)"]}, {"A": "1"}) == [
        "echo",
        "1",
        "$(B)",
    ]
    assert expand("$(A)$(A)", {"A": "x"}) == "xx"
    assert expand("$$(A) $$$(A) $$ $x", {"A": "x"}) == "$(A) $x $ $x"
    with pytest.raises(ContainerConfigError):
        command_line({"name": "c"}, {})
    with pytest.raises(ContainerConfigError):
        field_value(POD, "spec.unknown", "", "")


def test_wrap_bind_mounts_in_a_private_mount_namespace() -> None:
    assert wrap(["true"], [], None) == ["true"]
    argv = wrap(["cat", "x"], [("/data", "/host/d", True)], "/work")
    assert argv[:4] == ["unshare", "-m", "--propagation", "private"]
    assert "mount --bind /host/d /data" in argv[6] and "cd /work" in argv[6]
    assert argv[-2:] == ["cat", "x"]


def test_log_slicing() -> None:
    lines = [b"2026-01-01T00:00:00.000000000Z one\n", b"2026-01-01T00:00:01.000000000Z two\n"]
    assert select(lines, {"tailLines": "1"}) == lines[1:]
    assert select(lines, {"tailLines": "0"}) == []
    assert render(lines[0], False) == b"one\n"
    assert render(lines[0], True) == lines[0]
