"""What travels with the steps, in the notebook image under ``kfp.local.DockerRunner``.

The image has neither the notebook's module nor its data file, its root filesystem is read-only
and it runs as jovyan: the shipped copies are written into the step's working folder under /tmp
and used from there. A pin the image does not satisfy stops the step before it runs, naming it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kfp import components

from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.kfp.pipeline import compile_to_yaml
from tests.integration.containers.test_kfp_docker import kfp_docker
from tests.support.kfp_local import expect_failed_task, kfp_results
from tests.support.notebooks import cell, write_notebook

__all__ = ["kfp_docker"]
pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(3600),  # a cold image build is minutes
    pytest.mark.filterwarnings("ignore:Task .* have no effect in the current local runner:UserWarning"),
]


def test_the_shipped_module_and_file_serve_the_steps_in_the_image(
    tmp_path: Path, notebook_image: str, kfp_docker: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    (project / "mylib").mkdir(parents=True)
    (project / "mylib" / "__init__.py").write_text("def triple(x):\n    return 3 * x\n")
    (project / "data").mkdir()
    (project / "data" / "rows.csv").write_text("7\n8\n")
    nb = write_notebook(
        project / "nb.ipynb",
        [
            cell("import pandas as pd\nfrom mylib import triple", "imports"),
            cell("rows = [triple(int(v)) for v in open('data/rows.csv').read().split()]", "step:read"),
            cell("print(rows)", "step:show"),
        ],
    )
    pipeline, _ = compile_notebook(nb, target="cluster")
    good = tmp_path / "shipped.yaml"
    good.write_text(compile_to_yaml(pipeline, image=notebook_image, source_dir=project), encoding="utf-8")
    shutil.rmtree(project)
    components.load_component_from_file(str(good))()
    values, _ = kfp_results(kfp_docker)
    assert values[("read", "rows")] == [21, 24]

    checked = compile_to_yaml(pipeline, image=notebook_image, source_dir=tmp_path, packages="check")
    pin = next(line for line in checked.split('"') if line.startswith("pandas=="))
    other = tmp_path / "other.yaml"
    other.write_text(checked.replace(pin, "pandas==0.0.1"), encoding="utf-8")
    capfd.readouterr()
    expect_failed_task(components.load_component_from_file(str(other)), "step-read", notebook_image)
    out, err = capfd.readouterr()
    assert "this image does not have the packages the notebook used: pandas is " in out + err
    assert "(the notebook has 0.0.1)" in out + err
