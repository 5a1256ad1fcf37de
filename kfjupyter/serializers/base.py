"""The serializer interface, the saved-value record and the errors of value serialization.

A :class:`Serializer` stores one kind of Python value in one file and reads it back. The registry
(:mod:`kfjupyter.serializers.registry`) picks one per value; :class:`SavedValue` records what was
written so a later step, or a resumed run, can load it and show a preview without loading it.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from kfjupyter.errors import InvalidInput, KfJupyterError

JsonValue = Union[None, bool, int, float, str, list["JsonValue"], dict[str, "JsonValue"]]
Preview = dict[str, JsonValue]


class SerializationError(InvalidInput):
    """A step produced a value that cannot be saved for later steps, or a saved value cannot be read."""

    reason = "unserializable"


class DeclinedError(KfJupyterError):
    """Raised by :meth:`Serializer.dump` when it cannot store this particular value.

    The registry then tries the next serializer that handles the value (e.g. a DataFrame with
    mixed-type object columns goes from Arrow to pickle). It never reaches the user.
    """

    reason = "declined"


def type_name(value: object) -> str:
    """Return the qualified type name of ``value`` as users know it (``sqlite3.Connection``, ``dict``)."""
    cls = type(value)
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", "__main__") else f"{module}.{cls.__qualname__}"


class Serializer(abc.ABC):
    """Stores values of one kind in files with one extension, and loads them back.

    ``handles`` must be cheap and must not import heavy libraries: check ``sys.modules`` or the
    value's type module. ``name`` and ``extension`` are unique within a registry; a loader picks
    the serializer from either.
    """

    name: str = ""
    extension: str = ""

    @abc.abstractmethod
    def handles(self, value: object) -> bool:
        """Return whether this serializer can store ``value``."""

    @abc.abstractmethod
    def dump(self, value: object, directory: Path, stem: str) -> Path:
        """Write ``value`` to ``directory / (stem + extension)`` and return that path."""

    @abc.abstractmethod
    def load(self, path: Path) -> object:
        """Read back a value written by :meth:`dump`."""

    def preview(self, value: object) -> Preview:
        """Return a small JSON summary of ``value`` for the UI (type, repr truncated, length)."""
        from kfjupyter.serializers.preview import generic_preview

        return generic_preview(value)

    def dump_hashed(self, value: object, directory: Path, stem: str) -> tuple[Path, str]:
        """Write ``value`` like :meth:`dump` and return the path and the file's sha256 (hex).

        Override it to hash while writing instead of reading the file again.
        """
        from kfjupyter.serializers.hashing import sha256_file

        path = self.dump(value, directory, stem)
        return path, sha256_file(path)


@dataclass(frozen=True)
class SavedValue:
    """One value a step saved: where, by which serializer, how big, its content hash and a preview."""

    name: str
    path: Path
    serializer: str
    size: int
    sha256: str
    preview: Preview

    def to_json(self) -> dict[str, JsonValue]:
        """Return the record as JSON-ready data (paths as strings)."""
        return {
            "name": self.name,
            "path": str(self.path),
            "serializer": self.serializer,
            "size": self.size,
            "sha256": self.sha256,
            "preview": dict(self.preview),
        }

    @classmethod
    def from_json(cls, data: dict[str, JsonValue]) -> SavedValue:
        """Rebuild a record written by :meth:`to_json`."""
        try:
            name, path, serializer = data["name"], data["path"], data["serializer"]
            size, sha256, preview = data["size"], data["sha256"], data["preview"]
        except KeyError as exc:
            raise InvalidInput(f"saved-value record lacks the field {exc.args[0]!r}") from exc
        if not (
            isinstance(name, str)
            and isinstance(path, str)
            and isinstance(serializer, str)
            and isinstance(size, int)
            and isinstance(sha256, str)
            and isinstance(preview, dict)
        ):
            raise InvalidInput(f"saved-value record has fields of the wrong type: {sorted(data)}")
        return cls(name, Path(path), serializer, size, sha256, preview)
