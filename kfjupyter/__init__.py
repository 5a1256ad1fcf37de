"""kfjupyter: Kubeflow for people who live in notebooks.

Public entry points live in the subpackages; this module only carries the version and the hooks
Jupyter uses to find the prebuilt lab extension.
"""

from __future__ import annotations

from kfjupyter._version import __version__

__all__ = ["__version__", "log_metric", "resume_run", "run_notebook", "train"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "kfjupyter"}]


def __getattr__(name: str) -> object:
    # Heavy parts load on first use so `import kfjupyter` stays instant.
    if name in ("run_notebook", "resume_run"):
        from kfjupyter import api

        return getattr(api, name)
    if name == "log_metric":
        from kfjupyter.context import log_metric

        return log_metric
    if name == "train":
        from kfjupyter.training.facade import train

        return train
    raise AttributeError(f"module 'kfjupyter' has no attribute {name!r}")


def load_ipython_extension(ipython: object) -> None:
    """Let ``%load_ext kfjupyter`` work as well as ``%load_ext kfjupyter.ipython``."""
    from kfjupyter.ipython import load_ipython_extension as load

    load(ipython)
