"""Read back what ``kfp.local`` and the local runner produced, to compare the two runs."""

from __future__ import annotations

import json
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
