"""Training jobs from a notebook: ``kfjupyter.train(fn)`` on this machine now, on a cluster later.

Public API (loaded on first use, so worker processes importing this package stay fast):
:func:`train`, :func:`get_job`, :func:`list_jobs`, the handle :class:`TrainingJob`, the spec
:class:`TrainingSpec` and the job model :class:`TrainJob` / :class:`TrainStep` /
:class:`MetricPoint`. Modules: ``spec`` (typed spec), ``job`` (job model), ``handle``,
``facade``, ``backends/`` (``local``, ``kubernetes``), ``supervisor`` and ``worker`` (processes
of a local job), ``launch`` (plan and torchrun variables), ``metrics`` (stdout metric lines),
``logs`` (reading per-rank logs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kfjupyter.training.facade import get_job, list_jobs, train
    from kfjupyter.training.handle import TrainingJob
    from kfjupyter.training.job import MetricPoint, TrainingFailed, TrainJob, TrainStep
    from kfjupyter.training.spec import TrainingSpec

__all__ = [
    "MetricPoint",
    "TrainJob",
    "TrainStep",
    "TrainingFailed",
    "TrainingJob",
    "TrainingSpec",
    "get_job",
    "list_jobs",
    "train",
]

_HOMES = {
    "train": "facade",
    "get_job": "facade",
    "list_jobs": "facade",
    "TrainingJob": "handle",
    "TrainJob": "job",
    "TrainStep": "job",
    "MetricPoint": "job",
    "TrainingFailed": "job",
    "TrainingSpec": "spec",
}


def __getattr__(name: str) -> object:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module 'kfjupyter.training' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"kfjupyter.training.{module}"), name)
