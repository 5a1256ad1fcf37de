"""Where a run runs (:class:`Engine`) and the typed details each engine keeps on its runs.

A run's engine is one of a few known names, never a free string; what an engine remembers about a
run (the Kubeflow Pipelines server and link, the Kubernetes namespace and resource kind, why a job
failed) is a typed model per engine, told apart by its ``backend`` field (a discriminated union).

On disk the details are the run's ``labels`` column, a JSON object of strings, with the keys the
store has always used (``kfp_host``, ``namespace``, ``reason``...): :func:`details_to_labels` and
:func:`details_from_labels` convert, so stores written before the details were typed load as they
are. A label no engine knows is not kept (nothing ever wrote one).
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from kfjupyter.store.models import RunRecord


class Engine(str, Enum):
    """Where a run runs: this machine, Kubeflow Pipelines, or a Kubernetes cluster (training)."""

    LOCAL = "local"
    KFP = "kfp"
    KUBERNETES = "kubernetes"

    def __str__(self) -> str:
        return self.value


#: The kinds of Kubernetes resource a training job can be.
CrKind = Literal["TrainJob", "PyTorchJob"]
#: How a cancel of a Kubeflow Pipelines run was seen: asked through kfjupyter, or reported by KFP.
KfpCancel = Literal["requested", "canceling"]


class _Details(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalDetails(_Details):
    """A run on this machine: a notebook pipeline or a local training job."""

    backend: Literal[Engine.LOCAL] = Field(Engine.LOCAL, description="The engine, 'local'.")
    reason: str | None = Field(None, description="Why a training job failed (e.g. 'RankFailed').")


class KfpDetails(_Details):
    """A pipeline run submitted to Kubeflow Pipelines (never its credentials)."""

    backend: Literal[Engine.KFP] = Field(Engine.KFP, description="The engine, 'kfp'.")
    host: str | None = Field(None, description="The KFP API server the run was submitted to.")
    namespace: str | None = Field(None, description="The Kubernetes namespace of the run, if one was given.")
    link: str | None = Field(None, description="The run's page in the KFP UI.")
    cancel: KfpCancel | None = Field(None, description="Whether a cancel was asked or seen.")


class KubernetesDetails(_Details):
    """A training job run as a Kubernetes custom resource."""

    backend: Literal[Engine.KUBERNETES] = Field(Engine.KUBERNETES, description="The engine, 'kubernetes'.")
    namespace: str = Field(description="Namespace of the job's resource.")
    kind: CrKind = Field("TrainJob", description="Kind of the job's resource.")
    trainer_version: str = Field("", description="Kubeflow Trainer version the job was made for.")
    reason: str | None = Field(None, description="Why the job failed, as the cluster said.")


RunDetails = Annotated[LocalDetails | KfpDetails | KubernetesDetails, Field(discriminator="backend")]

#: Label key of each details field, per engine: the on-disk names.
_LABELS: dict[Engine, dict[str, str]] = {
    Engine.LOCAL: {"reason": "reason"},
    Engine.KFP: {
        "host": "kfp_host",
        "namespace": "kfp_namespace",
        "link": "kfp_link",
        "cancel": "kfp_cancel",
    },
    Engine.KUBERNETES: {
        "namespace": "namespace",
        "kind": "kind",
        "trainer_version": "trainer_version",
        "reason": "reason",
    },
}
_MODELS: dict[Engine, type[LocalDetails | KfpDetails | KubernetesDetails]] = {
    Engine.LOCAL: LocalDetails,
    Engine.KFP: KfpDetails,
    Engine.KUBERNETES: KubernetesDetails,
}


def empty_details(engine: Engine) -> LocalDetails | KfpDetails | KubernetesDetails:
    """The details of a new run on ``engine`` before anything is known (``ValidationError`` if some are required)."""
    return _MODELS[engine].model_validate({})


def details_to_labels(details: LocalDetails | KfpDetails | KubernetesDetails) -> dict[str, str]:
    """The on-disk labels of ``details``: only the fields that are set."""
    names = _LABELS[details.backend]
    values = details.model_dump(mode="json", exclude={"backend"}, exclude_none=True)
    return {names[field]: str(value) for field, value in values.items()}


def record_json(run: RunRecord) -> dict[str, Any]:
    """``run`` as JSON with its details as the ``labels`` object they are stored as (the CLI's form)."""
    body = run.model_dump(mode="json", exclude={"details"})
    body["labels"] = details_to_labels(run.details)
    return body


def details_from_labels(
    engine: Engine | str, labels: dict[str, str]
) -> LocalDetails | KfpDetails | KubernetesDetails:
    """The typed details stored as ``labels`` for a run on ``engine`` (``ValueError`` for an unknown engine)."""
    chosen = Engine(engine)
    fields = {field: labels[key] for field, key in _LABELS[chosen].items() if key in labels}
    return _MODELS[chosen].model_validate(fields)
