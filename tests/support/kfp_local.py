"""Read back what ``kfp.local`` and the local runner produced, to compare the two runs."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kfjupyter.kfp.payload import MANIFEST, ValueManifest
from kfjupyter.serializers import load_value
from kfjupyter.store import RunStore


def kfp_results(root: Path) -> tuple[dict[tuple[str, str], Any], dict[str, float]]:
    """Values ``{(step, name): value}`` and metrics of the one run under a kfp.local pipeline root."""
    (run_dir,) = root.iterdir()
    values: dict[tuple[str, str], Any] = {}
    metrics: dict[str, float] = {}
    for manifest_path in run_dir.glob("*/*/" + MANIFEST):
        manifest = ValueManifest.model_validate_json(manifest_path.read_text(encoding="utf-8"))
        task = manifest_path.parent.parent.name.removeprefix("step-")
        values[(task, manifest.name)] = load_value(manifest_path.parent / manifest.file, manifest.serializer)
    for output in run_dir.glob("*/executor_output.json"):
        artifacts = json.loads(output.read_text(encoding="utf-8"))["artifacts"]
        metrics.update(artifacts["metrics"]["artifacts"][0]["metadata"])
    return values, metrics


def local_results(store: RunStore, run_id: str) -> dict[tuple[str, str], Any]:
    """Values ``{(step, name): value}`` of a local run."""
    home = store.home
    return {
        (a.step, a.name): load_value(Path(home) / a.path, a.serializer)
        for a in store.list_artifacts(run_id)
        if a.kind == "value"
    }


def expect_failed_task(pipeline: Callable[[], object], task: str, image: str) -> None:
    """Run a kfp.local ``pipeline`` under the DockerRunner and check that ``task`` failed.

    kfp.local's DockerRunner starts containers with ``auto_remove`` and takes one that is removed
    before its status is read as a success (``kfp/local/docker_task_handler.py``,
    ``run_docker_container``); then a task after it fails for the missing output, or, for the last
    task, the pipeline seems to succeed. So the failing container's exit code is read from the
    daemon's ``die`` events (``DOCKER_HOST`` is the project's daemon) whatever kfp.local says.
    """
    since = f"{time.time():.3f}"
    try:
        pipeline()
    except RuntimeError as error:  # kfp.local saw the failure itself
        assert task in str(error), error
    except ValueError as error:  # kfp.local lost the exit status: a later task missed its output
        assert f"from task '{task}'" in str(error), error
    events = subprocess.run(
        ["/usr/bin/docker", "events", "--since", since, "--until", f"{time.time():.3f}",
         "--filter", "event=die", "--filter", f"image={image}", "--format", "{{json .}}"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    codes = [int(json.loads(line)["Actor"]["Attributes"]["exitCode"]) for line in events.splitlines()]
    assert codes and codes[-1] != 0, (
        f"the last container of {image} ({task}) did not fail: exit codes {codes}"
    )
