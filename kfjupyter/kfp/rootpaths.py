"""Where a Kubeflow Pipelines run's artifacts are, and how their URIs become paths on this machine.

A KFP 2.x server writes each output artifact of a task under the run's pipeline root,
``{pipeline root}/{pipeline name}/{KFP run id}/{task}/[{salt}/]{artifact}`` (the driver's
``provisionOutputs`` and the root DAG's ``GenerateOutputURI``): ``{task}`` is the task's name
(``step-<name>``) or, on older servers, its display name (the step's name); newer servers put each
execution under a random ``{salt}`` folder. The REST API does not report artifact URIs (a task's
``inputs``/``outputs`` hold only metadata ids), so a run's artifacts are found by this layout.

The pipeline root is the compiled pipeline's ``defaultPipelineRoot`` when it has one, else
``KFJUPYTER_PIPELINE_ROOT`` (set it to the ``defaultPipelineRoot`` of the cluster's
``kfp-launcher`` ConfigMap when that is not KFP's default), else KFP's default
``minio://mlpipeline/v2/artifacts``. ``file://`` URIs and absolute paths are read directly; an
object-store URI (``minio://``, ``s3://``, ``gs://``...) is read through a mounted directory named in
``KFJUPYTER_PIPELINE_ROOT_MOUNTS``: comma-separated ``URI-PREFIX=DIRECTORY`` pairs, e.g.
``minio://mlpipeline=/mnt/pipeline-root`` reads ``minio://mlpipeline/v2/artifacts/...`` from
``/mnt/pipeline-root/v2/artifacts/...``. The longest matching prefix wins. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from kfjupyter.errors import InvalidInput

ROOT_ENV = "KFJUPYTER_PIPELINE_ROOT"
MOUNTS_ENV = "KFJUPYTER_PIPELINE_ROOT_MOUNTS"
DEFAULT_ROOT = "minio://mlpipeline/v2/artifacts"


@dataclass(frozen=True)
class Mount:
    """An object-store URI prefix and the directory where that storage is mounted here."""

    prefix: str
    directory: Path


def parse_mounts(text: str) -> list[Mount]:
    """The mounts of a ``KFJUPYTER_PIPELINE_ROOT_MOUNTS`` value; ``InvalidInput`` naming a bad entry."""
    mounts = []
    for raw in text.replace("\n", ",").split(","):
        entry = raw.strip()
        if not entry:
            continue
        prefix, sep, directory = entry.partition("=")
        prefix, directory = prefix.strip().rstrip("/"), directory.strip()
        if not sep or "://" not in prefix or not prefix.split("://", 1)[1] or not directory:
            raise InvalidInput(
                f"{MOUNTS_ENV}: {entry!r} is not URI-PREFIX=DIRECTORY (e.g. minio://mlpipeline=/mnt/pipeline-root)"
            )
        if not Path(directory).is_absolute():
            raise InvalidInput(f"{MOUNTS_ENV}: {entry!r}: the directory must be an absolute path")
        mounts.append(Mount(prefix, Path(directory)))
    return mounts


def mounts_from(environ: Mapping[str, str]) -> list[Mount]:
    """The mounts configured in ``environ``."""
    return parse_mounts(environ.get(MOUNTS_ENV, ""))


def pipeline_root(environ: Mapping[str, str], compiled_default: str | None = None) -> str:
    """The pipeline root of a run: the compiled default, else ``KFJUPYTER_PIPELINE_ROOT``, else KFP's."""
    return (compiled_default or environ.get(ROOT_ENV, "").strip() or DEFAULT_ROOT).rstrip("/")


def run_root(root: str, pipeline: str, kfp_run_id: str) -> str:
    """The URI under which KFP writes the artifacts of one run."""
    return f"{root.rstrip('/')}/{pipeline}/{kfp_run_id}"


def local_path(uri: str, mounts: list[Mount]) -> Path | None:
    """The path of ``uri`` on this machine, or None when no mount covers it.

    ``file://`` URIs and absolute paths map to themselves; other URIs through the longest mount
    prefix that ends at a ``/`` of the URI (``s3://data`` does not cover ``s3://database``).
    """
    if uri.startswith("/"):
        return Path(uri)
    if uri.startswith("file://"):
        return Path(unquote(urlsplit(uri).path))
    best: Mount | None = None
    for mount in mounts:
        if (uri == mount.prefix or uri.startswith(mount.prefix + "/")) and (
            best is None or len(mount.prefix) > len(best.prefix)
        ):
            best = mount
    if best is None:
        return None
    rest = PurePosixPath(uri[len(best.prefix) :].lstrip("/"))
    if ".." in rest.parts:
        return None
    return best.directory.joinpath(*rest.parts)


def storage_of(uri: str) -> str:
    """The bucket part of an object-store URI (``minio://mlpipeline/v2/x`` -> ``minio://mlpipeline``)."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else uri
