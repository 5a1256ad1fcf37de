"""Choosing and opening the run store: the home directory and :func:`open_store`.

The home is ``$KFJUPYTER_HOME`` if set, else ``$XDG_DATA_HOME/kfjupyter``, else
``~/.local/share/kfjupyter``. Front doors call :func:`open_store` once and share the store.
"""

from __future__ import annotations

import os
from pathlib import Path

from kfjupyter.store.base import RunStore
from kfjupyter.store.sqlite import SqliteRunStore


def default_home() -> Path:
    """Return the store home from the environment (see the module docstring)."""
    explicit = os.environ.get("KFJUPYTER_HOME")
    if explicit:
        return Path(explicit).expanduser()
    data = os.environ.get("XDG_DATA_HOME")
    base = Path(data).expanduser() if data else Path.home() / ".local" / "share"
    return base / "kfjupyter"


def open_store(home: Path | None = None) -> RunStore:
    """Open the SQLite run store under ``home`` (default :func:`default_home`), creating it if needed.

    Raises ``InvalidInput`` for an unusable or too-new database file and ``Unavailable`` when it
    stays locked; the message names the file and what to do.
    """
    return SqliteRunStore(default_home() if home is None else home)
