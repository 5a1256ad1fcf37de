"""Files that travel inside a step's payload: packed at compile time, written out in the container.

Each file is zlib-compressed and base64-encoded into a :class:`~kfjupyter.kfp.payload.PackedFile`
(deterministic: the same files give the same bytes, so KFP's cache key moves only when one of them
changes). :func:`unpack` writes them under the step's working folder; a path that is absolute,
climbs out with ``..`` or whose content does not match its hash is refused, so a payload edited by
hand cannot write outside that folder.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from kfjupyter.compiler.shipping import ShippedFile
from kfjupyter.errors import InvalidInput
from kfjupyter.kfp.payload import PackedFile


def pack(files: Iterable[ShippedFile]) -> list[PackedFile]:
    """The payload entries of ``files`` (read now), sorted by path."""
    packed = []
    for f in sorted(files, key=lambda f: f.path):
        content = f.source.read_bytes()
        packed.append(
            PackedFile(
                path=f.path,
                sha256=hashlib.sha256(content).hexdigest(),
                data=base64.b64encode(zlib.compress(content, 9)).decode("ascii"),
            )
        )
    return packed


def safe_relative(path: str) -> PurePosixPath:
    """``path`` as a relative POSIX path that stays inside its folder; InvalidInput otherwise."""
    pure = PurePosixPath(path)
    plain = pure.as_posix() == path and not pure.is_absolute() and "\\" not in path and "\x00" not in path
    if not path or not plain or ".." in pure.parts:
        raise InvalidInput(f"the step payload names the file {path!r}, which is not a plain relative path.")
    return pure


def unpack(files: Iterable[PackedFile], folder: Path) -> list[Path]:
    """Write ``files`` under ``folder`` (created); return the paths written."""
    written = []
    for f in files:
        relative = safe_relative(f.path)
        try:
            content = zlib.decompress(base64.b64decode(f.data, validate=True))
        except (ValueError, zlib.error) as exc:
            raise InvalidInput(f"the step payload's file {f.path!r} cannot be decoded: {exc}") from None
        if hashlib.sha256(content).hexdigest() != f.sha256:
            raise InvalidInput(f"the step payload's file {f.path!r} does not match its SHA-256.")
        target = folder.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(target)
    return written
