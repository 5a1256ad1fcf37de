"""The launch plan a local job's supervisor reads, and the torchrun-compatible environment of a rank.

The kernel writes ``<run dir>/launch.json`` (a :class:`LaunchPlan`); the supervisor reads it with
the standard library only, so it can start the workers before importing anything heavy. The
variables of :func:`rank_env` are those ``torchrun`` sets (plus the ``PET_*`` ones Kubeflow
Trainer sets), so ``torch.distributed.init_process_group()`` works unchanged.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import TypedDict

LAUNCH_FILE = "launch.json"
PAYLOAD_FILE = "payload.pkl"
MASTER_ADDR = "127.0.0.1"


class LaunchPlan(TypedDict):
    """Everything the supervisor needs to start and record one local job."""

    run_id: str
    home: str
    kind: str
    script: str | None
    script_args: list[str]
    num_nodes: int
    procs_per_node: int
    sys_path: list[str]


def write_plan(run_dir: Path, plan: LaunchPlan) -> Path:
    """Write ``plan`` into ``run_dir`` and return the file."""
    path = run_dir / LAUNCH_FILE
    path.write_text(json.dumps(plan), encoding="utf-8")
    return path


def read_plan(run_dir: Path) -> LaunchPlan:
    """Read the plan of a job directory."""
    plan: LaunchPlan = json.loads((run_dir / LAUNCH_FILE).read_text(encoding="utf-8"))
    return plan


def free_port() -> int:
    """Return a TCP port on the loopback interface that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((MASTER_ADDR, 0))
        port: int = sock.getsockname()[1]
    return port


def rank_env(rank: int, num_nodes: int, procs_per_node: int, master_port: int) -> dict[str, str]:
    """Return the torchrun and Kubeflow Trainer variables of global rank ``rank``."""
    node_rank, local_rank = divmod(rank, procs_per_node)
    return {
        "MASTER_ADDR": MASTER_ADDR,
        "MASTER_PORT": str(master_port),
        "WORLD_SIZE": str(num_nodes * procs_per_node),
        "RANK": str(rank),
        "LOCAL_RANK": str(local_rank),
        "LOCAL_WORLD_SIZE": str(procs_per_node),
        "GROUP_RANK": str(node_rank),
        "GROUP_WORLD_SIZE": str(num_nodes),
        "ROLE_RANK": str(rank),
        "ROLE_WORLD_SIZE": str(num_nodes * procs_per_node),
        "PET_NNODES": str(num_nodes),
        "PET_NPROC_PER_NODE": str(procs_per_node),
        "PET_NODE_RANK": str(node_rank),
        "PET_MASTER_ADDR": MASTER_ADDR,
        "PET_MASTER_PORT": str(master_port),
        "TORCHELASTIC_RUN_ID": "kfjupyter",
    }


def worker_command(plan: LaunchPlan, run_dir: Path) -> list[str]:
    """Return the argument list one worker process runs (never a shell command line)."""
    if plan["kind"] == "script":
        script = plan["script"]
        if script is None:
            raise ValueError("a script job needs a script path")
        return [sys.executable, script, *plan["script_args"]]
    return [sys.executable, "-m", "kfjupyter.training.worker", str(run_dir / PAYLOAD_FILE)]
