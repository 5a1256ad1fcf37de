"""The image build's inputs: requirements, tags and the hashes that decide what to rebuild."""

from __future__ import annotations

from pathlib import Path

import tomllib

from kfjupyter._version import __version__
from kfjupyter.cluster import images

REPO = Path(__file__).resolve().parents[3]


def test_requirements_are_kfjupyters_dependencies_plus_the_images_extras() -> None:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    notebook = images.requirements(REPO, "notebook")
    hub = images.requirements(REPO, "hub")
    assert notebook[: len(deps)] == deps and hub[: len(deps)] == deps
    assert {"torch==2.13.0", "ipykernel>=6.29", "jupyterhub>=5,<6"} <= set(notebook)
    assert "torch==2.13.0" not in hub and "jupyterhub-kubespawner>=7" in hub
    assert not any(line.startswith("#") or not line for line in notebook + hub)


def test_tags_carry_latest_and_the_version() -> None:
    assert images.notebook_tags() == [f"localhost/kfjupyter-notebook:{v}" for v in ("latest", __version__)]
    assert images.hub_tags() == [f"localhost/kfjupyter-hub:{v}" for v in ("latest", __version__)]


def test_the_inputs_hash_changes_with_code_but_not_with_caches(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    first = images._hash_files(tmp_path, ["pkg"])
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert images._hash_files(tmp_path, ["pkg"]) == first
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n")
    assert images._hash_files(tmp_path, ["pkg"]) != first
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "b.py").write_text("")
    assert images._hash_files(tmp_path, ["pkg"]) != first  # a new file counts, even an empty one


def test_the_containerfiles_install_offline_and_run_as_jovyan() -> None:
    for name in ("notebook", "hub"):
        text = (REPO / "images" / name / "Containerfile").read_text()
        assert "ARG BASE=python:3.11-slim-bookworm" in text
        installs = [line for line in text.splitlines() if "pip install" in line]
        assert installs and all("--no-index" in line for line in installs), name
        assert "USER 1000:100" in text
    notebook = (REPO / "images" / "notebook" / "Containerfile").read_text()
    assert "ENV HOME=/home/jovyan" in notebook
