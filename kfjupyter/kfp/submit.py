"""Submit a notebook to Kubeflow Pipelines and record the run in the run store.

:func:`package_notebook` compiles the notebook with the same compiler as ``kfjupyter compile``;
:func:`submit_package` keeps the YAML in the run's directory, uploads it (a new pipeline, or a new
version of the pipeline with that name), starts a run in the experiment and stores a ``kfp`` run: its
``external_id`` is the KFP run id, its steps start ``pending`` and :mod:`kfjupyter.kfp.tracking`
moves them. Nothing local drives the run, so ``owner_pid`` stays ``None`` (it is never marked
interrupted). :func:`submit_notebook` does both.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfjupyter.compiler.ir import JsonValue, Pipeline
from kfjupyter.compiler.lint import compile_notebook, raise_on_errors
from kfjupyter.compiler.parameters import resolve_parameters
from kfjupyter.errors import InvalidInput, KfJupyterError, Unavailable
from kfjupyter.kfp.connection import KfpConnection, check_server, kfp_client, quiet_kfp
from kfjupyter.kfp.payload import PACKAGE_FILE
from kfjupyter.kfp.pipeline import compile_to_yaml, pipeline_name
from kfjupyter.kfp.requirements import PackagesMode
from kfjupyter.notebook.reader import notebook_path
from kfjupyter.store import Engine, KfpDetails, RunRecord, RunStore, StepRecord
from kfjupyter.store.models import new_run_id

DEFAULT_EXPERIMENT = "Default"


@dataclass(frozen=True)
class Submitted:
    """A run started on Kubeflow Pipelines."""

    record: RunRecord
    kfp_run_id: str
    link: str
    pipeline_id: str
    experiment_id: str

    def to_json(self) -> dict[str, Any]:
        """The ``kfjupyter submit --json`` object."""
        return {
            "run_id": self.record.id,
            "kfp_run_id": self.kfp_run_id,
            "link": self.link,
            "pipeline_id": self.pipeline_id,
            "experiment_id": self.experiment_id,
            "status": self.record.status,
        }


def _api_error(action: str, host: str, exc: Exception) -> KfJupyterError:
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", None) or exc
    if status in (401, 403):
        return InvalidInput(
            f"Kubeflow Pipelines at {host} refused to {action} ({status}): pass --token or --cookie, "
            "or set KF_PIPELINES_TOKEN",
            detail=repr(exc),
        )
    if isinstance(exc, (ValueError, TypeError)):  # refused by the kfp client before any request
        return InvalidInput(f"could not {action} on Kubeflow Pipelines at {host}: {exc}", detail=repr(exc))
    if isinstance(status, int) and 400 <= status < 500:
        body = getattr(exc, "body", "") or ""
        return InvalidInput(
            f"Kubeflow Pipelines at {host} rejected the request to {action} ({status}): {body or reason}",
            detail=repr(exc),
        )
    return Unavailable(f"could not {action} on Kubeflow Pipelines at {host}: {reason}", detail=repr(exc))


def _upload(client: Any, package: Path, name: str, version: str) -> tuple[str, str]:
    """Upload a new pipeline (its first version) or a new version; return both ids."""
    existing = client.get_pipeline_id(name)
    if existing is None:
        pipeline = client.upload_pipeline(str(package), pipeline_name=name, description=f"Notebook {name}")
        listed = client.list_pipeline_versions(pipeline.pipeline_id, page_size=1, sort_by="created_at desc")
        if not listed.pipeline_versions:
            raise Unavailable(f"KFP created pipeline {name!r} without a version; submit again")
        return pipeline.pipeline_id, listed.pipeline_versions[0].pipeline_version_id
    made = client.upload_pipeline_version(str(package), pipeline_version_name=version, pipeline_id=existing)
    return existing, made.pipeline_version_id


@dataclass(frozen=True)
class Package:
    """A notebook compiled for Kubeflow Pipelines, not uploaded yet."""

    notebook: Path
    pipeline: Pipeline
    values: dict[str, JsonValue]
    text: str


def package_notebook(
    notebook: str | Path,
    *,
    parameters: Mapping[str, JsonValue] | None = None,
    overrides: Sequence[str] = (),
    image: str | None = None,
    ship_limit: int | None = None,
    packages: PackagesMode = "none",
) -> Package:
    """Compile ``notebook`` to KFP YAML with its parameter values; ``InvalidInput`` for the user's mistakes.

    ``ship_limit`` and ``packages``: what travels with the steps (see
    :func:`~kfjupyter.kfp.pipeline.compile_to_yaml`). Talks to no server.
    """
    path = notebook_path(notebook)
    pipeline, diagnostics = compile_notebook(path, target="cluster", ship_limit=ship_limit)
    raise_on_errors(diagnostics)
    values = resolve_parameters(pipeline, parameters, overrides)
    text = compile_to_yaml(
        pipeline, values=values, image=image, source_dir=path.parent, limit=ship_limit, packages=packages
    )
    return Package(path, pipeline, values, text)


def submit_package(
    package: Package,
    connection: KfpConnection,
    *,
    store: RunStore,
    experiment: str | None = None,
    client: Any | None = None,
) -> Submitted:
    """Upload a compiled notebook to KFP, start a run and record it; see the module docstring.

    ``client`` replaces the ``kfp.Client`` built from ``connection`` (its host still names the
    run's server in the store). Raises ``InvalidInput`` for a request KFP refuses, ``Unavailable``
    when KFP cannot be reached.
    """
    conn = connection.resolved()
    pipeline, values = package.pipeline, package.values
    run_id = new_run_id()
    path = store.run_dir(run_id, create=True) / PACKAGE_FILE
    path.write_text(package.text, encoding="utf-8")
    name = pipeline_name(pipeline.name)
    action = "connect"
    try:
        with quiet_kfp():
            if client is None:
                check_server(conn)
                client = kfp_client(conn)
            action = "upload the pipeline"
            pipeline_id, version_id = _upload(client, path, name, f"{name}-{run_id}")
            action = "create the experiment"
            exp = client.create_experiment(experiment or DEFAULT_EXPERIMENT, namespace=conn.namespace)
            action = "start the run"
            remote = client.run_pipeline(
                experiment_id=exp.experiment_id,
                job_name=f"{name} {run_id}",
                params=values,
                pipeline_id=pipeline_id,
                version_id=version_id,
            )
    except KfJupyterError:
        raise
    except Exception as exc:  # kfp_server_api.ApiException, urllib3 and kfp client errors
        raise _api_error(action, conn.host, exc) from exc
    link = conn.run_link(remote.run_id)
    record = store.create_run(
        RunRecord(
            id=run_id,
            kind="pipeline",
            name=pipeline.name,
            notebook=str(package.notebook),
            backend=Engine.KFP,
            parameters=values,
            external_id=remote.run_id,
            details=KfpDetails(host=conn.host, link=link, namespace=conn.namespace or None),
            created_at=time.time(),
        )
    )
    store.upsert_steps(
        [
            StepRecord(run_id=run_id, name=s.name, upstream=sorted(set(s.after) | set(s.inputs.values())))
            for s in pipeline.steps
        ]
    )
    return Submitted(record, remote.run_id, link, pipeline_id, exp.experiment_id)


def submit_notebook(
    notebook: str | Path,
    connection: KfpConnection,
    *,
    store: RunStore,
    parameters: Mapping[str, JsonValue] | None = None,
    overrides: Sequence[str] = (),
    experiment: str | None = None,
    image: str | None = None,
    client: Any | None = None,
    ship_limit: int | None = None,
    packages: PackagesMode = "none",
) -> Submitted:
    """Compile ``notebook`` (:func:`package_notebook`), then submit it (:func:`submit_package`)."""
    connection.resolved()  # a host that is no URL is refused before the compile
    package = package_notebook(
        notebook,
        parameters=parameters,
        overrides=overrides,
        image=image,
        ship_limit=ship_limit,
        packages=packages,
    )
    return submit_package(package, connection, store=store, experiment=experiment, client=client)
