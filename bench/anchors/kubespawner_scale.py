"""KubeSpawner 7 driver for bench/spawner_scale.py (run with .venv-bench's interpreter).

Builds N ``KubeSpawner(_mock=True)`` objects with MockUser-style stand-ins (as KubeSpawner's own
tests do), configured like our bench profile: ``sleep 3600`` in busybox, 10m CPU / 16Mi requests,
a 1Gi per-user PVC (``storage_pvc_ensure``) mounted at /home/jovyan, events on (the default).
Runs the same phases as our driver (``run_phases``) and prints the same MARK lines.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spawner_scale import Marks, run_phases


def _user(index: int) -> Any:
    name = f"user{index:04d}"
    return SimpleNamespace(name=name, id=index, url=f"/user/{name}/", groups=[], escaped_name=name)


async def drive(args: argparse.Namespace) -> None:
    marks = Marks()
    marks.mark("process_start")
    from kubespawner import KubeSpawner
    from traitlets.config import Config

    c = Config()
    c.KubeSpawner.namespace = args.namespace
    c.KubeSpawner.image = "busybox"
    c.KubeSpawner.cmd = ["sleep"]
    c.KubeSpawner.args = ["3600"]
    c.KubeSpawner.cpu_guarantee = 0.01
    c.KubeSpawner.mem_guarantee = "16M"
    c.KubeSpawner.start_timeout = 900
    c.KubeSpawner.port = args.port  # the bench's HTTP responder answers there for every pod IP
    c.KubeSpawner.k8s_api_request_retry_timeout = 900
    if args.pvc:
        c.KubeSpawner.storage_pvc_ensure = True
        c.KubeSpawner.storage_capacity = "1Gi"
        c.KubeSpawner.volumes = [{"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}]
        c.KubeSpawner.volume_mounts = [{"name": "home", "mountPath": "/home/jovyan"}]
    hub = SimpleNamespace(
        public_host="hub", url="http://hub:8081/hub/", base_url="/hub/", api_url="http://hub:8081/hub/api"
    )
    spawners = [KubeSpawner(config=c, user=_user(i), hub=hub, _mock=True) for i in range(args.users)]
    marks.mark("objects_built")
    await run_phases(spawners, args, marks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--steady-s", type=float, default=60.0)
    parser.add_argument("--poll-s", type=float, default=10.0)
    parser.add_argument("--namespace", default="kfj-kubespawner")
    parser.add_argument("--kubeconfig", default="")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--no-pvc", dest="pvc", action="store_false")
    parser.add_argument("--no-respawn", dest="respawn", action="store_false")
    asyncio.run(drive(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
