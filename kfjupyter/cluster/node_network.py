"""The real node's network: one bridge on a private /24 that never routes off this machine.

``up --runtime docker`` creates a Linux bridge (``kfjbr-<id>``) holding the first address of a free
``10.244.N.0/24``; that address is also the node's address (the kubelet refuses a loopback one, and
the API server reaches the kubelet there for logs). Pods join the bridge through the CNI ``bridge``
plugin with ``host-local`` addresses: ``isGateway`` gives the bridge the gateway address, and there
is no masquerade, no port mapping and no default route in the pods, so a pod reaches only its /24
(other pods and this host's bridge address). IP forwarding is left as it is. ``down`` deletes the
bridge; the pods' network namespaces go with their sandbox containers.
"""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from kfjupyter.errors import Unavailable

POOL = ipaddress.IPv4Network("10.244.0.0/16")
CNI_BIN_DIR = Path("/usr/lib/cni")
CNI_PLUGINS = ("bridge", "host-local", "loopback")
_LOCK = Path(tempfile.gettempdir()) / "kfjupyter-node-network.lock"


class NodeNetwork(BaseModel):
    """The bridge and subnet of one real node."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bridge: str
    subnet: str
    gateway: str

    @property
    def node_ip(self) -> str:
        """The node's address: the bridge's (gateway) address."""
        return self.gateway


def bridge_name(state_dir: Path) -> str:
    """A stable interface name (<= 15 characters) for the cluster at ``state_dir``."""
    return "kfjbr-" + hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:8]


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise Unavailable(f"`ip {' '.join(args)}` failed: {done.stderr.strip()}")
    return done


def _used_networks() -> list[ipaddress.IPv4Network]:
    used: list[ipaddress.IPv4Network] = []
    for link in json.loads(_ip("-j", "-4", "addr", "show").stdout or "[]"):
        for addr in link.get("addr_info") or []:
            used.append(ipaddress.IPv4Network(f"{addr['local']}/{addr['prefixlen']}", strict=False))
    for route in json.loads(_ip("-j", "-4", "route", "show", "table", "all").stdout or "[]"):
        dst = route.get("dst") or "default"
        if dst != "default":
            try:
                used.append(ipaddress.IPv4Network(dst, strict=False))
            except ValueError:
                continue
    return used


def free_subnet(used: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """The first /24 of 10.244.0.0/16 (after 10.244.0.0/24) that overlaps no address or route here."""
    for candidate in list(POOL.subnets(new_prefix=24))[1:]:
        if not any(candidate.overlaps(net) for net in used):
            return candidate
    raise Unavailable("no free /24 left in 10.244.0.0/16 for a node network")


def exists(bridge: str) -> bool:
    """Whether the interface ``bridge`` exists."""
    return _ip("link", "show", "dev", bridge, check=False).returncode == 0


def create(state_dir: Path) -> NodeNetwork:
    """Create the node's bridge on a free subnet (any earlier bridge of this cluster is replaced)."""
    name = bridge_name(state_dir)
    with _LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if exists(name):
            _ip("link", "del", "dev", name)
        subnet = free_subnet(_used_networks())
        gateway = str(next(subnet.hosts()))
        _ip("link", "add", "name", name, "type", "bridge")
        try:
            _ip("addr", "add", f"{gateway}/{subnet.prefixlen}", "dev", name)
            _ip("link", "set", "dev", name, "up")
        except Unavailable:
            _ip("link", "del", "dev", name, check=False)
            raise
    return NodeNetwork(bridge=name, subnet=str(subnet), gateway=gateway)


def delete(network: NodeNetwork) -> bool:
    """Delete the bridge; returns whether there was one."""
    if not exists(network.bridge):
        return False
    _ip("link", "del", "dev", network.bridge, check=False)
    return True


def cni_config(network: NodeNetwork, ipam_dir: Path) -> dict[str, Any]:
    """The CNI network: bridge + host-local, the bridge as gateway, no masquerade, no routes out."""
    return {
        "cniVersion": "0.4.0",
        "name": network.bridge,
        "type": "bridge",
        "bridge": network.bridge,
        "isGateway": True,
        "isDefaultGateway": False,
        "ipMasq": False,
        "hairpinMode": False,
        "ipam": {
            "type": "host-local",
            "ranges": [[{"subnet": network.subnet, "gateway": network.gateway}]],
            "routes": [],
            "dataDir": str(ipam_dir),
        },
    }


def missing_plugins() -> list[str]:
    """CNI plugins the node needs that are not installed in ``CNI_BIN_DIR``."""
    return [name for name in CNI_PLUGINS if not (CNI_BIN_DIR / name).is_file()]
