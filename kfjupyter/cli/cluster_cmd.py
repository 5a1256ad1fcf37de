"""``kfjupyter cluster up|down|status|kubeconfig``: a local Kubernetes 1.20, simulated or real nodes."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the cluster subcommands."""
    cmd = sub.add_parser("cluster", help="a local Kubernetes (real control plane, process kubelet)")
    cmd.add_argument(
        "--state-dir", type=Path, default=None, help="cluster state directory (default: per user)"
    )
    actions = cmd.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = actions.add_parser("up", help="build the binaries once, then start the cluster")
    up.add_argument("--nodes", default=None, metavar="SPEC",
                    help="a JSON/YAML file of nodes, or 'NAME:cpu=8,memory=32Gi,gpu=4,gpu-type=A100;...'")  # fmt: skip
    up.add_argument("--unpullable", default=None, metavar="REGEX", help="images matching this fail to pull")
    up.add_argument(
        "--runtime",
        choices=("process", "docker"),
        default="process",
        help="process (default): simulated nodes running pods as host processes; docker: one "
        "real node (Kubernetes' kubelet) running pods as containers of the docker daemon",
    )
    up.add_argument(
        "--docker-host",
        default=None,
        metavar="URL",
        help="the real node's docker daemon (default: $KFJUPYTER_DOCKER_HOST, else the "
        "project's own: python -m kfjupyter.cluster.dockerd start)",
    )
    up.add_argument("--node-wait", type=float, default=0.0, metavar="SECONDS",
                    help="wait this long for another cluster's real node to release the docker daemon")  # fmt: skip
    up.set_defaults(handler=_up)
    actions.add_parser("down", help="stop every process the cluster started").set_defaults(handler=_down)
    status = actions.add_parser("status", help="components, API readiness and nodes")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_status)
    actions.add_parser("kubeconfig", help="print the admin kubeconfig path").set_defaults(handler=_kubeconfig)


def _state_dir(args: argparse.Namespace) -> Path:
    from kfjupyter.cluster.config import default_state_dir

    return Path(args.state_dir) if args.state_dir else default_state_dir()


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _up(args: argparse.Namespace) -> int:
    from kfjupyter.cluster.config import ClusterConfig, KubeletSettings, default_real_node
    from kfjupyter.cluster.controlplane import up
    from kfjupyter.errors import InvalidInput
    from kfjupyter.k8s.nodes import load_nodes

    settings = (
        KubeletSettings() if args.unpullable is None else KubeletSettings(unpullable_image=args.unpullable)
    )
    extra: dict[str, Any] = {"docker_host": args.docker_host} if args.docker_host else {}
    nodes = load_nodes(args.nodes)
    if args.runtime == "docker":
        if args.nodes and len(nodes) != 1:
            raise InvalidInput("--nodes: the docker runtime runs exactly one real node; name one")
        nodes = nodes if args.nodes else default_real_node()
    config = ClusterConfig(
        state_dir=_state_dir(args), nodes=nodes, kubelet=settings, runtime=args.runtime,
        node_lock_wait_s=args.node_wait, **extra,
    )  # fmt: skip
    state = up(config, progress=_say)
    print(state.kubeconfig)
    return 0


def _down(args: argparse.Namespace) -> int:
    from kfjupyter.cluster.controlplane import down

    stopped = down(_state_dir(args))
    _say(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


def _status(args: argparse.Namespace) -> int:
    from kfjupyter.cluster.controlplane import status

    report = status(_state_dir(args))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0 if report["ready"] else 1
    print(f"server      {report['server']} ({'ready' if report['ready'] else 'NOT ready'})")
    print(f"kubeconfig  {report['kubeconfig']}")
    if "node_address" in report:
        print(f"real node   address {report['node_address']} (pods reach this host there)")
    for name, info in report["components"].items():
        print(f"  {name:<24} pid {info['pid']!s:<8} {'running' if info['running'] else 'stopped'}")
    for node in report["nodes"]:
        gpus = node["capacity"].get("nvidia.com/gpu")
        extra = f", {gpus} GPU" if gpus else ""
        print(f"  node {node['name']:<19} {'Ready' if node['ready'] else 'NotReady'}  "
              f"cpu {node['capacity'].get('cpu')}, memory {node['capacity'].get('memory')}{extra}")  # fmt: skip
    return 0 if report["ready"] else 1


def _kubeconfig(args: argparse.Namespace) -> int:
    from kfjupyter.cluster.config import ClusterState
    from kfjupyter.cluster.controlplane import ClusterNotRunning

    state = ClusterState.load(_state_dir(args))
    if state is None or not state.kubeconfig.is_file():
        raise ClusterNotRunning("no cluster has been started; run `kfjupyter cluster up`")
    print(state.kubeconfig)
    return 0
