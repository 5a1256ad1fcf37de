"""Pipeline-root URIs to paths here: the mounts setting, prefixes, file URIs and the run's root."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfjupyter.errors import InvalidInput
from kfjupyter.kfp.rootpaths import (
    DEFAULT_ROOT,
    Mount,
    local_path,
    parse_mounts,
    pipeline_root,
    run_root,
    storage_of,
)


def test_mounts_parse_from_comma_or_newline_separated_pairs() -> None:
    assert parse_mounts(" minio://mlpipeline/=/mnt/root ,\ns3://b/x=/data/x\n,") == [
        Mount("minio://mlpipeline", Path("/mnt/root")),
        Mount("s3://b/x", Path("/data/x")),
    ]
    assert parse_mounts("") == []


@pytest.mark.parametrize(
    "bad", ["/mnt/root", "minio://=/mnt", "mlpipeline=/mnt", "gs://b=", "gs://b=rel/dir"]
)
def test_a_bad_mount_is_named(bad: str) -> None:
    with pytest.raises(InvalidInput, match="KFJUPYTER_PIPELINE_ROOT_MOUNTS") as caught:
        parse_mounts(f"s3://ok=/ok,{bad}")
    assert repr(bad) in caught.value.message


def test_uris_map_through_the_longest_prefix_at_a_path_boundary() -> None:
    mounts = parse_mounts("s3://data=/a,s3://data/deep=/b,minio://mlpipeline=/c")
    assert local_path("s3://data/x/y", mounts) == Path("/a/x/y")
    assert local_path("s3://data/deep/y", mounts) == Path("/b/y")
    assert local_path("s3://data", mounts) == Path("/a")
    assert local_path("s3://database/y", mounts) is None
    assert local_path("gs://data/y", mounts) is None
    assert local_path("s3://data/../etc", mounts) is None
    assert local_path("file:///srv/root%20x/r", []) == Path("/srv/root x/r")
    assert local_path("/srv/root/r", []) == Path("/srv/root/r")


def test_the_run_root_follows_kfp_precedence() -> None:
    assert pipeline_root({}) == DEFAULT_ROOT == "minio://mlpipeline/v2/artifacts"
    assert pipeline_root({"KFJUPYTER_PIPELINE_ROOT": "s3://b/root/"}) == "s3://b/root"
    assert pipeline_root({"KFJUPYTER_PIPELINE_ROOT": "s3://b/root"}, "gs://spec/root") == "gs://spec/root"
    assert run_root("s3://b/root/", "my-pipe", "1234") == "s3://b/root/my-pipe/1234"
    assert storage_of("minio://mlpipeline/v2/artifacts") == "minio://mlpipeline"
    assert storage_of("/srv/root") == "/srv/root"
