"""The unchanged-input guard: content fingerprints that see changes, and the message naming the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kfjupyter.runner.guard import FULL_BYTES, InputGuard, fingerprint


@pytest.mark.parametrize(
    ("make", "change"),
    [
        (lambda: {"a": [1, 2]}, lambda v: v["a"].append(3)),
        (lambda: {"s": {"x", "y"}}, lambda v: v["s"].add("z")),
        (lambda: np.arange(10.0), lambda v: v.__setitem__(3, -1)),
        (lambda: np.arange(12.0).reshape(3, 4)[:, ::2], lambda v: v.__setitem__((0, 0), 7)),
        (lambda: np.arange(6.0), lambda v: setattr(v, "shape", (2, 3))),
        (lambda: pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), lambda v: v.__setitem__("c", 1)),
        (lambda: pd.DataFrame({"a": [1.0, 2.0]}), lambda v: v.loc.__setitem__((0, "a"), 9.0)),
    ],
)
def test_a_change_changes_the_fingerprint_and_nothing_else_does(make, change) -> None:  # type: ignore[no-untyped-def]
    value = make()
    before = fingerprint(value)
    assert before is not None
    assert fingerprint(value) == before
    change(value)
    assert fingerprint(value) != before


def test_large_arrays_are_sampled_but_a_change_in_any_page_of_a_slice_is_seen() -> None:
    array = np.zeros((FULL_BYTES // 8) * 16)
    before = fingerprint(array)
    array[-1] = 1.0  # the last slice is always sampled
    assert fingerprint(array) != before


def test_guard_names_step_variable_producer_reader_and_fix() -> None:
    guard = InputGuard("clean", {"df": ["load", "report"], "other": ["load", "report"]})
    df, untouched, unguarded = {"a": 1}, [1], [2]
    guard.watch("df", df)
    guard.watch("other", untouched)
    guard.watch("free", unguarded)
    unguarded.append(3)
    assert guard.problem() is None
    df["b"] = 2
    message = guard.problem()
    assert message is not None
    assert message.startswith("step 'clean' changed its input 'df' in place")
    assert "step 'report' reads 'df' as made by step 'load'" in message
    assert "df = df.copy()" in message


@pytest.mark.parametrize(
    "read", ["df.values", "df.T", "df.loc[0]", "df.to_numpy()", "df.describe()", "repr(df)"]
)
def test_reading_a_loaded_frame_keeps_its_fingerprint(read: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kfjupyter.serializers import load_value, save_value

    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": pd.Categorical(["u", "v"]), "f": [1.5, None]})
    saved = save_value("df", frame, tmp_path, "load")
    df = load_value(saved.path, saved.serializer)
    before = fingerprint(df)
    eval(read)
    assert fingerprint(df) == before
    df.loc[1, "f"] = 2.5
    assert fingerprint(df) != before


def test_relink_puts_the_loaded_objects_back_into_their_containers() -> None:
    from kfjupyter.runner.guard import relink

    same = {"k": 1}
    namespace = {
        "a": {"k": 1},
        "b": {"k": 1},
        "g": [{"k": 1}, {"k": 1}],
        "t": ({"k": 1},),
        "d": {"x": {"k": 1}},
    }
    namespace["h"] = same
    relink(namespace, {"g": ["a", "b"], "t": ["a"], "d": ["b"], "h": ["a"]})
    assert namespace["g"][0] is namespace["a"] and namespace["g"][1] is namespace["b"]
    assert namespace["t"][0] is namespace["a"]
    assert namespace["d"]["x"] is namespace["b"]
    assert namespace["h"] is same  # not a container: left alone
    slots = {"b": [2], "g": [[1], [2]]}
    relink(slots, {"g": ["", "b"]})
    assert slots["g"][1] is slots["b"] and slots["g"][0] == [1]
