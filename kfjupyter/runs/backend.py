"""The interface every run backend implements, and what the front doors hand it.

A :class:`RunBackend` does what a user can do to one kind of run on one engine: start it, read its
status and logs, cancel it, start it again, delete it, bring it up to date with its engine. The
REST handlers, the command line and the ``%kf`` magics call these through
:mod:`kfjupyter.runs.operations`; none of them knows which backend a run has.

What differs between the front doors travels in a :class:`RunContext`: the run store, how to reach
Kubeflow Pipelines (the server's settings, or the command line's options and environment), and a
check the server applies to every recorded notebook or script before running it again (it must lie
inside the server's root). Starting may take a while for a local pipeline (a detached process that
creates its run): :meth:`RunBackend.start` returns a :class:`Starting` the caller waits on, in a
thread or in an event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from kfjupyter.errors import Conflict
from kfjupyter.kfp.connection import KfpConnection
from kfjupyter.store import Engine, LogChunk, RunRecord, RunStore
from kfjupyter.training.spec import BackendName as TrainingTarget

if TYPE_CHECKING:
    from kfjupyter.kfp.requirements import PackagesMode
    from kfjupyter.kfp.tracking import RunPods


class BackendKey(str, Enum):
    """The registered run backends: what kind of run, on which engine."""

    LOCAL_PIPELINE = "local-pipeline"
    KFP_PIPELINE = "kfp-pipeline"
    LOCAL_TRAINING = "local-training"
    KUBERNETES_TRAINING = "kubernetes-training"

    def __str__(self) -> str:
        return self.value


#: What a recorded source file is, for :attr:`RunContext.check_source`.
SourceKind = Literal["notebook", "script"]


@dataclass(frozen=True)
class RunContext:
    """What a front door gives the run operations besides the run itself."""

    store: RunStore
    #: The Kubeflow Pipelines connection to use (raises ``Conflict`` when there is none); None: no KFP.
    kfp: Callable[[], KfpConnection] | None = None
    #: Credentials for refreshing KFP runs from their recorded servers; None: the environment's.
    kfp_token: str | None = None
    kfp_cookie: str | None = None
    #: Container image of submitted steps when the request names none (``c.KfJupyterApp.kfp_image``).
    kfp_image: str | None = None
    #: How this front door takes a step image, said when a step has none (e.g. ``pass --image``);
    #: None: the Lab's Compile dialog and the server's settings.
    kfp_image_how: str | None = None
    #: Where a KFP sync lists its run's pods and reads their logs; None: pods are not read.
    kfp_pods: RunPods | None = None
    #: Called with a run and its recorded notebook or script before it runs again; raises to refuse it.
    check_source: Callable[[RunRecord, Path, SourceKind], None] | None = None

    def connection(self) -> KfpConnection:
        """The KFP connection; ``Conflict`` when this front door has none configured."""
        if self.kfp is None:
            raise Conflict("no Kubeflow Pipelines host is configured here", reason="no_kfp_host")
        return self.kfp()


@dataclass(frozen=True)
class Part:
    """Which steps a local run runs: ``--from STEP``, ``--only STEP``, and ``--reuse RUN`` for the ones above."""

    from_step: str | None = None
    only: str | None = None
    reuse: str | None = None


@dataclass(frozen=True)
class NotebookStart:
    """Start a notebook as a pipeline run."""

    notebook: Path
    parameters: Mapping[str, str] = field(default_factory=dict)
    no_cache: bool = False
    part: Part = field(default_factory=Part)
    engine: Engine = Engine.LOCAL
    experiment: str | None = None
    image: str | None = None
    #: On Kubeflow Pipelines: the most bytes of files a step takes along (None: the default limit).
    ship_limit: int | None = None
    #: On Kubeflow Pipelines: which of the notebook's imported packages the steps pin or check.
    packages: PackagesMode = "none"


@dataclass(frozen=True)
class ScriptStart:
    """Start ``python script *args`` as a training job."""

    script: Path
    args: Sequence[str] = ()
    num_nodes: int = 1
    procs_per_node: int | None = None
    gpus_per_node: int = 0
    cpu: str | None = None
    memory: str | None = None
    image: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    target: TrainingTarget = "auto"
    runtime: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Rerun:
    """Start a finished run again: its recorded parameters, overridden by ``parameters``.

    With ``from_step`` (that step and the ones below it) or ``only`` (that step alone), a local
    pipeline run runs part of the pipeline again, the steps above taken from the run's outputs.
    """

    parameters: Mapping[str, str] = field(default_factory=dict)
    no_cache: bool = False
    from_step: str | None = None
    only: str | None = None

    @property
    def partial(self) -> bool:
        """Whether only part of the pipeline runs again."""
        return bool(self.from_step or self.only)


@dataclass(frozen=True)
class Cancelled:
    """A cancel that was sent: the run, and the local process told to stop (0 when none)."""

    run: RunRecord
    pid: int = 0


class Starting(Protocol):
    """A run being started; wait for the record of the run it created."""

    def wait(self) -> RunRecord:
        """Block until the run exists; raises why it could not start."""

    async def wait_async(self) -> RunRecord:
        """Wait in an event loop until the run exists; raises why it could not start."""


@dataclass(frozen=True)
class Started:
    """A start that completed at once (a submitted pipeline, a training job)."""

    run: RunRecord

    def wait(self) -> RunRecord:
        """The run."""
        return self.run

    async def wait_async(self) -> RunRecord:
        """The run."""
        return self.run


class RunBackend(Protocol):
    """What can be done to the runs of one kind on one engine."""

    key: BackendKey

    def start(self, ctx: RunContext, request: NotebookStart | ScriptStart) -> Starting:
        """Start a new run (``InvalidInput`` for a request of another kind)."""

    def status(self, ctx: RunContext, run: RunRecord) -> RunRecord:
        """The run as its engine sees it now (synced where the engine is remote)."""

    def logs(self, ctx: RunContext, run: RunRecord, step: str, offset: int = 0) -> LogChunk:
        """Whole log lines of one step (rank) from byte ``offset``."""

    def cancel(self, ctx: RunContext, run: RunRecord) -> Cancelled:
        """Ask the run to stop; ``Conflict`` when it is not running or cannot be stopped from here."""

    def rerun(self, ctx: RunContext, run: RunRecord, request: Rerun) -> Starting:
        """Start a finished run again; ``Conflict`` when it cannot be."""

    def delete(self, ctx: RunContext, run: RunRecord) -> None:
        """Delete the run and its files; ``Conflict`` while it is active."""

    def sync(self, ctx: RunContext, run: RunRecord) -> RunRecord:
        """Bring the stored run up to date with its engine and return it."""
