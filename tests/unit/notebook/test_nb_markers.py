"""The three cell-marker syntaxes: Kale tags, metadata.kfjupyter and %%step."""

from __future__ import annotations

import pytest

from kfjupyter.errors import InvalidInput
from kfjupyter.notebook.cell_metadata import KfCellMetadata, parse_cell_metadata
from kfjupyter.notebook.kale_tags import parse_kale_tags
from kfjupyter.notebook.marks import is_valid_step_name, suggest_step_name
from kfjupyter.notebook.step_magic import has_step_magic, parse_step_line, split_step_magic

# --- Kale tags ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "role"),
    [
        ("imports", "imports"),
        ("functions", "functions"),
        ("pipeline-parameters", "parameters"),
        ("pipeline-metrics", "metrics"),
        ("skip", "skip"),
    ],
)
def test_role_tags(tag: str, role: str) -> None:
    mark = parse_kale_tags([tag], 3)
    assert mark is not None
    assert (mark.role, mark.step, mark.syntax) == (role, None, "tags")


def test_step_tag_with_settings() -> None:
    mark = parse_kale_tags(
        [
            "step:train",
            "prev:load",
            "prev:clean",
            "prev:load",
            "limit:cpu:2",
            "limit:memory:4Gi",
            "limit:nvidia.com/gpu:2",
            "limit:ephemeral-storage:10Gi",
            "image:ghcr.io/org/img:1.2",
            "annotation:team:ml:core",
            "label:tier:gold",
            "secret:aws:key-id:AWS_ACCESS_KEY_ID",
            "cache:disabled",
            "report:enabled",
            "hide-input",
        ],
        4,
    )
    assert mark is not None
    assert mark.role == "step"
    assert mark.step == "train"
    assert mark.after == ("load", "clean")
    s = mark.settings
    assert (s.cpu, s.memory, s.gpu, s.gpu_type) == ("2", "4Gi", 2, "nvidia.com/gpu")
    assert s.extra_limits == {"ephemeral-storage": "10Gi"}
    assert s.image == "ghcr.io/org/img:1.2"
    assert s.annotations == {"team": "ml:core"}
    assert s.labels == {"tier": "gold"}
    assert s.secrets == (("aws", "key-id", "AWS_ACCESS_KEY_ID"),)
    assert s.cache is False


def test_amd_gpu_and_old_block_spelling() -> None:
    mark = parse_kale_tags(["block:prep", "limit:amd.com/gpu:1"], 0)
    assert mark is not None
    assert (mark.step, mark.settings.gpu, mark.settings.gpu_type) == ("prep", 1, "amd.com/gpu")


def test_no_kale_tags_means_no_mark() -> None:
    assert parse_kale_tags([], 0) is None
    assert parse_kale_tags(["hide-input", "parameters"], 0) is None


