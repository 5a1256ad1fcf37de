"""The training facade: :func:`train`, :func:`get_job` and :func:`list_jobs`.

``train`` validates everything into a :class:`~kfjupyter.training.spec.TrainingSpec` before
anything starts, picks the backend, and returns a :class:`~kfjupyter.training.handle.TrainingJob`.
A function travels as a cloudpickle payload (never as source text through a shell); a script path
runs as ``python script args...``.
"""

from __future__ import annotations

import contextlib
import linecache
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kfjupyter.errors import InvalidInput, KfJupyterError, NotFound
from kfjupyter.k8s.access import find_access
from kfjupyter.store import RunStore, default_home, open_store
from kfjupyter.training.backends.base import TrainingBackend
from kfjupyter.training.backends.kubernetes import kubernetes_backend
from kfjupyter.training.backends.local import LocalBackend
from kfjupyter.training.handle import TrainingJob
from kfjupyter.training.spec import (
    BackendName,
    FunctionEntrypoint,
    ScriptEntrypoint,
    TrainingSpec,
    default_name,
)

_stores: dict[Path, RunStore] = {}


def _store(store: RunStore | None) -> RunStore:
    if store is not None:
        return store
    home = default_home()
    if home not in _stores:
        _stores[home] = open_store(home)
    return _stores[home]


_clusters: dict[tuple[str, str, Path], TrainingBackend | KfJupyterError] = {}


def _cluster_backend(store: RunStore, retry: bool) -> TrainingBackend | KfJupyterError:
    """The Kubernetes backend, or the error saying why there is none (no cluster access, no CRDs...).

    The answer is kept per cluster access, namespace and store for the life of the process, so ``auto``
    asks the cluster once (CRDs installed later are seen after a kernel restart); ``retry`` asks
    again after a failure (an explicit ``backend="kubernetes"``).
    """
    access = find_access(os.environ)
    key = (access.key if access else "", os.environ.get("KFJUPYTER_NAMESPACE", ""), store.home)
    if key not in _clusters or (retry and isinstance(_clusters[key], KfJupyterError)):
        try:
            _clusters[key] = kubernetes_backend(os.environ, store)
        except KfJupyterError as error:  # no cluster access, no CRDs, or the API server is unreachable
            _clusters[key] = error
    return _clusters[key]


#: Whether each backend name asks for the cluster: always, never, or when one is there (None).
_CLUSTER: dict[BackendName, bool | None] = {"kubernetes": True, "local": False, "auto": None}


def select_backend(name: BackendName, store: RunStore | None = None) -> TrainingBackend:
    """Return the backend for ``name``.

    ``kubernetes`` raises ``BackendNotAvailable`` saying what is missing; ``auto`` is Kubernetes
    when cluster access is configured (in-cluster service account, ``$KUBECONFIG`` or
    ``~/.kube/config``) and the cluster serves TrainJob or PyTorchJob, else local.
    """
    chosen = _store(store)
    wanted = _CLUSTER[name]
    if wanted is False or (wanted is None and find_access(os.environ) is None):
        return LocalBackend(chosen)
    cluster = _cluster_backend(chosen, retry=wanted is True)
    if isinstance(cluster, TrainingBackend):
        return cluster
    if wanted is True:
        raise cluster
    return LocalBackend(chosen)


def _validation_message(exc: ValidationError) -> str:
    parts = [f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}" for e in exc.errors()]
    return "Invalid training job: " + "; ".join(parts)


def _source(function: Callable[..., Any]) -> tuple[str, list[str]] | None:
    """File name and lines of a function defined in a notebook cell (cloudpickle drops them)."""
    code = getattr(function, "__code__", None)
    if code is None or Path(code.co_filename).is_file():
        return None
    lines = linecache.getlines(code.co_filename)
    return (code.co_filename, lines) if lines else None


