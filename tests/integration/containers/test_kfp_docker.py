"""The compiled YAML runs under ``kfp.local.DockerRunner`` in the notebook image, like a cluster.

No kfp.local guard is lifted: the DockerRunner accepts container components as they are and runs
each task as a container of the image the project builds, through the project's docker daemon,
without network, on a read-only root filesystem, all capabilities dropped, as the image's own
user (jovyan, uid 1000). The values and metrics it gives equal those of the local runner for the
same notebook and parameters.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from kfp import components, local

from kfjupyter.api import run_notebook
from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.kfp.pipeline import compile_to_yaml
from kfjupyter.store import RunStore
from tests.support.kfp_local import expect_failed_task, kfp_results, local_results
from tests.support.notebooks import cell, write_notebook

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(3600),  # a cold image build is minutes
    pytest.mark.filterwarnings("ignore:Task .* have no effect in the current local runner:UserWarning"),
]
NASTY = 'it\'s "q" {{x}}\nünï ✓'


@pytest.fixture
def kfp_docker(tmp_path: Path, docker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """kfp.local with the DockerRunner on the project's daemon; the pipeline root writable by jovyan."""
    monkeypatch.setenv("DOCKER_HOST", docker_env["DOCKER_HOST"])
    root = tmp_path / "kfp-root"
    root.mkdir()
    os.chown(root, 1000, 100)  # the image's user writes the outputs (the root is mounted at its path)
    runner = local.DockerRunner(
        network_mode="none",
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        mem_limit="4g",
        read_only=True,
        tmpfs={"/tmp": ""},
    )
    local.init(runner=runner, pipeline_root=str(root))
    return root


def test_compiled_pipeline_in_the_image_matches_the_local_runner(
    tmp_path: Path, store: RunStore, notebook_image: str, kfp_docker: Path
) -> None:
    nb = write_notebook(
        tmp_path / "diamond.ipynb",
        [
            cell("import kfjupyter\nimport pandas as pd", "imports"),
            cell(f"n = 4\nmsg = {NASTY!r}\nrate = 0.5", "pipeline-parameters"),
            cell("data = list(range(n))\nlabel = msg + '!'", "step:make"),
            cell(
                "doubled = [x * 2 for x in data]\nkfjupyter.log_metric('doubled_sum', sum(doubled))",
                "step:double",
            ),
            cell("scaled = pd.DataFrame({'x': data, 'y': [x * rate for x in data]})", "step:scale"),
            cell("total = sum(doubled) + float(scaled['y'].sum()) + len(label) * 0", "step:join"),
            cell("total", "pipeline-metrics"),
        ],
    )
    run = run_notebook(nb, overrides=["n=5"], store=store)
    assert run.status == "succeeded", run.to_json()

    pipeline, _ = compile_notebook(nb, target="cluster")
    package = tmp_path / "pipeline.yaml"
    package.write_text(compile_to_yaml(pipeline, image=notebook_image), encoding="utf-8")
    assert f"image: {notebook_image}" in package.read_text(encoding="utf-8")
    components.load_component_from_file(str(package))(n=5)

    values, metrics = kfp_results(kfp_docker)
    local = local_results(store, run.id)
    assert metrics == run.last_metrics() == {"doubled_sum": 20.0, "total": 25.0}
    frame = values.pop(("scale", "scaled"))
    assert isinstance(frame, pd.DataFrame)
    assert frame.equals(local.pop(("scale", "scaled")))
    assert values == local
    assert values[("make", "label")] == NASTY + "!"
    # Written inside the containers, as the image's user.
    assert {p.stat().st_uid for p in kfp_docker.rglob("*")} == {1000}


def test_a_failing_cell_fails_its_task_in_the_image(
    tmp_path: Path, notebook_image: str, kfp_docker: Path
) -> None:
    nb = write_notebook(tmp_path / "broken.ipynb", [cell("x = 1", "step:ok"), cell("y = x / 0", "step:bad")])
    pipeline, _ = compile_notebook(nb, target="cluster")
    package = tmp_path / "pipeline.yaml"
    package.write_text(compile_to_yaml(pipeline, image=notebook_image), encoding="utf-8")
    expect_failed_task(components.load_component_from_file(str(package)), "step-bad", notebook_image)
