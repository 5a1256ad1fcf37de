"""Pure pod and PVC builders: restricted by default, labelled, deterministic."""

from __future__ import annotations

import dataclasses
from typing import Any

from kfjupyter_spawner.names import pod_name, pvc_name
from kfjupyter_spawner.options import resolve
from kfjupyter_spawner.pods import PodContext, build_pod, build_pvcs, idle_args
from kubernetes.client import ApiClient

from tests.unit.spawner.test_options import CONFIG, GPU_USER

CTX = PodContext(user="Ada.Lovelace@example.org", namespace="hub", command=["jupyterhub-singleuser"])


def as_dict(obj: object) -> Any:
    return ApiClient().sanitize_for_serialization(obj)


def test_gpu_pod_asks_for_gpus_on_the_right_nodes() -> None:
    plan = resolve(CONFIG, GPU_USER, {"profile": "gpu", "gpu_type": "a100", "gpu_count": 2})
    pod = as_dict(build_pod(plan, CTX))
    container = pod["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert pod["spec"]["nodeSelector"] == {"kfjupyter.dev/gpu-type": "a100"}
    assert pod["spec"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    assert pod["metadata"]["labels"]["kfjupyter.dev/gpu-type"] == "a100"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert container["env"][0]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    assert env["KFJUPYTER_PROFILE"] == "gpu" and env["KFJUPYTER_NAMESPACE"] == "hub"
    assert {"name": "dshm", "mountPath": "/dev/shm"} in container["volumeMounts"]


def test_pods_are_restricted_by_default() -> None:
    pod = as_dict(build_pod(resolve(CONFIG, GPU_USER, {"profile": "cpu"}), CTX))
    sc = pod["spec"]["containers"][0]["securityContext"]
    assert sc == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert pod["spec"]["securityContext"]["fsGroup"] == 100
    assert "hostPath" not in str(pod) and "privileged" not in str(pod)


def test_user_pvcs_and_names() -> None:
    plan = resolve(CONFIG, GPU_USER, {"profile": "cpu"})
    (pvc,) = [as_dict(p) for p in build_pvcs(plan, CTX)]
    assert pvc["metadata"]["name"] == pvc_name(CTX.user, "home")
    assert pvc["spec"]["resources"]["requests"] == {"storage": "10Gi"}
    pod = as_dict(build_pod(plan, CTX))
    assert pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]


def test_names_are_valid_and_distinct() -> None:
    assert pod_name("alice") == "jupyter-alice"
    assert pod_name("alice", "gpu1") == "jupyter-alice--gpu1"
    odd = {pod_name("Ada.L@x"), pod_name("ada-l-x"), pod_name("ada.l@x")}
    assert len(odd) == 3
    long = pod_name("u" * 100)
    assert len(long) == 63 and long != pod_name("u" * 101)


def test_the_objects_name_their_exact_owner() -> None:
    plan = resolve(CONFIG, GPU_USER, {"profile": "cpu"})
    ctx = dataclasses.replace(CTX, server="Big One")
    pod = as_dict(build_pod(plan, ctx))["metadata"]
    (pvc,) = [as_dict(p)["metadata"] for p in build_pvcs(plan, ctx)]
    for meta in (pod, pvc):
        assert meta["annotations"]["kfjupyter.dev/username"] == "Ada.Lovelace@example.org"
        assert meta["labels"]["kfjupyter.dev/user"].startswith("ada-lovelace-example-org---")
    assert pod["annotations"]["kfjupyter.dev/servername"] == "Big One"
    assert pvc["labels"]["kfjupyter.dev/volume"] == "home"


def test_same_plan_same_objects() -> None:
    plan = resolve(CONFIG, GPU_USER, {"profile": "gpu", "gpu_count": 1})
    assert as_dict(build_pod(plan, CTX)) == as_dict(build_pod(plan, CTX))


def test_idle_timeout_per_profile_becomes_server_arguments() -> None:
    gpu = resolve(CONFIG, GPU_USER, {"profile": "gpu", "gpu_count": 1})
    cpu = resolve(CONFIG, GPU_USER, {"profile": "cpu"})
    assert "--ServerApp.shutdown_no_activity_timeout=1800" in idle_args(gpu)
    assert "--ServerApp.shutdown_no_activity_timeout=3600" in idle_args(cpu)
    assert idle_args(dataclasses.replace(cpu, idle_timeout_s=None)) == []


def test_the_server_is_probed_while_it_starts_only() -> None:
    ctx = dataclasses.replace(CTX, env={"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}, startup_timeout_s=150)
    container = as_dict(build_pod(resolve(CONFIG, GPU_USER, {"profile": "cpu"}), ctx))["spec"]["containers"][
        0
    ]
    assert container["startupProbe"] == {
        "httpGet": {"path": "/user/ada/api", "port": 8888},
        "periodSeconds": 1,
        "failureThreshold": 150,
    }
    assert "readinessProbe" not in container and "livenessProbe" not in container


def test_the_server_command_runs_behind_the_images_entrypoint() -> None:
    container = as_dict(build_pod(resolve(CONFIG, GPU_USER, {"profile": "cpu"}), CTX))["spec"]["containers"][
        0
    ]
    assert "command" not in container
    assert container["args"] == ["jupyterhub-singleuser"]


def test_the_profiles_pull_policy_reaches_the_container() -> None:
    plan = resolve(CONFIG, GPU_USER, {"profile": "cpu"})
    assert "imagePullPolicy" not in as_dict(build_pod(plan, CTX))["spec"]["containers"][0]
    never = dataclasses.replace(plan, image_pull_policy="Never")
    assert as_dict(build_pod(never, CTX))["spec"]["containers"][0]["imagePullPolicy"] == "Never"
