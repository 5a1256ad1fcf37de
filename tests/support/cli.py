"""The ``kfjupyter`` command line as users and other tools call it: a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def kf(home: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``kfjupyter ARGS`` with ``KFJUPYTER_HOME=home``; its exit code and text output."""
    env = {**os.environ, "KFJUPYTER_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "kfjupyter.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
