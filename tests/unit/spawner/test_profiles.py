"""Profile schema: validated at load, errors name the exact path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kfjupyter_spawner
import pytest
from kfjupyter_spawner.profiles import load_config, load_config_file

from kfjupyter.errors import InvalidInput

EXAMPLE = Path(kfjupyter_spawner.__file__).parent / "examples" / "profiles.yaml"
GPU: dict[str, Any] = {
    "slug": "gpu",
    "display_name": "GPU",
    "image": {"default": "img:1"},
    "gpu": {"types": {"a100": {"display_name": "A100", "node_selector": {"gpu": "a100"}}}},
    "options": {"gpu_count": {"display_name": "GPUs", "choices": [{"value": 1}, {"value": 2}]}},
}


def errors_of(data: Any) -> str:
    with pytest.raises(InvalidInput) as info:
        load_config(data)
    return info.value.message


def test_the_example_file_loads() -> None:
    config = load_config_file(EXAMPLE)
    assert [p.slug for p in config.profiles] == ["cpu", "gpu"]
    gpu = config.profile("gpu")
    assert gpu.allowed_groups == ["gpu-users"]
    assert [c.value for c in gpu.options["gpu_type"].choices] == ["a100", "h100"]
    assert [c.value for c in gpu.options["gpu_count"].choices] == [1, 2, 4]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p.update(cpu_limt=4), "profiles[0].cpu_limt: Extra inputs are not permitted"),
        (
            lambda p: p["options"]["gpu_count"]["choices"].append({"value": "many"}),
            "profiles[0].options.gpu_count.choices[2].value: value 'many' does not fit option 'gpu_count'",
        ),
        (
            lambda p: p["options"].update(gpu_type={"display_name": "t", "choices": [{"value": "v100"}]}),
            "profiles[0].options.gpu_type.choices[0]: GPU type 'v100' is not one of ['a100']",
        ),
        (lambda p: p.update(slug="Bad Slug"), "profiles[0].slug"),
        (lambda p: p["image"].update(pattern="(unclosed"), "profiles[0].image.pattern"),
        (lambda p: p.update(resources={"cpu": {"request": "4", "limit": "2"}}), "limit 2 is below request 4"),
        (lambda p: p.update(resources={"memory": {"request": "lots"}}), "is not a Kubernetes quantity"),
        (lambda p: p.update(volumes=[{"kind": "hostPath", "path": "/"}]), "profiles[0].volumes[0]"),
        (
            lambda p: p["options"].update(colour={"display_name": "c", "choices": [{"value": "red"}]}),
            "needs 'overrides'",
        ),
    ],
)
def test_bad_profiles_are_refused_with_their_path(change: Any, expected: str) -> None:
    profile = copy.deepcopy(GPU)
    change(profile)
    assert expected in errors_of([profile])


def test_duplicate_slugs_and_two_defaults() -> None:
    assert "duplicate profile slugs: gpu" in errors_of([GPU, GPU])
    a = {**copy.deepcopy(GPU), "slug": "a", "default": True}
    b = {**copy.deepcopy(GPU), "slug": "b", "default": True}
    assert "more than one profile is marked default" in errors_of([a, b])


def test_image_pattern_is_full_match() -> None:
    profile = copy.deepcopy(GPU)
    profile["image"]["pattern"] = r"ghcr\.io/myorg/[a-z0-9-]+:[a-z0-9.]+"
    image = load_config([profile]).profiles[0].image
    assert image.allows("ghcr.io/myorg/x:1")
    assert not image.allows("ghcr.io/myorg/x:1@evil.example/y")


def test_unreadable_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        load_config_file(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("profiles: [\n")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        load_config_file(bad)
