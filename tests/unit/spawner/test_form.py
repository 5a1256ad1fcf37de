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
    assert "<script>alert(1)" not in render_form([profile], {})


def test_form_round_trip_to_a_plan() -> None:
    data = {"profile": ["gpu"], "gpu--gpu_type": ["h100"], "gpu--gpu_count": ["2"], "cpu--image": ["x"]}
    options = options_from_form(data)
    assert options == {"profile": "gpu", "gpu_type": "h100", "gpu_count": "2"}
    plan = resolve(CONFIG, GPU_USER, options)
    assert plan.gpu is not None and plan.gpu.count == 2


def _count_options(html: str) -> dict[str, tuple[bool, bool]]:
    """gpu_count value -> (disabled, selected) as rendered."""
    import re

    select = html[html.index('name="gpu--gpu_count"') :]
    select = select[: select.index("</select>")]
    found = {}
    for attrs in re.findall(r"<option ([^>]*)>", select):
        value = re.search(r'value="(\d+)"', attrs)
        assert value is not None
        found[value.group(1)] = (" disabled" in attrs, " selected" in attrs)
    return found


def test_gpu_counts_above_the_free_gpus_are_disabled() -> None:
    # the form starts on A100 (the default type): 2 free, so 4 cannot be had now
    capacity = {"gpu": {"a100": Capacity(2, 4), "h100": Capacity(1, 2)}}
    html = render_form(visible_profiles(CONFIG, GPU_USER), capacity)
    assert _count_options(html) == {"1": (False, True), "2": (False, False), "4": (True, False)}
    assert 'value="a100" data-free="2"' in html and 'value="h100" data-free="1"' in html
    # none free: only the smallest count stays (the spawn then says none is free)
    none = render_form(visible_profiles(CONFIG, GPU_USER), {"gpu": {"a100": Capacity(0, 4)}})
    assert _count_options(none) == {"1": (False, True), "2": (True, False), "4": (True, False)}
    # capacity unknown: every count is offered, the default selected
    unknown = render_form(visible_profiles(CONFIG, GPU_USER), {})
    assert _count_options(unknown) == {"1": (False, True), "2": (False, False), "4": (False, False)}


def test_the_form_uses_the_hub_page_styles() -> None:
    html = render_form(visible_profiles(CONFIG, GPU_USER), {})
    assert html.count('class="form-select form-select-sm"') == html.count("<select")
    assert 'class="form-check-input" type="radio"' in html
