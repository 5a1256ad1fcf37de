"""The serializer registry: picks a serializer per value, saves atomically, loads by record or path.

Serializers are tried by descending priority (later registrations first among equals); the first
that handles a value and does not decline it writes the file. Built-ins: NumPy, pandas and torch
at priority 0, the cloudpickle fallback at -100, so a custom serializer registered at priority 0
or more wins over them. Files are written into a private temporary folder next to the target and
moved into place once complete and hashed, so a killed step never leaves a half file that a
resumed run could take for an output. The extension tells a loader which serializer wrote a file.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kfjupyter.errors import InvalidInput, NotFound
from kfjupyter.serializers.arrays import NumpySerializer
from kfjupyter.serializers.base import (
    DeclinedError,
    Preview,
    SavedValue,
    SerializationError,
    Serializer,
    type_name,
)
from kfjupyter.serializers.frames import PandasSerializer
from kfjupyter.serializers.objects import PickleSerializer
from kfjupyter.serializers.preview import generic_preview
from kfjupyter.serializers.tensors import TorchSerializer

FALLBACK_PRIORITY = -100
"""Priority of the cloudpickle fallback: below every serializer registered with the default."""


@dataclass(frozen=True)
class _Entry:
    serializer: Serializer
    priority: int
    order: int


class Registry:
    """An ordered set of serializers, and saving/loading values through them."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._counter = itertools.count()

    def register(self, serializer: Serializer, priority: int = 0) -> None:
        """Add ``serializer``; one with the same name is replaced. Higher priority is tried first."""
        if not serializer.name or not serializer.extension.startswith("."):
            raise InvalidInput(
                f"serializer {type(serializer).__name__} needs a name and an extension starting with '.'"
            )
        for entry in self._entries:
            other = entry.serializer
            if other.name != serializer.name and other.extension == serializer.extension:
                raise InvalidInput(
                    f"serializer {serializer.name!r} uses the extension {serializer.extension!r} "
                    f"of serializer {other.name!r}: pick another extension"
                )
        self._entries = [e for e in self._entries if e.serializer.name != serializer.name]
        self._entries.append(_Entry(serializer, priority, next(self._counter)))
        self._entries.sort(key=lambda e: (-e.priority, -e.order))

    def serializers(self) -> list[Serializer]:
        """Return the registered serializers in the order they are tried."""
        return [entry.serializer for entry in self._entries]

    def candidates(self, value: object) -> list[Serializer]:
        """Return the serializers that handle ``value``, in the order they are tried."""
        return [s for s in self.serializers() if s.handles(value)]

    def get(self, name: str) -> Serializer:
        """Return the serializer called ``name``."""
        for serializer in self.serializers():
            if serializer.name == name:
                return serializer
        raise NotFound(f"no serializer named {name!r} is registered; register it before loading")

    def for_path(self, path: Path) -> Serializer:
        """Return the serializer whose extension ``path`` has (the longest one that matches)."""
        matches = [s for s in self.serializers() if path.name.endswith(s.extension)]
        if not matches:
            raise NotFound(f"no serializer is registered for the file {path.name!r}")
        return max(matches, key=lambda s: len(s.extension))

    def preview(self, value: object) -> Preview:
        """Return the preview of the first serializer that handles ``value``, whichever one stores it.

        A DataFrame that pickle had to store still gets the DataFrame preview.
        """
        for serializer in self.candidates(value):
            return _safe_preview(serializer, value)
        return generic_preview(value)

    def save(self, name: str, value: object, directory: Path, step: str) -> SavedValue:
        """Write variable ``name`` of step ``step`` into ``directory``; see :func:`save_value`."""
        if not name.isidentifier():
            raise InvalidInput(f"cannot save {name!r} of step {step!r}: not a Python variable name")
        directory.mkdir(parents=True, exist_ok=True)
        declined: list[str] = []
        for serializer in self.candidates(value):
            scratch = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=directory))
            try:
                written, digest = serializer.dump_hashed(value, scratch, name)
                if written.parent != scratch:
                    raise InvalidInput(f"serializer {serializer.name!r} wrote outside its folder: {written}")
                final = directory / written.name
                written.replace(final)
            except DeclinedError as exc:
                declined.append(f"{serializer.name}: {exc}")
                continue
            except (OSError, InvalidInput):
                raise
            except Exception as exc:  # user objects can fail to pickle in any way
                raise _unsaveable(name, value, step, f"{type(exc).__name__}: {exc}") from exc
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            self._remove_stale(directory, name, keep=final)
            return SavedValue(
                name=name,
                path=final,
                serializer=serializer.name,
                size=final.stat().st_size,
                sha256=digest,
                preview=self.preview(value),
            )
        raise _unsaveable(name, value, step, "; ".join(declined) or "no serializer handles it")

    def load(self, saved: SavedValue | Path | str, serializer: str | None = None) -> object:
        """Read a saved value back; see :func:`load_value`."""
        if isinstance(saved, SavedValue):
            path, serializer = saved.path, serializer or saved.serializer
        else:
            path = Path(saved)
        chosen = self.get(serializer) if serializer else self.for_path(path)
        if not path.is_file():
            raise NotFound(f"the saved value {path} is missing: run the step that produces it again")
        try:
            return chosen.load(path)
        except Exception as exc:  # a corrupt file or a class the loading process cannot import
            raise SerializationError(
                f"cannot load {path.name!r} (written by serializer {chosen.name!r}): "
                f"{type(exc).__name__}: {exc}. Import or install what it needs in the step that loads it, "
                "or run the step that produces it again",
                detail=repr(exc),
            ) from exc

    def _remove_stale(self, directory: Path, name: str, keep: Path) -> None:
        """Delete files an earlier save of ``name`` left under another serializer's extension."""
        for serializer in self.serializers():
            stale = directory / f"{name}{serializer.extension}"
            if stale != keep:
                stale.unlink(missing_ok=True)


