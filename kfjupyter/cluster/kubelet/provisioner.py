"""A small provisioner: binds claims of the host-path StorageClass to host-directory volumes.

For every pending PVC whose class belongs to our provisioner it creates a PV at
``<state dir>/volumes/<namespace>/<claim>-<uid>`` pre-bound to the claim; the real PV controller
in kube-controller-manager then binds the pair. When the claim is deleted, the PV and its
directory go too. The directory is writable by every user (as Rancher's local-path provisioner
makes them): a real kubelet does not apply ``fsGroup`` to host-path volumes, and pods run as
non-root users. The process kubelet runs it as a thread; with the real container node it runs
alone: ``python -m kfjupyter.cluster.kubelet.provisioner --state-dir DIR``.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

from kfjupyter.k8s.client import Kube, is_status, list_json, watch_json
from kfjupyter.k8s.volumes import PROVISIONER, host_path_pv


class Provisioner(threading.Thread):
    """Watches PVCs and provisions host-path PVs for the classes of our provisioner."""

    def __init__(self, kube: Kube, root: Path, stop: threading.Event) -> None:
        super().__init__(daemon=True, name="provisioner")
        self.kube, self.root, self.stop = kube, root, stop

    def _ours(self, claim: dict[str, Any]) -> bool:
        name = (claim.get("spec") or {}).get("storageClassName")
        if not name:
            return False
        try:
            cls = self.kube.storage.read_storage_class(name)
        except Exception as error:
            if is_status(error, 404):
                return False
            raise
        return bool(cls.provisioner == PROVISIONER)

    def _path(self, claim: dict[str, Any]) -> Path:
        meta = claim["metadata"]
        return self.root / str(meta["namespace"]) / f"{meta['name']}-{meta['uid']}"

    def handle(self, kind: str, claim: dict[str, Any]) -> None:
        """React to one PVC event."""
        pending = (claim.get("status") or {}).get("phase", "Pending") == "Pending"
        if (
            kind in ("ADDED", "MODIFIED")
            and pending
            and not claim["spec"].get("volumeName")
            and self._ours(claim)
        ):
            path = self._path(claim)
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o777)
            try:
                self.kube.core.create_persistent_volume(host_path_pv(claim, str(path)))
            except Exception as error:
                if not is_status(error, 409):
                    raise
        elif kind == "DELETED":
            try:
                self.kube.core.delete_persistent_volume(f"pvc-{claim['metadata']['uid']}")
            except Exception as error:
                if not is_status(error, 404):
                    raise
            shutil.rmtree(self._path(claim), ignore_errors=True)

    def run(self) -> None:
        """List, then watch, forever (until stopped)."""
        while not self.stop.is_set():
            try:
                listing = list_json(self.kube.core.list_persistent_volume_claim_for_all_namespaces)
                for claim in listing["items"]:
                    self.handle("ADDED", claim)
                version = listing["metadata"]["resourceVersion"]
                for kind, claim in watch_json(self.kube.core.list_persistent_volume_claim_for_all_namespaces,
                                              resource_version=version, timeout_seconds=120):  # fmt: skip
                    if kind == "ERROR" or self.stop.is_set():
                        break
                    self.handle(kind, claim)
            except Exception:
                if self.stop.is_set():
                    return
                time.sleep(1)


def main() -> int:
    """Provision volumes for the cluster in ``--state-dir`` until SIGTERM."""
    from kfjupyter.cluster.config import ClusterState

    parser = argparse.ArgumentParser(prog="kfjupyter-provisioner")
    parser.add_argument("--state-dir", required=True, type=Path)
    args = parser.parse_args()
    state = ClusterState.load(args.state_dir)
    if state is None:
        parser.error(f"no cluster state in {args.state_dir}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _sig, _frame: stop.set())
    signal.signal(signal.SIGINT, lambda _sig, _frame: stop.set())
    with Kube(state.kubeconfig) as kube:
        Provisioner(kube, args.state_dir / "volumes", stop).start()
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
