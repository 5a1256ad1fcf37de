"""The real node's pure parts: subnet choice, CNI and kubelet configuration, the missing-parts report."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from kfjupyter.cluster import build, node_network, realnode
from kfjupyter.cluster.config import ClusterConfig, ClusterState, RealNode, default_real_node
from kfjupyter.cluster.node_network import NodeNetwork


def net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


def test_free_subnet_skips_every_overlapping_address_and_route() -> None:
    used = [net("127.0.0.0/8"), net("10.244.1.0/24"), net("10.244.2.7/32"), net("10.244.3.0/25")]
    assert node_network.free_subnet(used) == net("10.244.4.0/24")
    with pytest.raises(Exception, match="no free /24"):
        node_network.free_subnet([net("10.0.0.0/8")])


def test_bridge_names_are_short_and_stable(tmp_path: Path) -> None:
    name = node_network.bridge_name(tmp_path)
    assert len(name) <= 15 and name == node_network.bridge_name(tmp_path)
    assert name != node_network.bridge_name(tmp_path / "other")


def test_cni_network_has_no_masquerade_and_no_route_out(tmp_path: Path) -> None:
    network = NodeNetwork(bridge="kfjbr-1", subnet="10.244.9.0/24", gateway="10.244.9.1")
    config = node_network.cni_config(network, tmp_path)
    assert config["type"] == "bridge" and config["isGateway"] is True
    assert config["ipMasq"] is False and config["isDefaultGateway"] is False
    assert config["ipam"]["type"] == "host-local" and config["ipam"]["routes"] == []
    assert config["ipam"]["ranges"] == [[{"subnet": "10.244.9.0/24", "gateway": "10.244.9.1"}]]
    assert config["ipam"]["dataDir"] == str(tmp_path)
    assert "portmap" not in str(config)


def test_kubelet_serves_on_the_node_address_to_our_ca_only(tmp_path: Path) -> None:
    config = realnode.kubelet_configuration("10.244.9.1", 4321, tmp_path)
    assert (config["address"], config["port"], config["readOnlyPort"]) == ("10.244.9.1", 4321, 0)
    assert config["authentication"]["anonymous"]["enabled"] is False
    assert config["authentication"]["x509"]["clientCAFile"] == str(tmp_path / "ca.crt")
    assert config["makeIPTablesUtilChains"] is False and config["resolvConf"] == ""
    assert config["imageGCHighThresholdPercent"] == 100  # never deletes the locally built images
    assert config["syncFrequency"] == "5s"


def test_kubelet_command_uses_dockershim_cni_and_the_local_pause_image(tmp_path: Path) -> None:
    network = NodeNetwork(bridge="kfjbr-1", subnet="10.244.9.0/24", gateway="10.244.9.1")
    node = RealNode(name="node-0", docker_host="unix:///run/d.sock", network=network, token="t")
    state = ClusterState(state_dir=tmp_path, api_port=1, etcd_port=2, kubelet_port=3, token="a")
    cmd = realnode.kubelet_command(state, node, default_real_node()[0], tmp_path)
    assert cmd[0] == str(tmp_path / "kubelet")
    for flag in ("--container-runtime=docker", "--docker-endpoint=unix:///run/d.sock", "--network-plugin=cni",
                 "--node-ip=10.244.9.1", "--hostname-override=node-0",
                 "--pod-infra-container-image=localhost/kfjupyter-pause:1"):  # fmt: skip
        assert flag in cmd
    labels = next(arg for arg in cmd if arg.startswith("--node-labels="))
    assert "kfjupyter.dev/gpu-type=a100" in labels and "kfjupyter.io/runtime=docker" in labels
    assert "kubernetes.io/hostname" not in labels and "simulated" not in labels


def test_preflight_names_each_missing_part_with_its_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KFJUPYTER_K8S_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(build, "_missing_tools", lambda: [])
    monkeypatch.setattr(node_network, "CNI_BIN_DIR", tmp_path / "no-cni")
    config = ClusterConfig(state_dir=tmp_path, runtime="docker", docker_host=f"unix://{tmp_path}/none.sock")
    problems = "\n".join(realnode.preflight(config))
    assert "the kubelet is not built: `python -m kfjupyter.cluster.build --kubelet`" in problems
    assert "CNI plugins missing (bridge, host-local, loopback)" in problems
    assert "apt-get install containernetworking-plugins" in problems
    assert f"docker daemon is not running at unix://{tmp_path}/none.sock" in problems
    assert "python -m kfjupyter.cluster.dockerd start" in problems
