"""NumPy arrays as ``.npy`` files, loaded memory-mapped without a copy.

Plain arrays of any non-object dtype (0-d, empty, Fortran-ordered, structured) are written with
the ``.npy`` header from :mod:`numpy.lib.format` followed by the raw data in 1 MiB slices, hashed
from memory while written (:func:`kfjupyter.serializers.hashing.write_hashed`). Loading maps the file
copy-on-write (``mmap_mode="c"``): nothing is read until used, and a step that changes the array
changes its own memory, never the file another step or the cache relies on. Object arrays and
subclasses (masked arrays, matrices) are left to pickle. NumPy is imported only when used.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfjupyter.serializers.base import Preview, Serializer, type_name
from kfjupyter.serializers.hashing import sha256_file, write_hashed

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class NumpySerializer(Serializer):
    """``numpy.ndarray`` (and ``numpy.memmap``) without Python objects inside."""

    name = "numpy"
    extension = ".npy"

    def handles(self, value: object) -> bool:
        """Return whether ``value`` is a plain ndarray/memmap whose dtype holds no objects."""
        numpy = sys.modules.get("numpy")
        if numpy is None or type(value) not in (numpy.ndarray, numpy.memmap):
            return False
        return not bool(getattr(value, "dtype").hasobject)  # noqa: B009 - typed as object here

    def dump(self, value: object, directory: Path, stem: str) -> Path:
        """Write ``value`` to ``<stem>.npy``."""
        return self.dump_hashed(value, directory, stem)[0]

    def dump_hashed(self, value: object, directory: Path, stem: str) -> tuple[Path, str]:
        """Write ``value`` to ``<stem>.npy`` and hash it in the same pass."""
        import numpy as np

        array: npt.NDArray[Any] = np.asarray(value)
        path = directory / f"{stem}{self.extension}"
        header = _header(array)
        data = _raw_bytes(array)
        if header is None or data is None:
            np.save(path, array, allow_pickle=False)
            return path, sha256_file(path)
        return path, write_hashed(path, [header, data])

    def load(self, path: Path) -> object:
        """Map the file copy-on-write: no read now, no change to the file ever."""
        import numpy as np

        return np.load(path, mmap_mode="c", allow_pickle=False)

    def preview(self, value: object) -> Preview:
        """Return type, shape, dtype and size in bytes."""
        import numpy as np

        array: npt.NDArray[Any] = np.asarray(value)
        return {
            "type": type_name(value),
            "shape": list(array.shape),
            "dtype": str(array.dtype),
            "nbytes": int(array.nbytes),
        }


def _header(array: np.ndarray[Any, Any]) -> bytes | None:
    """Return the version 1.0 ``.npy`` header, or None when the array needs a newer version."""
    from numpy.lib import format as npy_format

    buffer = io.BytesIO()
    try:
        npy_format.write_array_header_1_0(buffer, npy_format.header_data_from_array_1_0(array))
    except ValueError:  # header too long for 1.0 (huge structured dtypes): np.save picks the version
        return None
    return buffer.getvalue()


def _raw_bytes(array: np.ndarray[Any, Any]) -> memoryview | None:
    """Return the array's data in file order as a flat byte view, or None if not contiguous."""
    import numpy as np

    if array.flags.c_contiguous:
        flat = array
    elif array.flags.f_contiguous:
        flat = array.T  # the header says fortran_order; the data goes in memory order
    else:
        return None
    try:
        return flat.reshape(-1).view(np.uint8).data
    except (TypeError, ValueError):  # zero-size items and other odd dtypes: let np.save do it
        return None
