"""The kfjupyter-spawner admin command."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kfjupyter_spawner.cli import main
from kfjupyter_spawner.profiles import load_config

from tests.unit.spawner.test_profiles import EXAMPLE


def test_check_prints_the_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(EXAMPLE)]) == 0
    out = capsys.readouterr()
    assert [p["slug"] for p in yaml.safe_load(out.out)["profiles"]] == ["cpu", "gpu"]
    assert "2 profile(s) OK" in out.err


def test_check_fails_with_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("profiles:\n  - {slug: cpu, display_name: C, image: {default: x}, cpu_limt: 2}\n")
    assert main(["check", str(bad)]) == 2
    assert "profiles[0].cpu_limt" in capsys.readouterr().err


def test_render_prints_the_objects(capsys: pytest.CaptureFixture[str]) -> None:
    opts = '{"profile": "gpu", "gpu_type": "a100", "gpu_count": 2}'
    assert main(["render", str(EXAMPLE), "--user", "ada", "--groups", "gpu-users", "--options", opts]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [d["kind"] for d in docs] == ["PersistentVolumeClaim", "Pod"]
    assert docs[1]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "2"


def test_render_refuses_like_a_spawn(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(EXAMPLE), "--user", "bob", "--options", '{"profile": "gpu"}']) == 2
    assert "only for members of 'gpu-users'" in capsys.readouterr().err
    assert main(["render", str(EXAMPLE), "--user", "bob", "--options", "not json"]) == 2


def test_convert_kubespawner_profile_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "values.yaml"
    source.write_text(
        yaml.safe_dump(
            {
                "singleuser": {
                    "profileList": [
                        {
                            "display_name": "Small GPU",
                            "default": True,
                            "kubespawner_override": {
                                "image": "img:1",
                                "cpu_limit": 2,
                                "mem_limit": "4G",
                                "extra_resource_limits": {"nvidia.com/gpu": "1"},
                                "lifecycle_hooks": {},
                            },
                        }
                    ]
                }
            }
        )
    )
    assert main(["convert", str(source)]) == 0
    out = capsys.readouterr()
    converted = yaml.safe_load(out.out)
    load_config(converted)  # the result is a valid configuration
    (profile,) = converted["profiles"]
    assert profile["slug"] == "small-gpu" and profile["image"] == {"default": "img:1"}
    assert profile["resources"]["cpu"]["limit"] == "2" and profile["gpu"]["default_count"] == 1
    assert "not converted: profile_list[0].kubespawner_override.lifecycle_hooks" in out.err


def test_render_with_user_namespaces_prints_the_namespace_objects(capsys: pytest.CaptureFixture[str]) -> None:
    settings = '{"quota": {"pods": "20"}, "pod_security": "restricted"}'
    assert main(["render", str(EXAMPLE), "--user", "bob", "--user-namespaces", settings]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [d["kind"] for d in docs] == [
        "Namespace", "ServiceAccount", "Role", "RoleBinding", "ResourceQuota", "PersistentVolumeClaim", "Pod",
    ]  # fmt: skip
    assert {d["metadata"].get("namespace") for d in docs[1:]} == {"kfjupyter-bob"}
    assert docs[-1]["spec"]["serviceAccountName"] == "notebook"
    assert main(["render", str(EXAMPLE), "--user", "bob", "--user-namespaces"]) == 0
    assert [d["kind"] for d in yaml.safe_load_all(capsys.readouterr().out)][:4] == [
        "Namespace", "ServiceAccount", "Role", "RoleBinding",
    ]  # fmt: skip
    assert main(["render", str(EXAMPLE), "--user", "bob", "--user-namespaces", '{"template": "x"}']) == 2
    assert "template" in capsys.readouterr().err


def test_hub_role_holds_every_right_it_grants(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hub-role", "--name", "my-hub"]) == 0
    role = yaml.safe_load(capsys.readouterr().out)
    assert role["kind"] == "ClusterRole" and role["metadata"]["name"] == "my-hub"
    held = {
        (g, r, v)
        for rule in role["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    from kfjupyter_spawner.namespaces import notebook_rules

    for rule in notebook_rules():
        for resource in rule.resources:
            assert {(rule.api_groups[0], resource, v) for v in rule.verbs} <= held
    assert ("", "namespaces", "create") in held and (
        "rbac.authorization.k8s.io",
        "roles",
        "escalate",
    ) not in held
    assert not any(r["resources"] == ["secrets"] for r in role["rules"])


def test_check_refuses_profiles_the_hub_could_not_survive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text(
        "profiles:\n"
        "  - slug: cpu\n"
        "    display_name: C\n"
        "    image: {default: x, pattern: '(a+)+b'}\n"
        "    env: {'A B': '1'}\n"
        "    volumes:\n"
        "      - {kind: shm, size: -1Gi}\n"
    )
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "profiles[0].image.pattern: pattern '(a+)+b'" in err
    assert "profiles[0].env: 'A B' is not a valid environment variable name" in err
    assert "profiles[0].volumes[0].size: '-1Gi' is not a Kubernetes quantity" in err
