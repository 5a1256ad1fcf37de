"""The notebook's modules and the files its steps name travel in the compiled steps, size-limited."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfjupyter.compiler.lint import compile_notebook, lint_notebook
from kfjupyter.compiler.shipping import parse_size, shipped_files
from kfjupyter.errors import InvalidInput
from kfjupyter.kfp.packing import unpack
from kfjupyter.kfp.payload import KfpStep, PackedFile
from kfjupyter.kfp.pipeline import compile_to_yaml
from tests.support.cli import kfjupyter_cli
from tests.support.notebooks import cell, write_notebook

IMAGE = "registry.example/kfjupyter:1"


def project(tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    (folder / "lib").mkdir(parents=True)
    (folder / "lib" / "extra.py").write_text("K = 1\n")
    (folder / "pkg").mkdir()
    (folder / "pkg" / "__init__.py").write_text("from .core import base\n")
    (folder / "pkg" / "core.py").write_text("def base():\n    return 5\n")
    (folder / "helper.py").write_text("import pkg\n\ndef f(x):\n    return x + pkg.base()\n")
    (folder / "config.yaml").write_text("rate: 0.5\n")
    (folder / "data").mkdir()
    (folder / "data" / "x.csv").write_text("a,b\n1,2\n")
    (tmp_path / "outside.txt").write_text("not shipped\n")
    return write_notebook(
        folder / "nb.ipynb",
        [
            cell("import sys\nsys.path.append('lib')\nimport os", "imports"),
            cell("import helper\na = helper.f(1)\ncfg = open('config.yaml').read()", "step:uses_helper"),
            cell(
                "from extra import K\nDATA = 'data/x.csv'\nrows = open(DATA).read()\n"
                "skip = [open('../outside.txt'), open('/etc/hostname'), 'data', 'missing.csv', 'a.b']",
                "step:uses_data",
            ),
            cell("c = 3", "step:plain"),
        ],
    )


def test_modules_land_at_their_import_path_and_files_at_their_path_next_to_the_notebook(
    tmp_path: Path,
) -> None:
    nb = project(tmp_path)
    sources = [
        "import sys\nsys.path.append('lib')",
        "import helper\nfrom extra import K\nopen('config.yaml')\npd.read_csv('data/x.csv')",
        "open('../outside.txt'); open('/etc/hostname'); x = 'data'; y = 'missing.csv'",
    ]
    found = {f.path: (f.kind, f.name, f.source) for f in shipped_files(sources, nb.parent)}
    assert found == {
        "config.yaml": ("file", "config.yaml", nb.parent / "config.yaml"),
        "data/x.csv": ("file", "data/x.csv", nb.parent / "data" / "x.csv"),
        "extra.py": ("module", "extra", nb.parent / "lib" / "extra.py"),
        "helper.py": ("module", "helper", nb.parent / "helper.py"),
        "pkg/__init__.py": ("module", "pkg", nb.parent / "pkg" / "__init__.py"),
        "pkg/core.py": ("module", "pkg.core", nb.parent / "pkg" / "core.py"),
    }


def payloads(text: str) -> dict[str, KfpStep]:
    spec: dict[str, Any] = yaml.safe_load(text)
    return {
        name.removeprefix("comp-step-"): KfpStep.model_validate_json(
            comp["inputDefinitions"]["parameters"]["step_job"]["defaultValue"]
        )
        for name, comp in spec["components"].items()
    }


def test_each_step_carries_only_what_it_uses_compressed_and_deterministic(tmp_path: Path) -> None:
    nb = project(tmp_path)
    pipeline, _ = compile_notebook(nb, target="cluster")
    text = compile_to_yaml(pipeline, image=IMAGE, source_dir=nb.parent)
    assert text == compile_to_yaml(pipeline, image=IMAGE, source_dir=nb.parent)
    steps = payloads(text)
    assert [f.path for f in steps["uses-helper"].files] == [
        "config.yaml",
        "helper.py",
        "pkg/__init__.py",
        "pkg/core.py",
    ]
    assert [f.path for f in steps["uses-data"].files] == ["data/x.csv", "extra.py"]
    assert steps["plain"].files == []
    (config,) = [f for f in steps["uses-helper"].files if f.path == "config.yaml"]
    assert zlib.decompress(base64.b64decode(config.data)) == b"rate: 0.5\n"
    unpacked = unpack(steps["uses-data"].files, tmp_path / "out")
    assert [p.relative_to(tmp_path / "out").as_posix() for p in unpacked] == ["data/x.csv", "extra.py"]
    assert (tmp_path / "out" / "extra.py").read_text() == "K = 1\n"


def test_lint_names_each_shipped_file_and_its_step_for_a_cluster_only(tmp_path: Path) -> None:
    nb = project(tmp_path)
    shipped = {d.step: d for d in lint_notebook(nb, target="cluster") if d.code == "KF501"}
    assert set(shipped) == {"uses_helper", "uses_data"}
    assert shipped["uses_data"].severity == "info"
    assert "data/x.csv (file, 8 B)" in shipped["uses_data"].message
    assert "extra.py (module extra, 6 B)" in shipped["uses_data"].message
    assert "outside" not in shipped["uses_data"].message
    assert "helper.py (module helper" in shipped["uses_helper"].message
    assert "config.yaml (file" in shipped["uses_helper"].message
    assert not [d for d in lint_notebook(nb, target="local") if d.code in ("KF501", "KF502")]


def test_past_the_limit_lint_and_compile_name_the_largest_files_and_the_option(tmp_path: Path) -> None:
    nb = project(tmp_path)
    (nb.parent / "data" / "x.csv").write_bytes(b"0" * 6_000_000)
    (kf015,) = [d for d in lint_notebook(nb, target="cluster") if d.code == "KF502"]
    assert kf015.severity == "error"
    assert "6.0 MB, over the limit of 5.0 MB" in kf015.message
    assert "the largest: data/x.csv (6.0 MB, step uses_data)" in kf015.message
    assert "--ship-limit" in kf015.message and "KFJUPYTER_SHIP_LIMIT" in kf015.message

    out = tmp_path / "p.yaml"
    command = ("compile", str(nb), "-o", str(out), "--image", IMAGE)
    refused = kfjupyter_cli(*command, timeout=120)
    assert refused.returncode != 0 and not out.exists()
    assert "data/x.csv (6.0 MB, step uses_data)" in refused.stderr
    assert "Traceback" not in refused.stderr
    allowed = kfjupyter_cli(*command, "--ship-limit", "10MB", timeout=120)
    assert allowed.returncode == 0, allowed.stderr
    bad = kfjupyter_cli(*command, "--ship-limit", "lots", timeout=120)
    assert bad.returncode != 0 and "--ship-limit: 'lots' is not a size" in bad.stderr


def test_sizes_parse_in_decimal_and_binary_units() -> None:
    assert parse_size("5MB") == 5_000_000
    assert parse_size("500kB") == 500_000
    assert parse_size("2MiB") == 2 * 1024 * 1024
    assert parse_size("1000") == 1000
    with pytest.raises(InvalidInput, match="not a size"):
        parse_size("5 parsecs")


@pytest.mark.parametrize("path", ["../escape.py", "/etc/passwd", "a/../../b", "", "./x", "a\\b", "a//b"])
def test_unpacking_refuses_paths_that_leave_the_working_folder(tmp_path: Path, path: str) -> None:
    data = base64.b64encode(zlib.compress(b"x")).decode()
    with pytest.raises(InvalidInput, match="not a plain relative path"):
        unpack([PackedFile(path=path, sha256="0" * 64, data=data)], tmp_path / "w")
    assert not (tmp_path / "escape.py").exists()


def test_unpacking_refuses_content_that_does_not_match_its_hash(tmp_path: Path) -> None:
    data = base64.b64encode(zlib.compress(b"x")).decode()
    with pytest.raises(InvalidInput, match="does not match its SHA-256"):
        unpack([PackedFile(path="a.py", sha256="0" * 64, data=data)], tmp_path)
