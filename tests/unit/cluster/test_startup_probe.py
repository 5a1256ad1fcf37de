"""The process kubelet's probe rules (``prober``): startup gating, thresholds, schedules, status."""

from __future__ import annotations

from typing import Any

import pytest

from kfjupyter.cluster.kubelet.prober import LIVENESS, READINESS, STARTUP, ContainerProbes, ProbeSpec
from kfjupyter.cluster.kubelet.status import ContainerRecord

HTTP = {"httpGet": {"path": "/api", "port": 8888}}


def _container(**probes: dict[str, Any]) -> dict[str, Any]:
    return {"name": "main", **{f"{kind}Probe": {**HTTP, **spec} for kind, spec in probes.items()}}


def _feed(probes: ContainerProbes, kind: str, results: list[bool], start: float = 0.0) -> float:
    """Run ``kind`` each time it is due, with ``results`` in order; the time of the last run."""
    now = start
    for ok in results:
        now = max(now, probes.probes[kind].next_at)
        assert kind in probes.due(now)
        probes.observe(kind, ok, now)
    return now


def test_defaults_are_the_kubernetes_api_defaults() -> None:
    assert ProbeSpec.parse(STARTUP, dict(HTTP)) == ProbeSpec(STARTUP, HTTP, 0.0, 10.0, 3, 1)
    given = {**HTTP, "initialDelaySeconds": 5, "periodSeconds": 1, "failureThreshold": 30}
    spec = ProbeSpec.parse(STARTUP, given)
    assert (spec.initial_delay_s, spec.period_s, spec.failure_threshold) == (5.0, 1.0, 30)


@pytest.mark.parametrize(
    ("probes", "started", "ready"),
    [
        ({}, True, True),
        ({"readiness": {}}, True, False),
        ({"liveness": {}}, True, True),
        ({"startup": {}}, False, False),
        ({"startup": {}, "readiness": {}, "liveness": {}}, False, False),
    ],
)
def test_initial_state(probes: dict[str, dict[str, Any]], started: bool, ready: bool) -> None:
    state = ContainerProbes.for_container(_container(**probes), 100.0)
    assert (state.started, state.ready, state.failed) == (started, ready, None)


def test_startup_probe_gates_readiness_and_liveness_until_its_first_success() -> None:
    state = ContainerProbes.for_container(
        _container(startup={"periodSeconds": 1}, readiness={"periodSeconds": 5}, liveness={}), 0.0
    )
    assert state.due(0.0) == [STARTUP]
    assert state.due(50.0) == [STARTUP]  # the others wait, however long it takes
    _feed(state, STARTUP, [False, False])
    assert not state.started and not state.ready and state.failed is None
    when = _feed(state, STARTUP, [True])
    assert state.started and not state.ready  # readiness still has to pass
    assert sorted(state.due(when)) == [LIVENESS, READINESS]  # they run right after the start
    assert STARTUP not in state.due(when + 100)  # never again after the first success
    state.observe(READINESS, True, when)
    assert state.ready


def test_started_without_readiness_probe_means_ready() -> None:
    state = ContainerProbes.for_container(_container(startup={"periodSeconds": 1}), 0.0)
    _feed(state, STARTUP, [False, True])
    assert state.started and state.ready
    assert state.due(1000.0) == [] and state.next_at() is None


def test_startup_failure_threshold_fails_the_container_and_stops_probing() -> None:
    state = ContainerProbes.for_container(
        _container(startup={"periodSeconds": 1, "failureThreshold": 3}, readiness={}), 0.0
    )
    _feed(state, STARTUP, [False, False])
    assert state.failed is None
    _feed(state, STARTUP, [False])
    assert state.failed == STARTUP and not state.started and not state.ready
    assert state.due(1000.0) == [] and state.next_at() is None
    state.observe(STARTUP, True, 1000.0)  # a late result changes nothing
    assert state.failed == STARTUP and not state.started


def test_startup_schedule_initial_delay_then_fixed_period() -> None:
    state = ContainerProbes.for_container(
        _container(startup={"initialDelaySeconds": 5, "periodSeconds": 2, "failureThreshold": 10}), 100.0
    )
    assert state.due(104.9) == [] and state.next_at() == 105.0
    state.observe(STARTUP, False, 105.3)  # run a little late: the next one keeps the rate
    assert state.next_at() == 107.0
    state.observe(STARTUP, False, 120.0)  # far too late: no burst of catch-up runs
    assert state.next_at() == 122.0


def test_default_period_is_ten_seconds() -> None:
    state = ContainerProbes.for_container(_container(startup={}), 0.0)
    state.observe(STARTUP, False, 0.0)
    assert state.due(9.9) == [] and state.due(10.0) == [STARTUP]


def test_readiness_thresholds() -> None:
    state = ContainerProbes.for_container(
        _container(readiness={"periodSeconds": 1, "successThreshold": 2, "failureThreshold": 2}), 0.0
    )
    _feed(state, READINESS, [True])
    assert not state.ready
    now = _feed(state, READINESS, [True])
    assert state.ready
    now = _feed(state, READINESS, [False], now)
    assert state.ready  # one failure is below the threshold
    _feed(state, READINESS, [False], now)
    assert not state.ready and state.failed is None  # readiness never restarts a container


def test_liveness_failures_fail_the_container_once_started() -> None:
    state = ContainerProbes.for_container(
        _container(startup={"periodSeconds": 1}, liveness={"periodSeconds": 1, "failureThreshold": 2}), 0.0
    )
    state.observe(LIVENESS, False, 0.0)  # not active before the start: ignored
    now = _feed(state, STARTUP, [True])
    now = _feed(state, LIVENESS, [False, True, False], now)  # a success resets the count
    assert state.failed is None and state.ready
    _feed(state, LIVENESS, [False], now)
    assert state.failed == LIVENESS


def test_container_status_reports_started_only_while_running() -> None:
    record = ContainerRecord("main", "img")
    record.state = {"running": {"startedAt": "t"}}
    assert record.to_status()["started"] is False
    record.started = record.ready = True
    assert record.to_status()["started"] is True and record.to_status()["ready"] is True
    record.state = {"waiting": {"reason": "CrashLoopBackOff"}}
    assert record.to_status()["started"] is False and record.to_status()["ready"] is False
