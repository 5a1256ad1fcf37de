"""CRD manifests for training tests and helpers to install, swap and remove them on the test cluster.

CRDs are cluster-wide, so each training test states which ones it needs with :func:`use_crds`;
the helpers wait until a CRD is Established (or fully gone) before returning.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from kfjupyter.k8s.client import Kube, is_status, list_json
from tests.integration.cluster.kube_helpers import wait_for

HERE = Path(__file__).parent
TRAINJOB_CRD = "trainjobs.trainer.kubeflow.org"
PYTORCHJOB_CRD = "pytorchjobs.kubeflow.org"


def manifest(file: str) -> dict[str, Any]:
    """A CRD manifest from this directory."""
    data: dict[str, Any] = yaml.safe_load((HERE / file).read_text(encoding="utf-8"))
    return data


def trainjob_crd(patch_field: str = "runtimePatches") -> dict[str, Any]:
    """The TrainJob CRD whose per-job pod customisation field is ``patch_field``."""
    crd = copy.deepcopy(manifest("trainjobs.yaml"))
    props = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    props[patch_field] = props.pop("runtimePatches")
    return crd


def _api(kube: Kube) -> Any:
    from kubernetes import client

    return client.ApiextensionsV1Api(kube.api_client)


def _read(kube: Kube, name: str) -> dict[str, Any] | None:
    try:
        return list_json(_api(kube).read_custom_resource_definition, name=name)
    except Exception as error:
        if is_status(error, 404):
            return None
        raise


def _spec_fields(crd: dict[str, Any]) -> set[str]:
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return set(spec.get("properties") or {})


def remove(kube: Kube, name: str) -> None:
    """Delete a CRD (if present) and wait until it is gone."""
    if _read(kube, name) is None:
        return
    _api(kube).delete_custom_resource_definition(name)
    wait_for(lambda: _read(kube, name) is None, 60, f"CRD {name} to be deleted")


def install(kube: Kube, crd: dict[str, Any]) -> None:
    """Create a CRD (replacing one whose schema differs) and wait until it is Established."""
    name = crd["metadata"]["name"]
    current = _read(kube, name)
    if current is not None:
        if _spec_fields(current) == _spec_fields(crd):
            return
        remove(kube, name)
    _api(kube).create_custom_resource_definition(crd)

    def established() -> bool:
        found = _read(kube, name) or {}
        conditions = (found.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

    wait_for(established, 60, f"CRD {name} to be established")


def use_crds(kube: Kube, trainjob: dict[str, Any] | None, pytorchjob: bool) -> None:
    """Make the cluster serve exactly the given training CRDs."""
    if trainjob is None:
        remove(kube, TRAINJOB_CRD)
    else:
        install(kube, trainjob)
    if pytorchjob:
        install(kube, manifest("pytorchjobs.yaml"))
    else:
        remove(kube, PYTORCHJOB_CRD)
