"""A compiled step's KFP cache key covers the notebook's own modules it imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from kfp import components

from kfjupyter.compiler.local_modules import local_modules
from kfjupyter.kfp.payload import KfpStep
from tests.support.notebooks import cell, write_notebook

IMAGE = "registry.example/kfjupyter:1"


def compiled(nb: Path, out: Path) -> dict[str, KfpStep]:
    """Compile with the real command line; read each step's payload back through the kfp SDK."""
    done = subprocess.run(
        [sys.executable, "-m", "kfjupyter.cli.main", "compile", str(nb), "-o", str(out), "--image", IMAGE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    pipeline = components.load_component_from_file(str(out))  # the SDK reads it back
    spec: dict[str, Any] = yaml.safe_load(out.read_text())
    assert pipeline.name == spec["pipelineInfo"]["name"]
    return {
        name.removeprefix("comp-step-"): KfpStep.model_validate_json(
            comp["inputDefinitions"]["parameters"]["step_job"]["defaultValue"]
        )
        for name, comp in spec["components"].items()
    }


def project(tmp_path: Path) -> Path:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "extra.py").write_text("K = 1\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from .core import base\n")
    (tmp_path / "pkg" / "core.py").write_text("def base():\n    return 5\n")
    (tmp_path / "helper.py").write_text("import pkg\n\ndef f(x):\n    return x + pkg.base()\n")
    return write_notebook(
        tmp_path / "nb.ipynb",
        [
            cell("import sys\nsys.path.append('lib')\nimport numpy as np", "imports"),
            cell("import helper\na = helper.f(1)", "step:uses_helper"),
            cell("from extra import K\nb = K", "step:uses_extra"),
            cell("c = 3", "step:plain"),
        ],
    )


def test_the_finder_follows_imports_packages_relative_imports_and_added_paths(tmp_path: Path) -> None:
    project(tmp_path)
    found = local_modules(
        ["import sys\nsys.path.append('lib')\nimport helper, numpy", "from extra import K"], tmp_path
    )
    assert {n: p.relative_to(tmp_path).as_posix() for n, p in found.items()} == {
        "extra": "lib/extra.py",
        "helper": "helper.py",
        "pkg": "pkg/__init__.py",
        "pkg.core": "pkg/core.py",
    }


def test_editing_a_module_changes_only_the_importing_steps_spec(tmp_path: Path) -> None:
    nb = project(tmp_path)
    before = compiled(nb, tmp_path / "before.yaml")
    assert set(before["uses-helper"].modules) == {"helper", "pkg", "pkg.core"}
    assert set(before["uses-extra"].modules) == {"extra"}
    assert before["plain"].modules == {}
    assert compiled(nb, tmp_path / "again.yaml") == before  # deterministic

    (tmp_path / "pkg" / "core.py").write_text("def base():\n    return 50\n")  # two imports away
    after = compiled(nb, tmp_path / "after.yaml")
    assert after["uses-helper"] != before["uses-helper"]
    assert after["uses-helper"].modules["pkg.core"] != before["uses-helper"].modules["pkg.core"]
    assert after["uses-extra"] == before["uses-extra"] and after["plain"] == before["plain"]
    # KFP's cache key hashes the task's input parameter values, and this payload is one of them.
    text_before, text_after = (tmp_path / "before.yaml").read_text(), (tmp_path / "after.yaml").read_text()
    assert text_before != text_after


def test_a_step_running_another_version_of_a_module_than_compiled_says_so() -> None:
    from kfjupyter.kfp.entry import module_mismatches
    from kfjupyter.runner.job import TrackedRead

    ran = [
        TrackedRead(kind="module", path="/app/helper.py", name="helper", size=1, mtime_ns=1, sha256="b" * 64),
        TrackedRead(kind="module", path="/app/same.py", name="same", size=1, mtime_ns=1, sha256="c" * 64),
        TrackedRead(kind="file", path="/app/data.txt", size=1, mtime_ns=1, sha256="d" * 64),
    ]
    compiled = {"helper": "a" * 64, "same": "c" * 64, "not_imported_here": "e" * 64}
    (warning,) = module_mismatches(compiled, ran)
    assert warning.startswith("module 'helper' here (/app/helper.py) differs")
    assert module_mismatches(compiled, None) == []
