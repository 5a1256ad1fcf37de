"""A small provisioner: binds claims of the host-path StorageClass to host-directory volumes.

For every pending PVC whose class belongs to our provisioner it creates a PV at
``<state dir>/volumes/<namespace>/<claim>-<uid>`` pre-bound to the claim; the real PV controller
in kube-controller-manager then binds the pair (claims come from an
:class:`~kfjupyter.k8s.informer.Informer`; pending ones are provisioned on every change, and a
second after a failed call). When the claim is deleted, the PV and its directory go too. The directory is writable by every user (as Rancher's local-path provisioner
makes them): a real kubelet does not apply ``fsGroup`` to host-path volumes, and pods run as
non-root users. The process kubelet runs it as a thread; with the real container node it runs
alone: ``python -m kfjupyter.cluster.kubelet.provisioner --state-dir DIR``.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import threading
from pathlib import Path
from typing import Any

from kfjupyter.k8s.client import Kube, ignore_conflict, ignore_not_found
from kfjupyter.k8s.informer import Informer
from kfjupyter.k8s.volumes import PROVISIONER, host_path_pv

log = logging.getLogger(__name__)
#: How soon pending claims are tried again after a failed API call.
RETRY_S = 1.0


class Provisioner(threading.Thread):
    """Watches PVCs and provisions host-path PVs for the classes of our provisioner."""

    def __init__(self, kube: Kube, root: Path, stop: threading.Event) -> None:
        super().__init__(daemon=True, name="provisioner")
        self.kube, self.root, self.stop = kube, root, stop

    def _ours(self, claim: dict[str, Any]) -> bool:
        name = (claim.get("spec") or {}).get("storageClassName")
        if not name:
            return False
        with ignore_not_found():
            cls = self.kube.storage.read_storage_class(name)
            return bool(cls.provisioner == PROVISIONER)
        return False

    def _path(self, claim: dict[str, Any]) -> Path:
        meta = claim["metadata"]
        return self.root / str(meta["namespace"]) / f"{meta['name']}-{meta['uid']}"

    def provision(self, claims: list[dict[str, Any]]) -> bool:
        """Create a PV for each pending, unbound claim of our class; ``False`` if any call failed."""
        done = True
        for claim in claims:
            pending = (claim.get("status") or {}).get("phase", "Pending") == "Pending"
            if not pending or claim["spec"].get("volumeName"):
                continue
            try:
                if not self._ours(claim):
                    continue
                path = self._path(claim)
                path.mkdir(parents=True, exist_ok=True)
                path.chmod(0o777)
                with ignore_conflict():  # made by an earlier pass
                    self.kube.core.create_persistent_volume(host_path_pv(claim, str(path)))
            except Exception as error:  # the API server is busy or restarting: next pass
                log.info(
                    "could not provision a volume for claim %s: %s", claim["metadata"].get("name"), error
                )
                done = False
        return done

    def release(self, kind: str, claim: dict[str, Any]) -> None:
        """Listener on the claims: a deleted claim's PV and directory go too."""
        if kind != "DELETED":
            return
        with ignore_not_found():
            self.kube.core.delete_persistent_volume(f"pvc-{claim['metadata']['uid']}")
        shutil.rmtree(self._path(claim), ignore_errors=True)

    def run(self) -> None:
        """Follow the claims until stopped; on every change (or a second after a failure) provision."""
        claims = Informer(
            self.kube.core.list_persistent_volume_claim_for_all_namespaces, name="provisioner", start=False
        )
        claims.add_listener(self.release)
        claims.start()
        seen, retry = -1, False
        try:
            while not self.stop.is_set():
                now = claims.wait_changed(seen, RETRY_S)
                if now != seen or retry:
                    seen = now
                    retry = not self.provision(claims.items())
        finally:
            claims.stop()


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
