"""The compiled YAML, executed by ``kfp.local``, gives the same values and metrics as a local run.

``kfp.local.SubprocessRunner`` refuses container components because it cannot provide the image.
Our steps' image is "this environment with kfjupyter installed", which is exactly what the current
venv is, so the test lifts that one guard and runs the YAML as loaded by
``kfp.components.load_component_from_file``: KFP itself resolves ``{{$}}``, wires the artifacts
between tasks and reads back the executor output (including the Metrics artifact).
"""

from __future__ import annotations

import importlib.metadata as metadata
import shutil
import sys
from pathlib import Path

import pytest
from kfp import components, local
from kfp.local import subprocess_task_handler

from kfjupyter.api import run_notebook
from kfjupyter.compiler.lint import compile_notebook
from kfjupyter.kfp.pipeline import compile_to_yaml
from kfjupyter.store import RunStore
from tests.support.kfp_local import kfp_results, local_results
from tests.support.notebooks import cell, write_notebook
from tests.support.subnotebooks import code, host_notebook, prep_notebook

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Task .* have no effect in the current local runner:UserWarning"),
]
NASTY = 'it\'s "q" {{x}}\nünï ✓'


@pytest.fixture
def kfp_local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(
        subprocess_task_handler.SubprocessTaskHandler, "validate_not_container_component", lambda *_: None
    )
    root = tmp_path / "kfp-root"
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root))
    return root


def test_compiled_pipeline_matches_the_local_runner(tmp_path: Path, store: RunStore, kfp_local: Path) -> None:
    nb = write_notebook(
        tmp_path / "diamond.ipynb",
        [
            cell("import kfjupyter", "imports"),
            cell(f"n = 4\nmsg = {NASTY!r}\nrate = 0.5", "pipeline-parameters"),
            cell("data = list(range(n))\nlabel = msg + '!'", "step:make"),
            cell(
                "doubled = [x * 2 for x in data]\nkfjupyter.log_metric('doubled_sum', sum(doubled))",
                "step:double",
            ),
            cell("scaled = [x * rate for x in data]", "step:scale"),
            cell("total = sum(doubled) + sum(scaled) + len(label) * 0", "step:join"),
            cell("total", "pipeline-metrics"),
        ],
    )
    run = run_notebook(nb, overrides=["n=5"], store=store)
    assert run.status == "succeeded", run.to_json()

    pipeline, _ = compile_notebook(nb, target="cluster")
    package = tmp_path / "pipeline.yaml"
    package.write_text(compile_to_yaml(pipeline, image="python:3.11-kfjupyter"), encoding="utf-8")
    components.load_component_from_file(str(package))(n=5)

    values, metrics = kfp_results(kfp_local)
    assert metrics == run.last_metrics() == {"doubled_sum": 20.0, "total": 25.0}
    assert values == local_results(store, run.id)
    assert values[("make", "label")] == NASTY + "!"


def test_a_failing_cell_fails_its_kfp_task(tmp_path: Path, kfp_local: Path) -> None:
    nb = write_notebook(
        tmp_path / "broken.ipynb",
        [cell("x = 1", "step:ok"), cell("y = x / 0", "step:bad")],
    )
    pipeline, _ = compile_notebook(nb, target="cluster")
    package = tmp_path / "pipeline.yaml"
    package.write_text(compile_to_yaml(pipeline, image="python:3.11-kfjupyter"), encoding="utf-8")
    with pytest.raises(RuntimeError, match="step-bad"):
        components.load_component_from_file(str(package))()


def test_the_notebooks_module_and_data_file_travel_with_the_steps(tmp_path: Path, kfp_local: Path) -> None:
    """The steps run where neither the module nor the file exists: only the shipped copies can serve."""
    project = tmp_path / "project"
    (project / "mylib").mkdir(parents=True)
    (project / "mylib" / "__init__.py").write_text("")
    (project / "mylib" / "maths.py").write_text("def triple(x):\n    return 3 * x\n")
    (project / "data").mkdir()
    (project / "data" / "rows.csv").write_text("7\n8\n")
    nb = write_notebook(
        project / "shipped.ipynb",
        [
            cell("import os\nfrom mylib.maths import triple", "imports"),
            cell("rows = [int(v) for v in open('data/rows.csv').read().split()]", "step:read"),
            cell(
                "import mylib.maths\ntripled = [triple(r) for r in rows]\nwhere = mylib.maths.__file__",
                "step:use",
            ),
            cell("print(tripled, where)", "step:report"),
        ],
    )
    assert Path.cwd() != project and str(project) not in sys.path
    pipeline, _ = compile_notebook(nb, target="cluster")
    package = tmp_path / "pipeline.yaml"
    package.write_text(
        compile_to_yaml(pipeline, image="python:3.11-kfjupyter", source_dir=project), encoding="utf-8"
    )
    shutil.rmtree(project)  # what the steps need now exists only inside the compiled YAML
    components.load_component_from_file(str(package))()
    values, _ = kfp_results(kfp_local)
    assert values[("read", "rows")] == [7, 8]
    assert values[("use", "tripled")] == [21, 24]
    assert values[("use", "where")].endswith("/files/mylib/maths.py")
    assert not values[("use", "where")].startswith(str(tmp_path))


def test_pinned_imports_are_checked_or_installed_in_the_step_container(
    tmp_path: Path, kfp_local: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    nb = write_notebook(
        tmp_path / "pins.ipynb",
        [cell("import yaml\ntext = yaml.safe_dump({'a': 1})", "step:dump"), cell("print(text)", "step:show")],
    )
    pipeline, _ = compile_notebook(nb, target="cluster")
    here = metadata.version("PyYAML")
    for mode in ("check", "auto"):
        text = compile_to_yaml(pipeline, image="python:3.11-kfjupyter", source_dir=tmp_path, packages=mode)
        assert f"PyYAML=={here}" in text
        package = tmp_path / f"{mode}.yaml"
        package.write_text(text, encoding="utf-8")
        components.load_component_from_file(str(package))()  # this environment satisfies the pins

    # an image with another PyYAML than the notebook's: the step stops before running, saying why
    other = tmp_path / "other.yaml"
    compiled = compile_to_yaml(pipeline, image="python:3.11-kfjupyter", source_dir=tmp_path, packages="check")
    other.write_text(compiled.replace(f"PyYAML=={here}", "PyYAML==0.0.1"), encoding="utf-8")
    capfd.readouterr()
    with pytest.raises(RuntimeError, match="step-dump"):
        components.load_component_from_file(str(other))()
    out, err = capfd.readouterr()
    assert (
        f"this image does not have the packages the notebook used: PyYAML is {here} here (the notebook has 0.0.1)"
        in out + err
    )


def test_a_step_that_runs_another_notebook_compiles_and_runs_on_kfp(tmp_path: Path, kfp_local: Path) -> None:
    prep_notebook(tmp_path)
    nb = host_notebook(
        tmp_path, code("%%step prep --notebook prep.ipynb --outputs rows summary\n# runs prep")
    )
    pipeline, diagnostics = compile_notebook(nb, target="cluster")
    assert not [d for d in diagnostics if d.severity == "error"]
    package = tmp_path / "pipeline.yaml"
    package.write_text(
        compile_to_yaml(pipeline, image="python:3.11-kfjupyter", source_dir=tmp_path), encoding="utf-8"
    )
    (tmp_path / "prep.ipynb").unlink()  # its code travels in the compiled step
    components.load_component_from_file(str(package))(n=4)
    values, _ = kfp_results(kfp_local)
    assert values[("prep", "rows")] == [0, 2, 4, 6]
    assert values[("report", "line")] == "12 sub:12"
