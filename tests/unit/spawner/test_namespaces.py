"""Per-user namespaces: pure builders (names, least-privilege Role, pods) and the write plan."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from kfjupyter_spawner.namespaces import (
    NOTEBOOK_ACCOUNT,
    UserNamespaces,
    build_namespace_objects,
    notebook_rules,
)
from kfjupyter_spawner.options import resolve
from kfjupyter_spawner.ownership import owned_by
from kfjupyter_spawner.pods import PodContext
from kfjupyter_spawner.spawner import configure, user_namespace_settings
from kfjupyter_spawner.writes import server_objects
from kubernetes.client import ApiClient
from pydantic import ValidationError
from traitlets.config import Config

from kfjupyter.errors import Forbidden, InvalidInput
from tests.unit.spawner.test_options import CONFIG, GPU_USER
from tests.unit.spawner.test_profiles import EXAMPLE

SETTINGS = UserNamespaces()


def as_dicts(objects: list[Any]) -> list[Any]:
    client = ApiClient()
    return [client.sanitize_for_serialization(o) for o in objects]


def own_ctx(user: str = "ada") -> PodContext:
    return PodContext(
        user=user,
        namespace=SETTINGS.name_for(user),
        command=["jupyterhub-singleuser"],
        service_account=NOTEBOOK_ACCOUNT,
        own_namespace=True,
    )


@pytest.mark.parametrize(
    ("user", "expected"),
    [("ada", "kfjupyter-ada"), ("user0001", "kfjupyter-user0001")],
)
def test_plain_names_stay_readable(user: str, expected: str) -> None:
    assert SETTINGS.name_for(user) == expected


def test_odd_names_are_escaped_and_never_collide() -> None:
    users = ["Ada.Lovelace@example.org", "ada.lovelace@example.org", "ada-lovelace-example-org", "x" * 200]
    names = [SETTINGS.name_for(u) for u in users]
    assert len(set(names)) == len(users)
    for name in names:
        assert len(name) <= 63 and name == name.lower() and name.replace("-", "").isalnum()
    assert names[2] == "kfjupyter-ada-lovelace-example-org"  # unchanged names keep no hash
    assert UserNamespaces(template="{username}-work").name_for("Bob") != "bob-work"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("template", "kfjupyter-shared", "must contain '{username}'"),
        ("template", "{username}-{user}", "may only use '{username}'"),
        ("template", "Team.{username}", "must make a DNS label"),
        ("template", "{username}-", "must make a DNS label"),
        ("template", "x" * 50 + "{username}", "leaves less than 14 characters"),
        ("labels", {"bad key!": "x"}, "not a valid label key"),
        ("labels", {"team": "not valid!"}, "not a valid label value"),
        ("quota", {"requests.nvidia.com/gpu": "four"}, "not a Kubernetes quantity"),
        ("pod_security", "strict", "Input should be"),
    ],
)
def test_bad_settings_are_refused(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        UserNamespaces.model_validate({field: value})


def test_the_role_is_least_privilege_and_namespaced() -> None:
    objects = as_dicts(build_namespace_objects(SETTINGS, "ada"))
    assert [o["kind"] for o in objects] == ["Namespace", "ServiceAccount", "Role", "RoleBinding"]
    namespace, account, role, binding = objects
    assert namespace["metadata"]["name"] == "kfjupyter-ada"
    assert namespace["metadata"]["labels"] == {
        "pod-security.kubernetes.io/enforce": "baseline",
        "app.kubernetes.io/managed-by": "kfjupyter",
        "kfjupyter.dev/user": "ada",
    }
    for obj in objects[1:]:
        assert obj["metadata"]["namespace"] == "kfjupyter-ada"
    assert (
        account["metadata"]["name"] == NOTEBOOK_ACCOUNT and account["automountServiceAccountToken"] is False
    )
    granted = {
        (group, resource): sorted(rule["verbs"])
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    run = sorted(["create", "get", "list", "watch", "delete"])
    assert granted == {
        ("", "pods"): run,
        ("", "pods/log"): ["get"],
        ("", "configmaps"): ["create", "delete", "get"],
        ("", "persistentvolumeclaims"): ["get", "list"],
        ("", "events"): ["get", "list", "watch"],
        ("trainer.kubeflow.org", "trainjobs"): run,
        ("kubeflow.org", "pytorchjobs"): run,
    }
    assert "*" not in str(role["rules"]) and "secrets" not in str(role["rules"])
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "notebook", "namespace": "kfjupyter-ada"}
    ]
    assert len(notebook_rules()) == len(role["rules"])


def test_admin_labels_quota_and_pod_security() -> None:
    settings = UserNamespaces(
        labels={"team": "ml", "kfjupyter.dev/user": "someone-else"},
        pod_security="restricted",
        quota={"requests.nvidia.com/gpu": "4", "pods": "20"},
    )
    objects = as_dicts(build_namespace_objects(settings, "ada"))
    labels = objects[0]["metadata"]["labels"]
    assert labels["team"] == "ml" and labels["kfjupyter.dev/user"] == "ada"  # ours win
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert objects[-1]["kind"] == "ResourceQuota"
    assert objects[-1]["spec"]["hard"] == {"pods": "20", "requests.nvidia.com/gpu": "4"}
    assert owned_by(objects[0], "ada") and not owned_by(objects[0], "bob")
    plain = as_dicts(build_namespace_objects(UserNamespaces(pod_security=""), "ada"))
    assert "pod-security.kubernetes.io/enforce" not in plain[0]["metadata"]["labels"]


def test_the_pod_runs_in_the_users_namespace_restricted_by_default() -> None:
    cpu = server_objects(resolve(CONFIG, GPU_USER, {"profile": "cpu"}), own_ctx(), SETTINGS, "jupyter")
    assert [o["kind"] for o in cpu.in_order()] == [
        "Namespace", "ServiceAccount", "Role", "RoleBinding", "PersistentVolumeClaim", "Pod",
    ]  # fmt: skip
    assert {o["metadata"].get("namespace") for o in cpu.in_order()[1:]} == {"kfjupyter-ada"}
    spec = cpu.pod["spec"]
    assert spec["serviceAccountName"] == "notebook" and spec["automountServiceAccountToken"] is False
    env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
    assert env["KFJUPYTER_NAMESPACE"] == "kfjupyter-ada"
    gpu = server_objects(resolve(CONFIG, GPU_USER, {"profile": "gpu"}), own_ctx(), SETTINGS, "jupyter")
    assert gpu.pod["spec"]["automountServiceAccountToken"] is True  # the profile has cluster_access


def test_shared_namespace_mode_is_unchanged() -> None:
    ctx = PodContext(user="ada", namespace="jupyter", command=["x"])
    objects = server_objects(resolve(CONFIG, GPU_USER, {"profile": "cpu"}), ctx, None, "jupyter")
    assert objects.namespace_objects == [] and "serviceAccountName" not in objects.pod["spec"]


@pytest.mark.parametrize("template", ["{username}", "kube-{username}"])
def test_a_template_cannot_land_a_user_in_a_system_or_the_hubs_namespace(template: str) -> None:
    settings = UserNamespaces(template=template)
    user = "system" if template.startswith("kube") else "jupyter"
    ctx = dataclasses.replace(own_ctx(user), namespace=settings.name_for(user))
    with pytest.raises(Forbidden, match="not a user namespace"):
        server_objects(resolve(CONFIG, GPU_USER, {"profile": "cpu"}), ctx, settings, "jupyter")


def test_bad_spawner_settings_stop_the_hub_at_start() -> None:
    with pytest.raises(InvalidInput, match=r"user_namespace_template: .*must contain"):
        configure(Config(), profiles_file=str(EXAMPLE), user_namespaces=True, user_namespace_template="x")
    with pytest.raises(InvalidInput, match="user_namespace_quota"):
        user_namespace_settings("k-{username}", {}, "", {"pods": "many"})
    c = Config()
    configure(c, profiles_file=str(EXAMPLE), user_namespaces=True, user_namespace_quota={"pods": "9"})
    assert c.KfJupyterSpawner.user_namespaces is True
