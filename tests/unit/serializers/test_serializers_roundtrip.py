"""Round-trips through every built-in serializer, chosen by the default registry."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kfjupyter.serializers import SavedValue, load_value, save_value, sha256_file


def _closure() -> Callable[[int], int]:
    offset = 41

    def add(x: int) -> int:
        return x + offset

    return add


ARRAYS = {
    "float64 2-d": np.arange(12.0).reshape(3, 4),
    "0-d": np.array(3.5),
    "empty": np.zeros((0, 3), dtype=np.int32),
    "fortran order": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    "non-contiguous": np.arange(20).reshape(4, 5)[::2, ::2],
    "big-endian": np.arange(5, dtype=">i4"),
    "structured": np.array([(1, 2.0), (3, 4.0)], dtype=[("a", "i4"), ("b", "f8")]),
    "unicode": np.array(["ab", "ç"]),
    "bool": np.array([True, False]),
    "datetime64": np.array(["2024-01-01", "2024-02-29"], dtype="datetime64[D]"),
    "memmap input": None,  # filled in by the test from a saved array
}


@pytest.mark.parametrize("case", list(ARRAYS))
def test_array_roundtrip_is_memory_mapped(case: str, tmp_path: Path) -> None:
    value = ARRAYS[case]
    if value is None:
        value = load_value(save_value("src", np.arange(4.0), tmp_path / "src", "s0"))
    saved = save_value("arr", value, tmp_path, "s1")
    assert saved.serializer == "numpy"
    assert saved.path == tmp_path / "arr.npy"
    back = load_value(saved)
    assert isinstance(back, np.memmap)
    assert back.dtype == value.dtype
    assert back.shape == value.shape
    np.testing.assert_array_equal(back, value)
    assert np.load(saved.path, allow_pickle=False).tobytes() == np.ascontiguousarray(value).tobytes()


def test_fortran_order_is_kept(tmp_path: Path) -> None:
    back = load_value(save_value("f", np.asfortranarray(np.ones((3, 2))), tmp_path, "s"))
    assert isinstance(back, np.ndarray)
    assert back.flags.f_contiguous and not back.flags.c_contiguous


def test_loaded_array_is_writable_but_the_file_is_not_changed(tmp_path: Path) -> None:
    saved = save_value("a", np.zeros(4), tmp_path, "s")
    back = load_value(saved)
    assert isinstance(back, np.ndarray)
    back[0] = 7.0
    assert back[0] == 7.0
    assert sha256_file(saved.path) == saved.sha256
    assert np.load(saved.path)[0] == 0.0


def test_big_array_is_hashed_while_written(tmp_path: Path) -> None:
    value = np.random.default_rng(0).random(3_000_000)  # 24 MB: above the threaded-hash threshold
    saved = save_value("big", value, tmp_path, "s")
    assert saved.sha256 == sha256_file(saved.path)
    assert saved.size == saved.path.stat().st_size > value.nbytes
    np.testing.assert_array_equal(load_value(saved), value)


def test_object_array_falls_back_to_pickle(tmp_path: Path) -> None:
    value = np.array([{"a": 1}, None, "x"], dtype=object)
    saved = save_value("obj", value, tmp_path, "s")
    assert saved.serializer == "pickle"
    back = load_value(saved)
    assert isinstance(back, np.ndarray)
    assert back.tolist() == value.tolist()


def test_masked_array_keeps_its_mask_via_pickle(tmp_path: Path) -> None:
    value = np.ma.masked_array([1, 2, 3], mask=[False, True, False])
    saved = save_value("m", value, tmp_path, "s")
    assert saved.serializer == "pickle"
    back = load_value(saved)
    assert isinstance(back, np.ma.MaskedArray)
    assert back.mask.tolist() == [False, True, False]


FRAMES = {
    "named string index": pd.DataFrame({"a": [1, 2]}, index=pd.Index(["x", "y"], name="key")),
    "shifted range index": pd.DataFrame({"a": [1.5, 2.5]}, index=pd.RangeIndex(5, 7)),
    "multi index": pd.DataFrame(
        {"v": [1, 2]}, index=pd.MultiIndex.from_tuples([("x", 1), ("y", 2)], names=["p", "q"])
    ),
    "categorical, datetime with zone, timedelta": pd.DataFrame(
        {
            "cat": pd.Categorical(["lo", "hi"], categories=["lo", "hi"], ordered=True),
            "when": pd.to_datetime(["2020-01-01", "2021-06-30"]).tz_localize("Europe/Paris"),
            "took": pd.to_timedelta([1, 2], unit="s"),
        }
    ),
    "nullable ints and strings": pd.DataFrame(
        {"i": pd.array([1, None], dtype="Int64"), "s": pd.array(["a", None], dtype="string")}
    ),
    "object strings with None": pd.DataFrame({"s": np.array(["a", None], dtype=object)}),
    "integer column labels": pd.DataFrame({0: [1, 2], 1: [3, 4]}),
    "empty": pd.DataFrame({"a": pd.Series([], dtype="float64")}),
}


@pytest.mark.parametrize("case", list(FRAMES))
def test_frame_roundtrip_via_arrow(case: str, tmp_path: Path) -> None:
    value = FRAMES[case]
    saved = save_value("df", value, tmp_path, "s")
    assert saved.serializer == "pandas"
    assert saved.path.suffix == ".arrow"
    pd.testing.assert_frame_equal(load_value(saved), value)


def test_frame_attrs_survive(tmp_path: Path) -> None:
    value = pd.DataFrame({"a": [1]})
    value.attrs["source"] = "sensor"
    back = load_value(save_value("df", value, tmp_path, "s"))
    assert isinstance(back, pd.DataFrame)
    assert back.attrs == {"source": "sensor"}


SERIES = {
    "named": pd.Series([1.0, 2.0], name="price"),
    "unnamed with index": pd.Series([1, 2], index=pd.Index(["a", "b"], name="k")),
    "int name": pd.Series(["x", "y"], name=3),
    "categorical": pd.Series(pd.Categorical(["a", "b", "a"]), name="c"),
}


@pytest.mark.parametrize("case", list(SERIES))
def test_series_roundtrip_via_arrow(case: str, tmp_path: Path) -> None:
    value = SERIES[case]
    saved = save_value("ser", value, tmp_path, "s")
    assert saved.serializer == "pandas"
    pd.testing.assert_series_equal(load_value(saved), value)


DECLINED_FRAMES = {
    "mixed-type object column": pd.DataFrame({"m": ["a", 1]}),
    "lists in an object column": pd.DataFrame({"l": [[1, 2], [3]]}),
    "duplicate column labels": pd.DataFrame([[1, 2]], columns=["a", "a"]),
    "tuple series name": pd.Series([1], name=("a", "b")),
}


@pytest.mark.parametrize("case", list(DECLINED_FRAMES))
def test_frames_arrow_would_change_go_to_pickle(case: str, tmp_path: Path) -> None:
    value = DECLINED_FRAMES[case]
    saved = save_value("df", value, tmp_path, "s")
    assert saved.serializer == "pickle"
    assert saved.preview["type"] in ("pandas.DataFrame", "pandas.Series")
    back = load_value(saved)
    if isinstance(value, pd.Series):
        pd.testing.assert_series_equal(back, value)
    else:
        pd.testing.assert_frame_equal(back, value)
        assert type(back.iloc[0, 0]) is type(value.iloc[0, 0])


def test_frames_go_to_pickle_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kfjupyter.serializers import frames

    monkeypatch.setattr(frames, "have_pyarrow", lambda: False)
    saved = save_value("df", FRAMES["named string index"], tmp_path, "s")
    assert saved.serializer == "pickle"
    pd.testing.assert_frame_equal(load_value(saved), FRAMES["named string index"])


class Point:
    def __init__(self, x: int) -> None:
        self.x = x


OBJECTS = {
    "dict": ({"a": [1, 2], "b": {"c": None}}, lambda v: v),
    "list": ([1, "two", 3.0], lambda v: v),
    "set": ({1, 2}, lambda v: v),
    "bytes": (b"\x00\xff", lambda v: v),
    "datetime": (dt.datetime(2024, 1, 2, 3, 4, 5), lambda v: v),
    "numpy scalar": (np.float32(1.5), lambda v: v),
    "closure": (_closure(), lambda f: f(1)),
    "lambda": (lambda x: x * 2, lambda f: f(21)),
    "instance of a local class": (Point(3), lambda p: p.x),
}


@pytest.mark.parametrize("case", list(OBJECTS))
def test_objects_roundtrip_via_cloudpickle(case: str, tmp_path: Path) -> None:
    value, probe = OBJECTS[case]
    saved = save_value("obj", value, tmp_path, "s")
    assert saved.serializer == "pickle"
    assert saved.path.suffix == ".pkl"
    assert probe(load_value(saved)) == probe(value)


def test_notebook_function_loads_in_another_process(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from kfjupyter.serializers import save_value\n"
        "scale = 3\n"
        "def triple(x):\n"
        "    return x * scale\n"
        "save_value('triple', triple, Path(sys.argv[1]), 'define')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
    loaded = load_value(tmp_path / "triple.pkl")
    assert callable(loaded)
    assert loaded(5) == 15


def test_load_by_path_and_by_named_serializer(tmp_path: Path) -> None:
    saved = save_value("a", np.arange(3), tmp_path, "s")
    np.testing.assert_array_equal(load_value(saved.path), [0, 1, 2])
    np.testing.assert_array_equal(load_value(str(saved.path), "numpy"), [0, 1, 2])


def test_saved_value_json_roundtrip(tmp_path: Path) -> None:
    saved = save_value("df", FRAMES["named string index"], tmp_path, "s")
    assert SavedValue.from_json(saved.to_json()) == saved


def test_resave_with_another_serializer_removes_the_old_file(tmp_path: Path) -> None:
    save_value("x", np.arange(3), tmp_path, "s")
    saved = save_value("x", {"now": "a dict"}, tmp_path, "s")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.pkl"]
    assert load_value(saved) == {"now": "a dict"}


def test_same_value_same_hash(tmp_path: Path) -> None:
    first = save_value("a", np.arange(100.0), tmp_path / "one", "s")
    second = save_value("a", np.arange(100.0), tmp_path / "two", "s")
    assert first.sha256 == second.sha256 == sha256_file(first.path)
    assert first.size == first.path.stat().st_size
