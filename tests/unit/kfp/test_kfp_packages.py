"""``compile --packages``: a step's third-party imports pinned at this environment's versions."""

from __future__ import annotations

import importlib.metadata as metadata
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfjupyter.kfp.payload import KfpStep
from kfjupyter.kfp.requirements import Environment, mismatches, step_requirements
from tests.support.cli import kfjupyter_cli
from tests.support.notebooks import cell, write_notebook

IMAGE = "registry.example/kfjupyter:1"


@pytest.fixture(scope="module")
def env() -> Environment:
    return Environment()


def test_imports_map_to_their_distributions_at_the_installed_versions(
    env: Environment, tmp_path: Path
) -> None:
    (tmp_path / "helper.py").write_text("import json\n")
    code = (
        "import os, json\nimport yaml\nimport numpy as np\nfrom google.protobuf import json_format\n"
        "from kfp import dsl\nimport kfjupyter\nimport helper\nimport not_installed_anywhere.sub\n"
    )
    needs = step_requirements([code], env, source_dir=tmp_path)
    assert needs.pins == [
        f"kfp=={metadata.version('kfp')}",  # not kfp-pipeline-spec, which shares the top-level name
        f"numpy=={metadata.version('numpy')}",
        f"protobuf=={metadata.version('protobuf')}",  # google.* is shared by several distributions
        f"PyYAML=={metadata.version('PyYAML')}",  # the module name is not the distribution's
    ]
    assert needs.unresolved == ["not_installed_anywhere"]


def test_a_package_the_step_already_installs_is_not_pinned_again(env: Environment) -> None:
    needs = step_requirements(["import yaml\nimport numpy"], env, declared=["pyyaml>=5", "numpy_whatever"])
    assert needs.pins == [f"numpy=={metadata.version('numpy')}"]


def test_an_unresolvable_shared_namespace_is_reported_not_guessed(env: Environment) -> None:
    needs = step_requirements(["import google"], env)
    assert needs.pins == [] and needs.unresolved == ["google"]


def test_mismatches_name_every_missing_or_different_distribution() -> None:
    here = metadata.version("PyYAML")
    assert mismatches([f"PyYAML=={here}"]) == []
    assert mismatches(["PyYAML==0.0.1", "surely-not-installed==1.0"]) == [
        f"PyYAML is {here} here (the notebook has 0.0.1)",
        "surely-not-installed is not installed (the notebook has 1.0)",
    ]


def compile_json(nb: Path, out: Path, *extra: str) -> tuple[dict[str, Any], dict[str, KfpStep]]:
    done = kfjupyter_cli("compile", str(nb), "-o", str(out), "--image", IMAGE, "--json", *extra, timeout=120)
    assert done.returncode == 0, done.stderr
    spec = yaml.safe_load(out.read_text())
    steps = {
        name.removeprefix("comp-step-"): KfpStep.model_validate_json(
            comp["inputDefinitions"]["parameters"]["step_job"]["defaultValue"]
        )
        for name, comp in spec["components"].items()
    }
    return json.loads(done.stdout), steps


def test_the_compile_command_installs_or_checks_the_pins_per_step(tmp_path: Path) -> None:
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell("import numpy as np", "imports"),
            cell("!pip install pandas==2.2.2\nimport yaml\nx = yaml.safe_dump({})", "step:a"),
            cell("import nowhere_to_be_found\ny = 1", "step:b"),
        ],
    )
    numpy, pyyaml = f"numpy=={metadata.version('numpy')}", f"PyYAML=={metadata.version('PyYAML')}"
    body, steps = compile_json(nb, tmp_path / "auto.yaml", "--packages", "auto")
    assert steps["a"].packages_to_install == ["pandas==2.2.2", numpy, pyyaml]
    assert steps["b"].packages_to_install == [numpy] and steps["b"].expected_packages == []
    assert body["packages"] == {"a": [numpy, pyyaml], "b": [numpy]}
    assert body["unpinned"] == {"b": ["nowhere_to_be_found"]}

    _, checked = compile_json(nb, tmp_path / "check.yaml", "--packages", "check")
    assert checked["a"].packages_to_install == ["pandas==2.2.2"]
    assert checked["a"].expected_packages == [numpy, pyyaml]

    _, plain = compile_json(nb, tmp_path / "none.yaml")
    assert plain["a"].packages_to_install == ["pandas==2.2.2"] and plain["a"].expected_packages == []
    assert "expected_packages" not in (tmp_path / "none.yaml").read_text()
