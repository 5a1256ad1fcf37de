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
        (
            lambda p: p["image"].update(pattern="(a+)+b"),
            "profiles[0].image.pattern: pattern '(a+)+b': a quantified part can start with a character "
            "that may also follow it ('a')",
        ),
        (lambda p: p["image"].update(pattern="x(?=y)"), "lookahead and lookbehind are not allowed"),
        (lambda p: p["image"].update(default="img:1 "), "profiles[0].image.default: image 'img:1 ' may only"),
        (lambda p: p["image"].update(choices=["i" * 513]), "is 513 characters long; images have at most 512"),
        (lambda p: p.update(env={"": "x"}), "profiles[0].env: '' is not a valid environment variable name"),
        (lambda p: p.update(env={"A B": "x"}), "profiles[0].env: 'A B' is not a valid environment variable"),
        (
            lambda p: p["options"]["gpu_count"]["choices"][0].update(
                overrides={"gpu_count": 1, "env": {"1X": ""}}
            ),
            "profiles[0].options.gpu_count.choices[0].overrides.env: '1X' is not a valid environment variable",
        ),
        (
            lambda p: p.update(
                volumes=[
                    {"kind": "user", "name": "home", "mount_path": "/a", "size": "1Gi"},
                    {"kind": "user", "name": "home", "mount_path": "/b", "size": "1Gi"},
                ]
            ),
            "profiles[0].volumes[1].name: 'home' is also the name of volumes[0]",
        ),
        (
            lambda p: p.update(
                volumes=[
                    {"kind": "user", "name": "home", "mount_path": "/home/jovyan", "size": "1Gi"},
                    {"kind": "shared", "name": "data", "claim": "d", "mount_path": "/home//jovyan/"},
                ]
            ),
            "profiles[0].volumes[1].mount_path: '/home/jovyan' is also where volumes[0] is mounted",
        ),
        (
            lambda p: p.update(volumes=[{"kind": "shm", "size": "1Gi"}, {"kind": "shm", "size": "2Gi"}]),
            "profiles[0].volumes[1].name: 'dshm' is also the name of volumes[0]",
        ),
        (
            lambda p: p.update(volumes=[{"kind": "shm", "size": "-1Gi"}]),
            "profiles[0].volumes[0].size: '-1Gi' is not a Kubernetes quantity",
        ),
        (
            lambda p: p.update(volumes=[{"kind": "user", "name": "home", "mount_path": "/h", "size": "0"}]),
            "profiles[0].volumes[0].size: size '0' must be more than 0",
        ),
        (
            lambda p: p.update(
                volumes=[{"kind": "user", "name": "my--home", "mount_path": "/h", "size": "1Gi"}]
            ),
            "profiles[0].volumes[0].name: String should match pattern",
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


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)+b", r"(a|a)*b", r"(a|b|ab)*c", r"(a*)*b", r"(a?){30}a{30}", r"a?a?a?aaa", r".*.*.*x",
     r"[a-z]+[a-z0-9]+", r"(\w+\s?)+$", r"(.*a){12}", r"([a-z0-9]+-?)+:", r"(?i)[A-Z]+[a-z]", r"(x)\1"],
)  # fmt: skip
def test_patterns_that_can_take_more_than_linear_time_are_refused(pattern: str) -> None:
    profile = copy.deepcopy(GPU)
    profile["image"]["pattern"] = pattern
    assert "profiles[0].image.pattern" in errors_of([profile])


@pytest.mark.parametrize(
    "pattern",
    [r"quay\.io/jupyter/.*", r"registry\.example\.org/[a-z0-9-]+/[a-z0-9._-]+:[a-z0-9._-]+",
     r"(quay\.io|docker\.io)/jupyter/[a-z-]+(:[a-z0-9.]+)?", r"python:3\.1[0-2](-slim)?",
     r"img:[0-9]+(\.[0-9]+)*", r"[^/]+/[^:]+:.+", r"jupyter(hub)?/x@sha256:[a-f0-9]{64}"],
)  # fmt: skip
def test_usual_image_patterns_are_accepted(pattern: str) -> None:
    profile = copy.deepcopy(GPU)
    profile["image"]["pattern"] = pattern
    assert load_config([profile]).profiles[0].image.pattern == pattern


def test_only_short_plain_images_reach_the_pattern() -> None:
    profile = copy.deepcopy(GPU)
    profile["image"]["pattern"] = "a+"
    image = load_config([profile]).profiles[0].image
    assert image.allows("a" * 512)
    assert not image.allows("a" * 513) and not image.allows("a a")


def test_unreadable_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        load_config_file(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("profiles: [\n")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        load_config_file(bad)
