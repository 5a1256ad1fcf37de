"""Node specs: defaults, inline and file parsing, and the Node manifests built from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kfjupyter.errors import InvalidInput
from kfjupyter.k8s.nodes import GPU_PRODUCT_LABEL, load_nodes, node_manifest, node_status, parse_inline
from kfjupyter.k8s.volumes import host_path_pv, storage_class_manifest


def test_default_nodes_have_one_cpu_node_and_two_gpu_types() -> None:
    nodes = load_nodes(None)
    assert [n.gpus for n in nodes] == [0, 4, 2]
    assert {n.gpu_type for n in nodes if n.gpus} == {"A100", "H100"}


def test_inline_spec_parses_keys_and_labels() -> None:
    (node,) = parse_inline("big:cpu=64,memory=512Gi,gpu=8,gpu-type=H200,label.team=ml")
    assert (node.cpu, node.memory, node.gpus, node.gpu_type) == ("64", "512Gi", 8, "H200")
    assert node_manifest(node)["metadata"]["labels"]["team"] == "ml"
    assert node_manifest(node)["metadata"]["labels"][GPU_PRODUCT_LABEL] == "H200"
    assert node_manifest(node)["metadata"]["labels"]["kfjupyter.dev/gpu-type"] == "h200"


@pytest.mark.parametrize("spec", ["x:cpu", "x:colour=red", "Bad_Name:cpu=1", "a:cpu=1;a:cpu=2", ";"])
def test_bad_inline_specs_are_invalid_input(spec: str) -> None:
    with pytest.raises(InvalidInput):
        parse_inline(spec)


def test_nodes_from_json_file(tmp_path: Path) -> None:
    path = tmp_path / "nodes.json"
    path.write_text(json.dumps({"nodes": [{"name": "n1", "gpus": 1, "gpu_type": "T4"}]}))
    assert [n.name for n in load_nodes(str(path))] == ["n1"]


def test_status_advertises_gpus_and_the_kubelet_endpoint() -> None:
    (node,) = parse_inline("g:gpu=2,gpu-type=A100")
    status = node_status(node, address="127.0.0.1", kubelet_port=12345, now="2026-01-01T00:00:00Z")
    assert status["capacity"]["nvidia.com/gpu"] == "2"
    assert status["daemonEndpoints"]["kubeletEndpoint"]["Port"] == 12345
    assert status["conditions"][0]["type"] == "Ready"


def test_host_path_pv_is_prebound_to_its_claim() -> None:
    claim = {"metadata": {"name": "data", "namespace": "ns", "uid": "u1"},
             "spec": {"resources": {"requests": {"storage": "2Gi"}}, "storageClassName": "standard"}}  # fmt: skip
    pv = host_path_pv(claim, "/tmp/x")
    assert pv["spec"]["claimRef"] == {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": "ns",
                                      "name": "data", "uid": "u1"}  # fmt: skip
    assert pv["spec"]["capacity"]["storage"] == "2Gi"
    assert (
        storage_class_manifest()["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"]
        == "true"
    )
