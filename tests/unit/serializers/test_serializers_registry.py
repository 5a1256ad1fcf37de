"""The registry: choice by priority, custom serializers, clear errors, atomic writes, lazy imports."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kfjupyter.errors import InvalidInput, KfJupyterError, NotFound
from kfjupyter.serializers import (
    DeclinedError,
    SerializationError,
    Serializer,
    default_registry,
    load_value,
    save_value,
)


def _generator() -> Iterator[int]:
    yield 1


class _Unpicklable:
    def __reduce__(self) -> str:
        raise RuntimeError("no pickling for you")


UNSAVEABLE = {
    "lock": (lambda: threading.Lock(), "_thread.lock"),
    "generator": (_generator, "generator"),
    "sqlite connection": (lambda: sqlite3.connect(":memory:"), "sqlite3.Connection"),
    "socket": (lambda: socket.socket(), "socket.socket"),
    "dict holding a lock": (lambda: {"lock": threading.Lock()}, "dict"),
    "object array holding a lock": (lambda: np.array([threading.Lock()], dtype=object), "numpy.ndarray"),
    "__reduce__ raises": (_Unpicklable, f"{__name__}._Unpicklable"),
}


@pytest.mark.parametrize("case", list(UNSAVEABLE))
def test_unsaveable_value_names_variable_type_and_step(case: str, tmp_path: Path) -> None:
    make, shown_type = UNSAVEABLE[case]
    value = make()
    try:
        with pytest.raises(SerializationError) as info:
            save_value("conn", value, tmp_path, "train")
    finally:
        close = getattr(value, "close", None)
        if callable(close):
            close()
    message = str(info.value)
    assert message.startswith(f"step 'train' produces 'conn' ({shown_type}) which cannot be saved")
    assert "recreate it in the step that uses it, or keep it in an imports/functions cell" in message
    assert isinstance(info.value, InvalidInput)
    assert isinstance(info.value, KfJupyterError)
    assert info.value.reason == "unserializable"
    assert list(tmp_path.iterdir()) == []  # no half-written file, no scratch folder


class _Marker:
    def __init__(self, tag: str) -> None:
        self.tag = tag


class _TextSerializer(Serializer):
    """Stores arrays as text; used to check that registration by priority wins."""

    name = "text"
    extension = ".txt"

    def handles(self, value: object) -> bool:
        return isinstance(value, np.ndarray | _Marker)

    def dump(self, value: object, directory: Path, stem: str) -> Path:
        path = directory / f"{stem}{self.extension}"
        if isinstance(value, _Marker):
            if value.tag == "decline":
                raise DeclinedError("markers tagged decline are not for me")
            path.write_text(f"marker:{value.tag}")
        else:
            np.savetxt(path, np.asarray(value))
        return path

    def load(self, path: Path) -> object:
        text = path.read_text()
        return _Marker(text.removeprefix("marker:")) if text.startswith("marker:") else np.loadtxt(path)


PRIORITIES = [
    ("above the built-ins wins", 10, "text"),
    ("same priority, registered later, wins", 0, "text"),
    ("below the built-ins loses", -1, "numpy"),
]


@pytest.mark.parametrize(
    ("priority", "expected"), [p[1:] for p in PRIORITIES], ids=[p[0] for p in PRIORITIES]
)
def test_custom_serializer_wins_by_priority(priority: int, expected: str, tmp_path: Path) -> None:
    registry = default_registry()
    registry.register(_TextSerializer(), priority)
    saved = save_value("a", np.arange(3.0), tmp_path, "s", registry=registry)
    assert saved.serializer == expected
    np.testing.assert_array_equal(load_value(saved.path, registry=registry), np.arange(3.0))


def test_declining_serializer_hands_over_to_the_next(tmp_path: Path) -> None:
    registry = default_registry()
    registry.register(_TextSerializer(), 5)
    kept = save_value("m", _Marker("keep"), tmp_path, "s", registry=registry)
    handed = save_value("n", _Marker("decline"), tmp_path, "s", registry=registry)
    assert (kept.serializer, handed.serializer) == ("text", "pickle")
    loaded = load_value(handed, registry=registry)
    assert isinstance(loaded, _Marker)
    assert loaded.tag == "decline"


def test_register_replaces_by_name_and_guards_extensions() -> None:
    registry = default_registry()
    registry.register(_TextSerializer(), 1)
    registry.register(_TextSerializer(), 2)
    assert [s.name for s in registry.serializers()].count("text") == 1

    class Clash(_TextSerializer):
        name = "clash"

    with pytest.raises(InvalidInput, match=r"uses the extension '\.txt' of serializer 'text'"):
        registry.register(Clash())

    class Nameless(_TextSerializer):
        name = ""

    with pytest.raises(InvalidInput, match="needs a name"):
        registry.register(Nameless())


def test_default_order() -> None:
    assert [s.name for s in default_registry().serializers()] == ["numpy", "pandas", "torch", "pickle"]


LOAD_ERRORS = [
    ("unknown extension", "x.weird", None, NotFound, "no serializer is registered for the file 'x.weird'"),
    ("unknown serializer", "x.npy", "nope", NotFound, "no serializer named 'nope'"),
    ("missing file", "gone.npy", None, NotFound, "is missing"),
]


@pytest.mark.parametrize(
    ("filename", "serializer", "error", "message"),
    [e[1:] for e in LOAD_ERRORS],
    ids=[e[0] for e in LOAD_ERRORS],
)
def test_load_errors(
    filename: str, serializer: str | None, error: type[Exception], message: str, tmp_path: Path
) -> None:
    with pytest.raises(error, match=message):
        load_value(tmp_path / filename, serializer)


def test_corrupt_file_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle")
    with pytest.raises(SerializationError, match=r"cannot load 'bad.pkl' \(written by serializer 'pickle'\)"):
        load_value(tmp_path / "bad.pkl")


def test_name_must_be_a_variable_name(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a Python variable name"):
        save_value("../escape", 1, tmp_path, "s")


def test_importing_serializers_imports_no_heavy_library() -> None:
    code = (
        "import sys, kfjupyter.serializers\n"
        "heavy = {'numpy', 'pandas', 'pyarrow', 'torch', 'cloudpickle', 'tornado', 'jupyter_server',"
        " 'kubernetes', 'ipywidgets'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert result.stdout.strip() == "[]"
