"""The unchanged-input guard: a step must not change an input that the pipeline took as only read.

Steps run in separate processes on their own copies of their inputs, so a change the analysis did not
see (``helper(df)`` that changes ``df`` inside a library, a step declared pure that is not) would
stay in that step, and a later step reading the same value would compute something else than the
notebook. The step process fingerprints each such input right after loading it and again after the
step's code ran; a difference fails the step with a message naming the step, the variable and the fix.

Fingerprints are content hashes (sha256), computed in the step process itself: arrays from their
memory, pandas objects column by column (their block layout may change when they are only read),
other values from their pickle (protocol 5, so array buffers inside data frames and other
containers are hashed in place, not copied). Buffers up to :data:`FULL_BYTES` are hashed whole; larger
ones are sampled (:data:`SAMPLES` slices of :data:`SLICE_BYTES`, evenly spread, plus their size), which
keeps the check to a few milliseconds for a gigabyte array. NumPy is used only when already imported.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from collections.abc import Mapping, Sequence
from typing import Any

FULL_BYTES = 8 << 20
"""Buffers up to this size are hashed whole."""
SAMPLES = 256
SLICE_BYTES = 4096


def _update(digest: Any, view: memoryview) -> None:
    """Hash ``view`` (flat bytes) whole when small, else sampled."""
    size = len(view)
    digest.update(size.to_bytes(8, "little"))
    if size <= FULL_BYTES:
        digest.update(view)
        return
    span = size - SLICE_BYTES
    for i in range(SAMPLES):
        start = span * i // (SAMPLES - 1)
        digest.update(view[start : start + SLICE_BYTES])


def _array_fingerprint(array: Any, digest: Any) -> None:
    digest.update(repr((array.shape, array.dtype.str, array.strides)).encode())
    flat = array if array.flags.c_contiguous or array.flags.f_contiguous else None
    if flat is not None:
        try:
            _update(digest, memoryview(flat.reshape(-1, order="A").view("u1")).cast("B"))
            return
        except (TypeError, ValueError):
            pass
    numpy = sys.modules["numpy"]
    if array.size * array.itemsize <= FULL_BYTES:
        digest.update(array.tobytes())
    else:  # non-contiguous and large: evenly spread elements
        picks = numpy.linspace(0, array.size - 1, SAMPLES * 16).astype(numpy.int64)
        digest.update(array.reshape(-1)[picks].tobytes() if array.ndim else array.tobytes())


def _column_fingerprint(series: Any, digest: Any) -> bool:
    """Hash one pandas column's values; False when they cannot be pickled."""
    numpy = sys.modules["numpy"]
    values = series.array
    data = getattr(values, "_ndarray", None)  # NumPy-backed extension arrays hold their data here
    if isinstance(values, numpy.ndarray):
        data = values
    if isinstance(data, numpy.ndarray) and not data.dtype.hasobject:
        digest.update(str(series.dtype).encode())
        _array_fingerprint(data, digest)
        return True
    return _pickled(values, digest)


def _frame_fingerprint(value: Any, digest: Any) -> bool:
    """Hash a DataFrame/Series by content (labels, dtypes, values), not by its block layout.

    Pandas may reorganise a frame's internal blocks when it is only read (``df.values``, ``df.T``),
    which changes its pickle but not its content.
    """
    pandas = sys.modules["pandas"]
    if not _pickled(value.index, digest):
        return False
    if isinstance(value, pandas.Series):
        digest.update(repr(value.name).encode())
        return _column_fingerprint(value, digest)
    if not _pickled(value.columns, digest):
        return False
    return all(_column_fingerprint(value.iloc[:, i], digest) for i in range(value.shape[1]))


def _pickled(value: object, digest: Any) -> bool:
    """Hash ``value``'s pickle (protocol 5; buffers hashed in place, sampled when large)."""
    buffers: list[pickle.PickleBuffer] = []
    try:
        data = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    except Exception:
        buffers = []
        try:
            import cloudpickle

            data = cloudpickle.dumps(value, protocol=5, buffer_callback=buffers.append)
        except Exception:
            return False
    digest.update(data)
    for buffer in buffers:
        try:
            _update(digest, buffer.raw())
        except BufferError:  # not contiguous: hash a copy
            digest.update(bytes(buffer))
    return True


