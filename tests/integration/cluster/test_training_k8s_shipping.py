"""A function trained on Kubernetes uses the notebook's own module and file, shipped in its ConfigMap.

The notebook's folder holds ``mylib`` and ``settings.txt``; the node pod (created as the Trainer
controller would, see ``test_training_k8s``) runs on the process kubelet, whose working folder and
``sys.path`` have neither: only the shipped copies, mounted from the code ConfigMap at their paths,
can serve the import and the ``open``.
"""

from __future__ import annotations

import linecache
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.k8s.client import Kube
from kfjupyter.store import RunStore
from kfjupyter.training import train
from kfjupyter.training.k8s_builders import code_configmap_name
from tests.integration.cluster import crds
from tests.integration.cluster.kube_helpers import wait_for
from tests.integration.cluster.test_training_k8s import node_pod, on_cluster
from tests.integration.cluster.trainer_standin import TRAINJOB, objects
from tests.support.stores import home, store

__all__ = ["home", "on_cluster", "store"]
SOURCE = textwrap.dedent(
    """
    import mylib

    def train_fn():
        settings = open("settings.txt").read().strip()
        print(f"result {mylib.scale(3)} {settings} from {mylib.__file__}", flush=True)
    """
)


@pytest.fixture
def notebook_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "notebooks"
    (folder / "mylib").mkdir(parents=True)
    (folder / "mylib" / "__init__.py").write_text("def scale(x):\n    return 7 * x\n")
    (folder / "settings.txt").write_text("from-settings\n")
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    sys.modules.pop("mylib", None)


def test_the_node_pod_imports_and_reads_the_shipped_copies(
    kube: Kube, on_cluster: str, store: RunStore, notebook_folder: Path
) -> None:
    namespace = on_cluster
    crds.use_crds(kube, crds.trainjob_crd(), pytorchjob=False)
    scope: dict[str, Any] = {"__name__": "__main__"}
    name = "<ipython-input-7>"
    linecache.cache[name] = (len(SOURCE), None, SOURCE.splitlines(keepends=True), name)
    exec(compile(SOURCE, name, "exec"), scope)
    handle = train(
        scope["train_fn"], image="python:3.11", backend="kubernetes", name="ship-demo", store=store
    )
    code = kube.core.read_namespaced_config_map(code_configmap_name("ship-demo"), namespace)
    assert sorted(code.data) == ["file-0000", "file-0001", "files.json", "launch.py", "payload.b64"]
    assert store.get_run(handle.id).parameters["shipped_files"] == ["mylib/__init__.py", "settings.txt"]

    job = objects(kube).get_namespaced_custom_object(*TRAINJOB[:2], namespace, TRAINJOB[2], "ship-demo")
    kube.core.create_namespaced_pod(namespace, node_pod(job, 0))

    def finished() -> bool:
        pod = kube.core.read_namespaced_pod("ship-demo-node-0-0", namespace)
        return pod.status.phase in ("Succeeded", "Failed")

    wait_for(finished, 90, "the node pod to finish")
    log = kube.core.read_namespaced_pod_log("ship-demo-node-0-0", namespace)
    assert kube.core.read_namespaced_pod("ship-demo-node-0-0", namespace).status.phase == "Succeeded", log
    assert "result 21 from-settings from " in log
    assert str(notebook_folder) not in log  # the module ran from the shipped copy
