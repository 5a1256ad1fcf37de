"""Spawn progress: Kubernetes events in plain words, on a bar that only moves forward."""

from __future__ import annotations

from typing import Any

from kfjupyter_spawner.progress import Progress, describe


def event(reason: str, message: str, kind: str = "Normal") -> dict[str, Any]:
    return {"reason": reason, "message": message, "type": kind, "metadata": {"uid": reason}}


A_SPAWN = [
    event("Scheduled", "Successfully assigned default/jupyter-ada to node-gpu-1"),
    event("Pulling", 'Pulling image "quay.io/jupyter/scipy-notebook:2026-11-01"'),
    event("Pulled", 'Successfully pulled image "quay.io/jupyter/scipy-notebook:2026-11-01" in 41.2s'),
    event("Created", "Created container notebook"),
    event("Started", "Started container notebook"),
    event(
        "Unhealthy",
        'Startup probe failed: Get "http://10.0.0.7:8888/": dial tcp: connection refused',
        "Warning",
    ),
    event(
        "Unhealthy",
        'Startup probe failed: Get "http://10.0.0.7:8888/": dial tcp: connection refused',
        "Warning",
    ),
]


def test_a_normal_spawn_reads_as_stages_with_a_moving_bar() -> None:
    progress = Progress()
    progress.add(5, "Starting your default server…")
    for item in A_SPAWN:
        progress.add_event(item)
    progress.add(100, "Your server is ready")
    messages = [s.message for s in progress.steps]
    assert messages == [
        "Starting your default server…",
        "Found a place for your server (node node-gpu-1)",
        "Downloading quay.io/jupyter/scipy-notebook:2026-11-01 (the first start on a node can take a few minutes)…",
        "quay.io/jupyter/scipy-notebook:2026-11-01 is ready",
        "Prepared the server",
        "The server is starting…",
        "Waiting for the server to answer…",  # said once, never "probe failed … connection refused"
        "Your server is ready",
    ]
    bar = [s.progress for s in progress.steps]
    assert bar == sorted(bar) and bar[0] > 0 and bar[-1] == 100 and len(set(bar)) == len(bar)


def test_the_bar_never_moves_back_and_quiet_events_add_nothing() -> None:
    progress = Progress()
    progress.add_event(event("Started", "Started container notebook"))
    progress.add_event(event("Pulled", 'Container image "x:1" already present on machine'))
    assert [s.progress for s in progress.steps] == [80, 80]
    for quiet in ("FailedScheduling", "Killing", "SuccessfulAttachVolume"):
        assert describe(event(quiet, "anything", "Warning")) is None
    assert describe(event("SomethingNormal", "fine")) is None


def test_an_unexpected_warning_is_named_as_a_problem() -> None:
    step = describe(event("FailedMount", "MountVolume.SetUp failed for volume home", "Warning"))
    assert step is not None and step.message.startswith("Kubernetes reports a problem (FailedMount)")
