"""Previews: small, bounded, strict JSON, chosen by the value's type."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kfjupyter.serializers import preview_value, save_value
from kfjupyter.serializers.preview import MAX_CELL, MAX_REPR, jsonable


class _BadRepr:
    def __repr__(self) -> str:
        raise ValueError("nope")


PREVIEWS = [
    (
        "array",
        np.zeros((2, 3), dtype=np.float32),
        {"type": "numpy.ndarray", "shape": [2, 3], "dtype": "float32", "nbytes": 24},
    ),
    ("0-d array", np.array(1), {"type": "numpy.ndarray", "shape": [], "dtype": "int64", "nbytes": 8}),
    ("list", [1, 2, 3], {"type": "list", "repr": "[1, 2, 3]", "len": 3}),
    ("dict", {"a": 1}, {"type": "dict", "repr": "{'a': 1}", "len": 1}),
    ("int", 7, {"type": "int", "repr": "7"}),
    (
        "series",
        pd.Series([1.5, float("nan")], name="x"),
        {
            "type": "pandas.Series",
            "shape": [2],
            "name": "x",
            "dtype": "float64",
            "head": [{"index": 0, "value": 1.5}, {"index": 1, "value": "nan"}],
        },
    ),
]


@pytest.mark.parametrize(("value", "expected"), [p[1:] for p in PREVIEWS], ids=[p[0] for p in PREVIEWS])
def test_previews(value: object, expected: dict[str, object]) -> None:
    assert preview_value(value) == expected


def test_failing_repr_does_not_fail_the_preview() -> None:
    preview = preview_value(_BadRepr())
    assert preview["type"] == f"{__name__}._BadRepr"
    assert str(preview["repr"]).startswith("<_BadRepr instance at 0x")


def test_dataframe_preview_has_head_records_columns_dtypes_shape() -> None:
    frame = pd.DataFrame(
        {
            "n": np.arange(8),
            "text": ["x" * 500] * 8,
            "when": pd.date_range("2024-01-01", periods=8, freq="D"),
            7: [None] * 8,
        }
    )
    preview = preview_value(frame)
    assert preview["type"] == "pandas.DataFrame"
    assert preview["shape"] == [8, 4]
    assert preview["columns"] == ["n", "text", "when", "7"]
    assert preview["dtypes"] == {
        "n": "int64",
        "text": str(frame["text"].dtype),
        "when": str(frame["when"].dtype),
        "7": "object",
    }
    head = preview["head"]
    assert isinstance(head, list)
    assert len(head) == 5
    assert head[0] == {"n": 0, "text": "x" * (MAX_CELL - 1) + "…", "when": "2024-01-01T00:00:00", "7": None}
    json.dumps(preview, allow_nan=False)


def test_long_values_are_bounded() -> None:
    preview = preview_value(list(range(10_000_000)))
    assert preview["len"] == 10_000_000
    assert isinstance(preview["repr"], str)
    assert len(preview["repr"]) <= MAX_REPR
    assert len(str(preview_value("y" * 10_000)["repr"])) <= MAX_REPR


JSONABLE = [
    ("numpy int", np.int64(3), 3),
    ("numpy bool", np.bool_(True), True),
    ("infinity", float("inf"), "inf"),
    ("string", "s" * 100, "s" * (MAX_CELL - 1) + "…"),
    ("timestamp", pd.Timestamp("2024-05-06 07:08"), "2024-05-06T07:08:00"),
    ("other", object, "<class 'object'>"),
]


@pytest.mark.parametrize(("value", "expected"), [j[1:] for j in JSONABLE], ids=[j[0] for j in JSONABLE])
def test_jsonable_cells(value: object, expected: object) -> None:
    assert jsonable(value) == expected


def test_saved_value_carries_the_preview(tmp_path: Path) -> None:
    saved = save_value("n", np.arange(4), tmp_path, "s")
    assert saved.preview == {"type": "numpy.ndarray", "shape": [4], "dtype": "int64", "nbytes": 32}