def _safe_preview(serializer: Serializer, value: object) -> Preview:
    try:
        return serializer.preview(value)
    except Exception as exc:  # previews are informational; never fail a save for one
        return {"type": type_name(value), "error": f"preview failed: {type(exc).__name__}"}


def _unsaveable(name: str, value: object, step: str, why: str) -> SerializationError:
    return SerializationError(
        f"step {step!r} produces {name!r} ({type_name(value)}) which cannot be saved for later steps "
        f"({why}): recreate it in the step that uses it, or keep it in an imports/functions cell",
        detail=why,
    )


def default_registry() -> Registry:
    """Return a new registry with the built-in serializers: numpy, pandas, torch and pickle."""
    registry = Registry()
    registry.register(PickleSerializer(), FALLBACK_PRIORITY)
    registry.register(TorchSerializer())
    registry.register(PandasSerializer())
    registry.register(NumpySerializer())
    return registry


REGISTRY = default_registry()
"""The process-wide registry that :func:`register`, :func:`save_value` and :func:`load_value` use."""


def register(serializer: Serializer, priority: int = 0) -> None:
    """Add ``serializer`` to the process-wide registry (see :meth:`Registry.register`)."""
    REGISTRY.register(serializer, priority)


def save_value(
    name: str, value: object, directory: Path, step: str, *, registry: Registry | None = None
) -> SavedValue:
    """Save variable ``name`` that step ``step`` produced into ``directory``, as one file.

    Returns where it went, which serializer wrote it, its size, sha256 and a preview. Raises
    :class:`SerializationError` naming the variable, its type and the step when no serializer can
    store it (an open connection, a lock, a generator...).
    """
    return (registry or REGISTRY).save(name, value, directory, step)


def load_value(
    saved: SavedValue | Path | str, serializer: str | None = None, *, registry: Registry | None = None
) -> object:
    """Load a value from its :class:`SavedValue`, or from a path (serializer named or by extension)."""
    return (registry or REGISTRY).load(saved, serializer)


def preview_value(value: object, *, registry: Registry | None = None) -> Preview:
    """Return the preview of ``value`` that saving it would record."""
    return (registry or REGISTRY).preview(value)
