"""The ``kfjupyter`` command line as users and other tools call it: a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def kfjupyter_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``kfjupyter ARGS`` (in ``env``, default this process's environment); its exit code and text output."""
    return subprocess.run(
        [sys.executable, "-m", "kfjupyter.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def kf(home: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``kfjupyter ARGS`` with ``KFJUPYTER_HOME=home``."""
    return kfjupyter_cli(*args, env={**os.environ, "KFJUPYTER_HOME": str(home)}, timeout=timeout)