def _entrypoint(
    target: Callable[..., Any] | str | os.PathLike[str], args: Sequence[Any], kwargs: Mapping[str, Any] | None
) -> tuple[FunctionEntrypoint | ScriptEntrypoint, bytes | None, str]:
    if callable(target):
        import cloudpickle

        label = str(getattr(target, "__qualname__", None) or getattr(target, "__name__", "train"))
        try:
            payload = cloudpickle.dumps((target, tuple(args), dict(kwargs or {}), _source(target)))
        except Exception as exc:
            raise InvalidInput(
                f"The training function or its arguments cannot be pickled: {exc}", detail=repr(exc)
            ) from exc
        return FunctionEntrypoint(function=label), payload, label.rsplit(".", 1)[-1]
    if isinstance(target, (str, os.PathLike)):
        path = Path(target).expanduser().absolute()
        if path.suffix.lower() != ".py":
            raise InvalidInput(f"Training script {str(target)!r} is not a Python script (.py).")
        try:
            is_file = path.is_file()
        except OSError as exc:  # a name too long for the file system
            raise InvalidInput(
                f"Training script path {str(target)!r} cannot be used: {exc.strerror}."
            ) from None
        if not is_file:
            raise InvalidInput(f"Training script {str(target)!r} does not exist (looked at {path}).")
        if kwargs:
            raise InvalidInput("kwargs apply to functions; pass a script's options in args.")
        bad = [a for a in args if not isinstance(a, (str, int, float, os.PathLike)) or isinstance(a, bool)]
        if bad:
            raise InvalidInput(f"Script arguments must be strings or numbers, got {bad!r}.")
        text_args = [os.fspath(a) if isinstance(a, os.PathLike) else str(a) for a in args]
        return ScriptEntrypoint(path=str(path), args=text_args), None, path.stem
    raise InvalidInput(f"train() needs a function or a script path, got {type(target).__name__}.")


def train(
    fn_or_script: Callable[..., Any] | str | os.PathLike[str],
    *,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    num_nodes: int = 1,
    procs_per_node: int | None = None,
    gpus_per_node: int = 0,
    cpu: str | float | None = None,
    memory: str | None = None,
    image: str | None = None,
    env: Mapping[str, str] | None = None,
    backend: BackendName = "auto",
    runtime: str | None = None,
    name: str | None = None,
    store: RunStore | None = None,
) -> TrainingJob:
    """Start a (distributed) training job and return its handle at once.

    ``fn_or_script`` is a function, called as ``fn(*args, **kwargs)`` in every worker process, or
    the path of a Python script run as ``python script *args``. Workers get torchrun's variables
    (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``...), so ``torch.distributed`` works unchanged.
    ``procs_per_node`` defaults to the visible GPUs, else 1. ``backend="auto"`` runs locally
    unless cluster access is found (in-cluster service account, ``KUBECONFIG``, ``~/.kube/config``)
    and the cluster serves TrainJob/PyTorchJob (then ``image`` is required); ``"kubernetes"``
    insists on the cluster and says what is missing.
    Raises ``InvalidInput`` for a bad spec before anything starts.
    """
    entrypoint, payload, label = _entrypoint(fn_or_script, args, kwargs)
    try:
        spec = TrainingSpec(
            name=name if name is not None else default_name(label),
            entrypoint=entrypoint,
            num_nodes=num_nodes,
            procs_per_node=procs_per_node,
            gpus_per_node=gpus_per_node,
            cpu=cpu,  # a number of cores becomes a quantity
            memory=memory,
            image=image,
            env=dict(env or {}),
            backend=backend,
            runtime=runtime,
        )
    except ValidationError as exc:
        raise InvalidInput(_validation_message(exc), detail=str(exc)) from None
    chosen = select_backend(spec.backend, store)
    files = {} if isinstance(chosen, LocalBackend) else _shipped(fn_or_script)
    return TrainingJob(chosen, chosen.submit(spec, payload, files))


def _shipped(target: Callable[..., Any] | str | os.PathLike[str]) -> dict[str, bytes]:
    """The local modules and files a job run elsewhere takes along (relative path -> content)."""
    from kfjupyter.training.shipping import function_files, script_files

    if callable(target):
        source = _source(target)
        found = function_files(target, "".join(source[1]) if source else None, Path.cwd())
    else:
        path = Path(target).expanduser().absolute()
        found = script_files(path, path.read_text(encoding="utf-8"))
    return {f.path: f.source.read_bytes() for f in found}


def get_job(name: str, *, store: RunStore | None = None) -> TrainingJob:
    """Return the handle of a job by id, or the newest job with this name; ``NotFound`` if none."""
    backend = select_backend("auto", store)
    if not isinstance(backend, LocalBackend):
        with contextlib.suppress(NotFound):
            return TrainingJob(backend, backend.find_job(name))
        backend = LocalBackend(_store(store))
    return TrainingJob(backend, backend.find_job(name))


def list_jobs(*, limit: int = 50, store: RunStore | None = None) -> list[TrainingJob]:
    """Return handles of recent training jobs, newest first (local and, if configured, cluster jobs)."""
    local = LocalBackend(_store(store))
    backends: list[TrainingBackend] = [local]
    chosen = select_backend("auto", store)
    if not isinstance(chosen, LocalBackend):
        backends.append(chosen)
    jobs = [(job, b) for b in backends for job in b.list_jobs(limit)]
    jobs.sort(key=lambda pair: pair[0].created_at, reverse=True)
    return [TrainingJob(b, job) for job, b in jobs[:limit]]
