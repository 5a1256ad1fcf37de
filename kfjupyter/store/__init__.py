"""The run store: every run's steps, events, metrics, artifacts, cache entries and log files.

Open it with :func:`open_store`; program against :class:`RunStore`. :class:`SqliteRunStore` is the
real, multi-process implementation; :class:`MemoryRunStore` is for tests. Records are in
:mod:`kfjupyter.store.models`.
"""

from __future__ import annotations

from kfjupyter.store.base import AliveCheck, RunStore
from kfjupyter.store.details import Engine, KfpDetails, KubernetesDetails, LocalDetails, RunDetails
from kfjupyter.store.factory import default_home, open_store
from kfjupyter.store.files import LogChunk
from kfjupyter.store.liveness import current_owner, pid_alive
from kfjupyter.store.memory import MemoryRunStore
from kfjupyter.store.models import (
    ArtifactRecord,
    CachedOutput,
    CachedRead,
    CacheEntry,
    EventRecord,
    MetricRecord,
    RunKind,
    RunRecord,
    RunStatus,
    RunUpdate,
    StepRecord,
    StepStatus,
    new_run_id,
)
from kfjupyter.store.sqlite import SqliteRunStore

__all__ = [
    "AliveCheck",
    "ArtifactRecord",
    "CacheEntry",
    "CachedOutput",
    "CachedRead",
    "Engine",
    "EventRecord",
    "KfpDetails",
    "KubernetesDetails",
    "LocalDetails",
    "LogChunk",
    "MemoryRunStore",
    "MetricRecord",
    "RunDetails",
    "RunKind",
    "RunRecord",
    "RunStatus",
    "RunStore",
    "RunUpdate",
    "SqliteRunStore",
    "StepRecord",
    "StepStatus",
    "current_owner",
    "default_home",
    "new_run_id",
    "open_store",
    "pid_alive",
]
