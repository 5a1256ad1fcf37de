"""A real IPython shell with the kfjupyter extension loaded, for the magics' tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


@contextmanager
def kf_shell() -> Iterator[Any]:
    """An IPython shell (no history file) after ``%load_ext kfjupyter``; cleaned up on leaving."""
    config = Config()
    config.HistoryManager.enabled = False
    sh: Any = InteractiveShell(config=config)
    sh.run_line_magic("load_ext", "kfjupyter")
    try:
        yield sh
    finally:
        sh.cleanup()


@pytest.fixture
def shell() -> Iterator[Any]:
    """A fresh :func:`kf_shell` for the test."""
    with kf_shell() as sh:
        yield sh
