"""Terminal spawn problems become messages users can act on."""

from __future__ import annotations

from kfjupyter_spawner.capacity import Capacity
from kfjupyter_spawner.failures import terminal_problem
from kfjupyter_spawner.options import resolve

from tests.unit.spawner.test_options import CONFIG, GPU_USER

GPU_PLAN = resolve(CONFIG, GPU_USER, {"profile": "gpu", "gpu_type": "h100", "gpu_count": 4})
CPU_PLAN = resolve(CONFIG, GPU_USER, {"profile": "cpu"})


def scheduling(message: str) -> dict[str, str]:
    return {"reason": "FailedScheduling", "message": message}


def test_insufficient_gpu_names_type_and_capacity() -> None:
    events = [
        scheduling(
            "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) didn't match node selector."
        )
    ]
    message = terminal_problem(None, events, GPU_PLAN, {"h100": Capacity(0, 2)})
    assert (
        message
        == "No NVIDIA H100 free for 4 GPU(s) (0 of 2 free). Choose fewer GPUs, another type, or try later."
    )


def test_insufficient_memory() -> None:
    message = terminal_problem(
        None, [scheduling("0/3 nodes are available: 3 Insufficient memory.")], CPU_PLAN, {}
    )
    assert message is not None and message.startswith("Not enough memory free")


def test_unpullable_image_and_crash_loop() -> None:
    def pod(reason: str) -> dict[str, object]:
        return {
            "status": {"phase": "Pending", "containerStatuses": [{"state": {"waiting": {"reason": reason}}}]}
        }

    assert "cannot be pulled (ImagePullBackOff)" in (
        terminal_problem(pod("ImagePullBackOff"), [], CPU_PLAN, {}) or ""
    )
    assert "keeps crashing" in (terminal_problem(pod("CrashLoopBackOff"), [], CPU_PLAN, {}) or "")
    never = terminal_problem(pod("ErrImageNeverPull"), [], CPU_PLAN, {}) or ""
    assert f"Image {CPU_PLAN.image!r} is not on the node" in never and "never pulls" in never


def test_a_pod_that_is_just_starting_is_fine() -> None:
    pod = {
        "status": {
            "phase": "Pending",
            "containerStatuses": [{"state": {"waiting": {"reason": "ContainerCreating"}}}],
        }
    }
    assert terminal_problem(pod, [{"reason": "Scheduled", "message": "assigned"}], CPU_PLAN, {}) is None
