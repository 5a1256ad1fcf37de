"""Resolving user options: fresh plans, group rules on every path, quotas, clear refusals."""

from __future__ import annotations

import pytest
from kfjupyter_spawner.options import UserInfo, resolve, visible_profiles
from kfjupyter_spawner.profiles import load_config_file

from kfjupyter.errors import Forbidden, InvalidInput
from tests.unit.spawner.test_profiles import EXAMPLE

CONFIG = load_config_file(EXAMPLE)
GPU_USER = UserInfo("ada", frozenset({"gpu-users"}))
PLAIN_USER = UserInfo("bob")


def test_default_profile_for_no_options() -> None:
    plan = resolve(CONFIG, PLAIN_USER, {})
    assert plan.profile == "cpu" and plan.gpu is None
    assert plan.image == "quay.io/jupyter/scipy-notebook:2026-11-01"


def test_gpu_choices_become_the_plan() -> None:
    plan = resolve(CONFIG, GPU_USER, {"profile": "gpu", "gpu_type": "h100", "gpu_count": 2})
    assert plan.gpu is not None
    assert (plan.gpu.type, plan.gpu.count, dict(plan.gpu.node_selector)) == (
        "h100",
        2,
        {"kfjupyter.dev/gpu-type": "h100"},
    )
    assert plan.choices == {"gpu_type": "h100", "gpu_count": "2"}


def test_form_strings_and_rest_ints_both_work() -> None:
    a = resolve(CONFIG, GPU_USER, {"profile": "gpu", "gpu_count": "4"})
    b = resolve(CONFIG, GPU_USER, {"profile": "gpu", "gpu_count": 4})
    assert a == b


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"profile": "gpu", "gpu_count": "64"},
            "gpu_count: '64' is not a valid choice; choose one of: '1', '2', '4'",
        ),
        ({"profile": "tpu"}, "unknown profile 'tpu'; choose one of: 'cpu', 'gpu'"),
        ({"profile": "gpu", "gpu_type": "v100"}, "choose one of: 'a100', 'h100'"),
        ({"profile": "gpu", "colour": "red"}, "unknown option(s) 'colour'"),
        ({"profile": "cpu", "image": "evil/image:latest"}, "image 'evil/image:latest' is not allowed"),
    ],
)
def test_invalid_options_name_the_valid_ones(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        resolve(CONFIG, GPU_USER, options)
    assert message in info.value.message


def test_groups_are_enforced_even_when_posted_directly() -> None:
    with pytest.raises(Forbidden, match="only for members of 'gpu-users'"):
        resolve(CONFIG, PLAIN_USER, {"profile": "gpu", "gpu_count": 1})
    assert [p.slug for p in visible_profiles(CONFIG, PLAIN_USER)] == ["cpu"]
    assert [p.slug for p in visible_profiles(CONFIG, GPU_USER)] == ["cpu", "gpu"]


def test_gpu_quota_across_servers() -> None:
    busy = UserInfo("ada", frozenset({"gpu-users"}), gpus_in_use=3)
    with pytest.raises(Forbidden, match="over your limit of 4"):
        resolve(CONFIG, busy, {"profile": "gpu", "gpu_count": 2})
    assert resolve(CONFIG, busy, {"profile": "gpu", "gpu_count": 1}).gpu is not None


def test_no_leak_between_spawns() -> None:
    with pytest.raises(InvalidInput):
        resolve(CONFIG, GPU_USER, {"profile": "gpu", "gpu_count": "64"})
    gpu = resolve(CONFIG, GPU_USER, {"profile": "gpu", "gpu_count": 4})
    cpu = resolve(CONFIG, GPU_USER, {"profile": "cpu"})
    assert gpu.gpu is not None and cpu.gpu is None
    assert not cpu.node_selector and not cpu.tolerations


def test_a_long_free_text_image_is_refused_before_any_pattern_runs() -> None:
    from kfjupyter_spawner.profiles import load_config

    config = load_config(
        [{"slug": "free", "display_name": "Free", "image": {"default": "img:1", "pattern": "[a-z]+:[0-9]+"}}]
    )
    user = UserInfo("ada")
    assert resolve(config, user, {"image": "img:2"}).image == "img:2"
    with pytest.raises(
        InvalidInput, match=r"image 'a{80}'… is 100006 characters long; images have at most 512"
    ):
        resolve(config, user, {"image": "a" * 100_000 + ":12345"})
    with pytest.raises(InvalidInput, match="only contain printable ASCII characters without spaces"):
        resolve(config, user, {"image": "img:2\n"})


def test_a_profiles_pull_policy_is_part_of_the_plan() -> None:
    from kfjupyter_spawner.profiles import load_config

    image = {"default": "localhost/nb:latest", "pull_policy": "Never"}
    config = load_config([{"slug": "local", "display_name": "Local", "image": image}])
    assert resolve(config, UserInfo("ada"), {}).image_pull_policy == "Never"
    assert resolve(CONFIG, UserInfo("ada"), {}).image_pull_policy is None
    with pytest.raises(InvalidInput, match="pull_policy"):
        load_config(
            [{"slug": "x", "display_name": "X", "image": {"default": "a:1", "pull_policy": "Sometimes"}}]
        )
