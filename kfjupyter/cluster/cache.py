"""Where the local cluster's builds and daemons keep their files: one folder each under the user's cache."""

from __future__ import annotations

import os
from pathlib import Path


def cache_folder(variable: str, name: str) -> Path:
    """``$variable`` when set, else ``kfjupyter/NAME`` under ``$XDG_CACHE_HOME`` (or ``~/.cache``)."""
    explicit = os.environ.get(variable)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kfjupyter" / name
