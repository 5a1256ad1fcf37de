"""The installed command line and distribution metadata."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

from kfjupyter import __version__


def test_version_flag() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kfjupyter.cli.main", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"kfjupyter {__version__}"


def test_spawner_entry_point_resolves() -> None:
    (ep,) = [e for e in entry_points(group="jupyterhub.spawners") if e.name == "kfjupyter"]
    cls = ep.load()
    assert cls.__name__ == "KfJupyterSpawner"