def fingerprint(value: object) -> str | None:
    """A content hash of ``value`` (sampled for large buffers); None when it cannot be computed."""
    digest = hashlib.sha256()
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray) and not value.dtype.hasobject:
        _array_fingerprint(value, digest)
        return digest.hexdigest()
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(value, (pandas.DataFrame, pandas.Series)):
        return digest.hexdigest() if _frame_fingerprint(value, digest) else None
    return digest.hexdigest() if _pickled(value, digest) else None


def relink(namespace: dict[str, Any], links: Mapping[str, Sequence[str]]) -> None:
    """Make containers hold the loaded objects they held in the notebook (matched by content).

    ``combine = [a, b]`` made in one step and saved with ``a`` and ``b`` arrives as three separate
    copies; each element of ``combine`` whose fingerprint equals that of a linked name, taken in
    order, is replaced by that name's object, so a change through one is seen through the other.
    """
    for name, members in links.items():
        container = namespace.get(name)
        if isinstance(container, (list, tuple)):
            keys: list[Any] = list(range(len(container)))
        elif isinstance(container, dict):
            keys = list(container)
        else:
            continue
        items = list(container) if isinstance(container, tuple) else container
        prints = {key: fingerprint(container[key]) for key in keys}
        wanted = {m: fingerprint(namespace[m]) for m in members if m and m in namespace}
        used: set[Any] = set()
        left: list[str] = []
        for position, member in enumerate(members):  # first where the display put it: [a, b]
            key = keys[position] if isinstance(container, (list, tuple)) and position < len(keys) else None
            if (
                key is not None
                and member in wanted
                and wanted[member] is not None
                and prints[key] == wanted[member]
            ):
                used.add(key)
                items[key] = namespace[member]
            elif member in wanted:
                left.append(member)
        for member in left:  # moved since: the first equal element not taken
            key = next(
                (
                    k
                    for k in keys
                    if k not in used and wanted[member] is not None and prints[k] == wanted[member]
                ),
                None,
            )
            if key is not None:
                used.add(key)
                items[key] = namespace[member]
        if isinstance(container, tuple):
            namespace[name] = type(container)(items) if type(container) is tuple else container


class InputGuard:
    """Fingerprints a step's unchanged-assumed inputs after loading and checks them after the step."""

    def __init__(self, step: str, guarded: Mapping[str, Sequence[str]]) -> None:
        """``guarded`` maps each input to check to ``[its producer, a later step reading it]``."""
        self.step = step
        self.guarded = {
            name: (str(pair[0]), str(pair[1])) for name, pair in guarded.items() if len(pair) == 2
        }
        self._before: dict[str, tuple[object, str]] = {}

    def watch(self, name: str, value: object) -> None:
        """Remember ``value`` (the object loaded for input ``name``) and its fingerprint, if guarded."""
        if name not in self.guarded:
            return
        before = fingerprint(value)
        if before is not None:
            self._before[name] = (value, before)

    def problem(self) -> str | None:
        """A message naming each guarded input the step changed, or None when none changed."""
        changed = [name for name, (value, before) in self._before.items() if fingerprint(value) != before]
        if not changed:
            return None
        name = changed[0]
        producer, reader = self.guarded[name]
        others = f" (and {', '.join(repr(n) for n in changed[1:])})" if changed[1:] else ""
        return (
            f"step '{self.step}' changed its input '{name}'{others} in place, but the pipeline took it as only "
            f"read: step '{reader}' reads '{name}' as made by step '{producer}' and would not see the change, "
            "so its result would differ from running the notebook top to bottom. Fix: change a copy "
            f"('{name} = {name}.copy()' or copy.deepcopy first), or change '{name}' in the step's own code where "
            f"the analysis sees it (e.g. '{name}[...] = ...', '{name}.attr = ...', a method call on '{name}'); "
            "a step declared pure must not change its inputs."
        )
