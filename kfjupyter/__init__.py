"""kfjupyter: Kubeflow for people who live in notebooks.

Public entry points live in the subpackages; this module only carries the version and the hooks
Jupyter uses to find the prebuilt lab extension.
"""

from __future__ import annotations

from kfjupyter._version import __version__

__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "kfjupyter"}]
