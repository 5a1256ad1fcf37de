"""``GET runs/{id}/artifacts/{step}/{name}/download``: stream one artifact file with its media type.

The file is found through the store's record (never through a path from the request), resolved
under the store home and must lie inside the run's own directory once symlinks are followed.
Only a few passive media types are shown inline; everything else downloads as an attachment, and
a sandboxing Content-Security-Policy keeps an HTML or SVG artifact from running script on the
server's origin. ``?attachment=1`` (what the Lab's download links ask for) makes every type an
attachment, so the browser saves the file instead of showing it.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

from kfjupyter.errors import Forbidden, NotFound
from kfjupyter.server.handlers import KfJupyterHandler, api
from kfjupyter.server.requests import RUN_ID, STEP, opened_store
from kfjupyter.server.run_files import inside_run_dir
from kfjupyter.store import RunStore

NAME = r"(?P<name>[^/]+)"
#: Media types a browser may show inline (passive: no script, no active content).
INLINE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "text/plain", "application/json"}
)
_CHUNK = 1 << 16
_MIME_PART = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_MEDIA_TYPE = re.compile(rf"{_MIME_PART}/{_MIME_PART}(?:; ?{_MIME_PART}={_MIME_PART})*")


def artifact_file(store: RunStore, run_id: str, step: str, name: str) -> tuple[Path, str]:
    """Return the real path and media type of one artifact, confined to the run's directory.

    Raises ``NotFound`` for an unknown run, artifact or a missing file, ``InvalidInput`` for a
    stored path that is not store-relative and ``Forbidden`` for one that leaves the run's
    directory (``..`` or a symlink pointing elsewhere).
    """
    store.get_run(run_id)
    record = store.get_artifact(run_id, step, name)
    path = store.resolve(record.path)
    real = inside_run_dir(store, run_id, path)
    if real is None:
        raise Forbidden(f"artifact {name!r} of step {step!r} is outside the run's directory")
    if not real.exists():
        raise NotFound(f"the file of artifact {name!r} of step {step!r} is gone")
    if not real.is_file():
        raise NotFound(f"artifact {name!r} of step {step!r} is not a file")
    return real, safe_media_type(record.media_type)


def open_checked(path: Path, step: str, name: str) -> BinaryIO:
    """Open the checked ``path`` for reading without following a symlink swapped in since the check.

    ``NotFound`` when it is gone or is no longer a regular file (a FIFO never blocks the server).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:  # removed (the run was deleted), replaced by a symlink or made unreadable
        raise NotFound(f"the file of artifact {name!r} of step {step!r} is gone") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotFound(f"artifact {name!r} of step {step!r} is not a file")
    return os.fdopen(fd, "rb")


def safe_media_type(media_type: str) -> str:
    """The recorded media type if it is a plain ``type/subtype[; name=value]``, else a binary download.

    The record comes from the run store, which step code can write: a value with line breaks or
    quotes must never reach a response header.
    """
    return media_type if _MEDIA_TYPE.fullmatch(media_type) else "application/octet-stream"


def disposition(media_type: str, filename: str, *, attachment: bool = False) -> str:
    """``inline`` for passive media types, ``attachment`` for the rest (or when asked); with an ASCII file name."""
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename) or "artifact"
    inline = not attachment and media_type.split(";")[0] in INLINE_TYPES
    kind = "inline" if inline else "attachment"
    return f'{kind}; filename="{safe}"'


class ArtifactDownloadHandler(KfJupyterHandler):
    """``GET /kfjupyter/api/runs/{id}/artifacts/{step}/{name}/download``: the artifact's bytes."""

    @property
    def content_security_policy(self) -> str:
        """The API's policy plus ``sandbox``: an artifact never runs script on this origin."""
        return f"{super().content_security_policy}; sandbox"

    @api("read")
    async def get(self, run_id: str, step: str, name: str) -> None:
        """Stream the file in chunks with its recorded media type (``?attachment=1``: as a download)."""
        attachment = self.get_query_argument("attachment", "") not in ("", "0", "false")
        with opened_store() as store:
            path, media_type = artifact_file(store, run_id, step, name)
        with open_checked(path, step, name) as fh:
            self.set_header("Content-Type", media_type)
            self.set_header("Content-Disposition", disposition(media_type, path.name, attachment=attachment))
            self.set_header("Cache-Control", "private, max-age=60")
            self.set_header("Content-Length", str(os.fstat(fh.fileno()).st_size))
            while chunk := fh.read(_CHUNK):
                self.write(chunk)
                await self.flush()
        await self.finish(set_content_type=media_type)


def artifact_routes(api_prefix: str) -> list[tuple[str, type[KfJupyterHandler]]]:
    """The routes of this module under ``api_prefix`` (e.g. ``/kfjupyter/api``)."""
    return [(rf"{api_prefix}/runs/{RUN_ID}/artifacts/{STEP}/{NAME}/download/?", ArtifactDownloadHandler)]
