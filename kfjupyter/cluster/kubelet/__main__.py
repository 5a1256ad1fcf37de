"""Entry point of the kubelet process: ``python -m kfjupyter.cluster.kubelet --state-dir DIR``."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from types import FrameType

from kfjupyter.cluster.config import ClusterConfig, ClusterState
from kfjupyter.cluster.kubelet.agent import Kubelet


def main() -> int:
    """Run the kubelet of the cluster in ``--state-dir`` until SIGTERM."""
    parser = argparse.ArgumentParser(prog="kfjupyter-kubelet")
    parser.add_argument("--state-dir", required=True, type=Path)
    args = parser.parse_args()
    state = ClusterState.load(args.state_dir)
    if state is None:
        parser.error(f"no cluster state in {args.state_dir}")
    config = ClusterConfig.model_validate_json((args.state_dir / "kubelet.json").read_text(encoding="utf-8"))
    kubelet = Kubelet(state, config)

    def stop(_sig: int, _frame: FrameType | None) -> None:
        kubelet.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    kubelet.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
