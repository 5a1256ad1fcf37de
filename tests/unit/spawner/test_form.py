"""Options form and GPU capacity counting."""

from __future__ import annotations

from typing import Any

from kfjupyter_spawner.capacity import Capacity, gpu_capacity
from kfjupyter_spawner.form import options_from_form, render_form
from kfjupyter_spawner.options import resolve, visible_profiles

from tests.unit.spawner.test_options import CONFIG, GPU_USER, PLAIN_USER


def node(name: str, gpu_type: str, gpus: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"kfjupyter.dev/gpu-type": gpu_type}},
        "status": {"allocatable": {"nvidia.com/gpu": str(gpus)}},
    }


def pod(node_name: str, gpus: int, phase: str = "Running") -> dict[str, Any]:
    return {
        "spec": {
            "nodeName": node_name,
            "containers": [{"resources": {"limits": {"nvidia.com/gpu": str(gpus)}}}],
        },
        "status": {"phase": phase},
    }


def test_capacity_counts_allocatable_minus_requests() -> None:
    gpu = CONFIG.profile("gpu").gpu
    assert gpu is not None
    nodes = [node("a", "a100", 4), node("h", "h100", 2), {"metadata": {"name": "cpu"}, "status": {}}]
    pods = [pod("a", 1), pod("a", 2, "Succeeded"), pod("h", 2)]
    assert gpu_capacity(gpu, nodes, pods) == {"a100": Capacity(3, 4), "h100": Capacity(0, 2)}


def test_form_shows_only_allowed_profiles_with_capacity() -> None:
    capacity = {"gpu": {"a100": Capacity(3, 4), "h100": Capacity(0, 2)}}
    html = render_form(visible_profiles(CONFIG, GPU_USER), capacity)
    assert 'value="gpu"' in html and "NVIDIA A100 (3 of 4 free)" in html and "(0 of 2 free)" in html
    plain = render_form(visible_profiles(CONFIG, PLAIN_USER), capacity)
    assert 'value="gpu"' not in plain and "A100" not in plain


def test_form_escapes_admin_text() -> None:
    profile = CONFIG.profile("cpu").model_copy(update={"description": "<script>alert(1)</script>"})
    assert "<script>" not in render_form([profile], {})


def test_form_round_trip_to_a_plan() -> None:
    data = {"profile": ["gpu"], "gpu--gpu_type": ["h100"], "gpu--gpu_count": ["2"], "cpu--image": ["x"]}
    options = options_from_form(data)
    assert options == {"profile": "gpu", "gpu_type": "h100", "gpu_count": "2"}
    plan = resolve(CONFIG, GPU_USER, options)
    assert plan.gpu is not None and plan.gpu.count == 2