@pytest.mark.parametrize(
    ("tags", "match"),
    [
        (["step:a", "limit:cpu"], r"cell 7: tag 'limit:cpu' is not valid"),
        (["step:a", "limit:nvidia.com/gpu:two"], r"cell 7: .*whole number"),
        (["step:a", "secret:only-name"], r"cell 7: .*secret:<secret name>"),
        (["step:a", "cache:maybe"], r"cell 7: .*cache:enabled"),
        (["step:a", "annotation:novalue"], r"cell 7: .*annotation:<key>:<value>"),
        (["step:a", "prev:"], r"cell 7: .*name the upstream step"),
        (["step:a", "image:"], r"cell 7: .*image reference"),
        (["step:a", "step:b"], r"cell 7 has more than one step tag \('step:a', 'step:b'\)"),
        (["prev:a"], r"cell 7: tag 'prev:a' .* belong on the cell tagged 'step:<name>'"),
        (["notebook:other"], r"cell 7: .*sub-pipeline"),
    ],
)
def test_bad_tags_name_the_cell(tags: list[str], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        parse_kale_tags(tags, 7)


# --- metadata.kfjupyter -------------------------------------------------------------------------


def test_metadata_step() -> None:
    mark = parse_cell_metadata(
        {
            "kfjupyter": {
                "step": "train",
                "after": ["load", "load"],
                "resources": {"cpu": 2, "memory": "8Gi", "gpu": 1, "gpu_type": "nvidia.com/gpu"},
                "image": "pytorch:2",
                "retries": 3,
                "timeout": 600,
                "cache": False,
            }
        },
        2,
    )
    assert mark is not None
    assert (mark.role, mark.step, mark.after, mark.syntax) == ("step", "train", ("load",), "metadata")
    s = mark.settings
    assert (s.cpu, s.memory, s.gpu, s.gpu_type) == ("2", "8Gi", 1, "nvidia.com/gpu")
    assert (s.image, s.retries, s.timeout_s, s.cache) == ("pytorch:2", 3, 600.0, False)


@pytest.mark.parametrize("role", ["imports", "functions", "parameters", "metrics", "skip"])
def test_metadata_roles(role: str) -> None:
    mark = parse_cell_metadata({"kfjupyter": {"role": role}}, 0)
    assert mark is not None
    assert mark.role == role


def test_metadata_absent_or_empty() -> None:
    assert parse_cell_metadata({}, 0) is None
    assert parse_cell_metadata({"kfjupyter": {}}, 0) is None


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"step": "a", "gpus": 1}, r"cell 5: metadata\.kfjupyter\.gpus: Extra inputs are not permitted"),
        ({"step": "a", "resources": {"gpu": -1}}, r"cell 5: metadata\.kfjupyter\.resources\.gpu: .*greater"),
        ({"step": "a", "resources": {"gpu": 1, "vram": 2}}, r"cell 5: metadata\.kfjupyter\.resources\.vram"),
        ({"step": "a", "retries": "many"}, r"cell 5: metadata\.kfjupyter\.retries"),
        ({"step": "a", "timeout": 0}, r"cell 5: metadata\.kfjupyter\.timeout"),
        ({"role": "step"}, r"cell 5: metadata\.kfjupyter: .*needs a name"),
        ({"role": "imports", "step": "a"}, r"cell 5: .*only allowed with role 'step'"),
        ({"role": "imports", "image": "x"}, r"cell 5: .*settings are only allowed on a step"),
        ({"role": "bogus"}, r"cell 5: metadata\.kfjupyter\.role"),
        ("train", r"cell 5: metadata\.kfjupyter must be an object"),
    ],
)
def test_metadata_errors_name_cell_and_field(value: object, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        parse_cell_metadata({"kfjupyter": value}, 5)


def test_metadata_schema_describes_every_field() -> None:
    schema = KfCellMetadata.model_json_schema()
    assert schema["additionalProperties"] is False
    assert all("description" in p for p in schema["properties"].values())


# --- %%step -------------------------------------------------------------------------------------


def test_step_magic_full_line() -> None:
    line = (
        "%%step train --after load 'clean data' --gpu 2 --gpu-type nvidia.com/gpu --cpu 4 "
        "--memory 16Gi --image pytorch:2 --retries 1 --timeout 90.5 --no-cache"
    )
    mark = parse_step_line(line, 3)
    assert (mark.role, mark.step, mark.syntax, mark.first_line) == ("step", "train", "magic", 2)
    assert mark.after == ("load", "clean data")
    s = mark.settings
    assert (s.gpu, s.gpu_type, s.cpu, s.memory, s.image) == (2, "nvidia.com/gpu", "4", "16Gi", "pytorch:2")
    assert (s.retries, s.timeout_s, s.cache) == (1, 90.5, False)


def test_step_magic_minimal() -> None:
    mark = parse_step_line("%%step load")
    assert mark.step == "load"
    assert mark.after == ()
    assert mark.settings.cache is None


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("%%step", r"cell 9: %%step: .*required: name"),
        ("%%step a --gpu many", r"cell 9: %%step: argument --gpu: invalid int value"),
        ("%%step a --bogus", r"cell 9: %%step: unrecognized arguments: --bogus"),
        ("%%step a --help", r"cell 9: %%step: unrecognized arguments: --help"),
        ("%%step a b", r"cell 9: %%step: unrecognized arguments: b"),
        ("%%step 'a", r"cell 9: cannot read the %%step line"),
        ("%%step a --gpu -1", r"cell 9: %%step: --gpu must be 0 or more"),
        ("%%step a --retries -2", r"cell 9: %%step: --retries must be 0 or more"),
        ("%%step a --timeout 0", r"cell 9: %%step: --timeout must be a positive"),
        ("%%step a --after", r"cell 9: %%step: argument --after: expected at least one argument"),
    ],
)
def test_step_magic_errors_raise_never_exit(line: str, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        parse_step_line(line, 9)


def test_step_magic_detection_and_split() -> None:
    assert has_step_magic("%%step a\nx = 1")
    assert has_step_magic("%%step")
    assert not has_step_magic("%%stepper a")
    assert not has_step_magic("x = 1\n%%step a")
    assert split_step_magic("%%step a\nx = 1\ny = 2") == ("%%step a", "x = 1\ny = 2")


# --- step names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ok"), [("load", True), ("_x1", True), ("Load", False), ("1a", False), ("a-b", False)]
)
def test_step_name_rule(name: str, ok: bool) -> None:
    assert is_valid_step_name(name) is ok


@pytest.mark.parametrize(
    ("name", "suggestion"), [("Load Data", "load_data"), ("1st-pass", "step_1st_pass"), ("!!!", "step")]
)
def test_step_name_suggestion_is_valid(name: str, suggestion: str) -> None:
    assert suggest_step_name(name) == suggestion
    assert is_valid_step_name(suggestion)
