"""The registry of run backends: the one place that tells runs apart by kind and engine.

Every run operation looks its backend up here, from the run's record (:func:`backend_of`) or from
what is to be started (:func:`backend_for_start`); nothing else compares backend names.
"""

from __future__ import annotations

from kfjupyter.errors import Conflict, InvalidInput
from kfjupyter.runs.backend import BackendKey, NotebookStart, RunBackend, ScriptStart
from kfjupyter.runs.pipelines import KfpPipelines, LocalPipelines
from kfjupyter.runs.training import TrainingJobs
from kfjupyter.store import Engine, RunKind, RunRecord
from kfjupyter.training.spec import BackendName as TrainingTarget

#: The backend that starts a script job for each training target (``auto``: the facade picks).
_TRAINING_TARGETS: dict[TrainingTarget, BackendKey] = {
    "local": BackendKey.LOCAL_TRAINING,
    "auto": BackendKey.LOCAL_TRAINING,
    "kubernetes": BackendKey.KUBERNETES_TRAINING,
}
_BACKENDS: dict[BackendKey, RunBackend] = {
    BackendKey.LOCAL_PIPELINE: LocalPipelines(),
    BackendKey.KFP_PIPELINE: KfpPipelines(),
    BackendKey.LOCAL_TRAINING: TrainingJobs(BackendKey.LOCAL_TRAINING, Engine.LOCAL),
    BackendKey.KUBERNETES_TRAINING: TrainingJobs(BackendKey.KUBERNETES_TRAINING, Engine.KUBERNETES),
}
_KEYS: dict[tuple[RunKind, Engine], BackendKey] = {
    ("pipeline", Engine.LOCAL): BackendKey.LOCAL_PIPELINE,
    ("pipeline", Engine.KFP): BackendKey.KFP_PIPELINE,
    ("training", Engine.LOCAL): BackendKey.LOCAL_TRAINING,
    ("training", Engine.KUBERNETES): BackendKey.KUBERNETES_TRAINING,
}


def backend(key: BackendKey) -> RunBackend:
    """The registered backend ``key``."""
    return _BACKENDS[key]


def key_of(run: RunRecord) -> BackendKey:
    """The backend of ``run``; ``Conflict`` for a kind of run no backend here handles."""
    key = _KEYS.get((run.kind, run.backend))
    if key is None:
        raise Conflict(
            f"run {run.id} is a {run.kind} run on {run.backend}, which cannot be handled from here"
        )
    return key


def backend_of(run: RunRecord) -> RunBackend:
    """The backend that handles ``run``."""
    return backend(key_of(run))


def backend_for_start(request: NotebookStart | ScriptStart) -> RunBackend:
    """The backend that starts ``request``: a notebook on its engine, a script on its target.

    A script with target ``auto`` goes to the local training backend, whose facade picks the
    cluster when one is configured (the job records the engine it got).
    """
    if isinstance(request, NotebookStart):
        key = _KEYS.get(("pipeline", request.engine))
        if key is None:
            raise InvalidInput(
                f"backend: a notebook runs here or on Kubeflow Pipelines, not on {request.engine}"
            )
        return backend(key)
    return backend(_TRAINING_TARGETS[request.target])
