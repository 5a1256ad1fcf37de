"""Paths the server is given: confined to its root directory, hidden files as Jupyter hides them.

Every notebook, script or output path in a request is relative to the server's root; these
functions turn it into an absolute, symlink-free path inside the root or refuse it with an error
naming the field (400 for a bad path, 403 outside the root or hidden, 404 when missing).
"""

from __future__ import annotations

import os
from pathlib import Path

from jupyter_core.paths import is_hidden

from kfjupyter.errors import Forbidden, InvalidInput, NotFound
from kfjupyter.notebook.reader import read_notebook


def confine(root_dir: str | Path, relative: str, field: str = "path", *, allow_hidden: bool = False) -> Path:
    """Return the absolute path of notebook ``relative`` inside ``root_dir``.

    Raises ``InvalidInput`` for an absolute or non-notebook path and for a file that is not a
    Python nbformat notebook (bad JSON, no cells...), ``Forbidden`` for one that leaves the root
    (``..``, symlinks) or is hidden (see :func:`confine_file`) and ``NotFound`` when there is no
    such file.
    """
    notebook = confine_file(
        root_dir, relative, suffixes=(".ipynb",), kind="notebook", field=field, allow_hidden=allow_hidden
    )
    check_notebook(root_dir, notebook, field)
    return notebook


def shown(path: str, most: int = 120) -> str:
    """``path`` quoted for a message, shortened in the middle when it is very long."""
    if len(path) > most:
        path = f"{path[: most // 2]}...{path[-most // 2 :]}"
    return repr(path)


def confine_file(
    root_dir: str | Path,
    relative: str,
    *,
    suffixes: tuple[str, ...],
    kind: str,
    field: str = "path",
    must_exist: bool = True,
    allow_hidden: bool = False,
) -> Path:
    """Return the absolute, symlink-free path of ``relative`` inside ``root_dir``.

    ``relative`` must end with one of ``suffixes`` (``kind`` names such a file in messages, which
    start with ``field``). Raises ``InvalidInput`` for an absolute path, a backslash separator, a NUL, a
    wrong suffix, a directory or a path the file system cannot use (too long, a symlink loop),
    ``Forbidden`` for a path that leaves the root (``..``, symlinks) or, unless ``allow_hidden``
    (the server's ``ContentsManager.allow_hidden``), that is hidden as Jupyter's file API hides
    files (a name starting with '.', as given or after following symlinks), and, with
    ``must_exist``, ``NotFound`` when there is no such file.
    """
    name = shown(relative)
    if relative.startswith(("/", "\\")) or Path(relative).is_absolute() or "\x00" in relative:
        raise InvalidInput(f"{field}: {name} must be relative to the server's root directory")
    if "\\" in relative:
        raise InvalidInput(f"{field}: {name} uses '\\'; separate folders with '/'")
    if not relative.lower().endswith(suffixes):
        raise InvalidInput(f"{field}: {name} is not a {kind} ({', '.join(suffixes)})")
    try:
        root = Path(root_dir).expanduser().resolve()
        path = (root / relative).resolve()
        outside = not path.is_relative_to(root)
        is_dir, is_file = (False, False) if outside else (path.is_dir(), path.is_file())
    except RuntimeError:  # Python 3.11 resolve(): "Symlink loop from ..."
        raise InvalidInput(f"{field}: {name} is a loop of symbolic links") from None
    except ValueError:  # UnicodeEncodeError: a lone surrogate cannot be a file name
        raise InvalidInput(f"{field}: {name} is not valid Unicode text") from None
    except OSError as error:  # ENAMETOOLONG, ELOOP, EACCES...
        reason = error.strerror or str(error)
        raise InvalidInput(f"{field}: {name} cannot be used ({reason}); check the path") from None
    if outside:
        raise Forbidden(f"{field}: {name} is outside the server's root directory")
    if not allow_hidden and _hidden(root, relative, path):
        raise Forbidden(
            f"{field}: {name} is hidden (a name starting with '.'), and this server hides such files "
            "(ContentsManager.allow_hidden is off)"
        )
    if is_dir:
        raise InvalidInput(f"{field}: {name} is a directory, not a {kind}")
    if must_exist and not is_file:
        raise NotFound(f"{field}: no {kind} at {name}")
    return path


def _hidden(root: Path, relative: str, path: Path) -> bool:
    """Whether Jupyter's file API hides ``relative`` (as given, or ``path`` it leads to) under ``root``."""
    given = os.path.relpath(os.path.normpath(root / relative), root)
    if any(part.startswith(".") for part in (*Path(given).parts, *path.relative_to(root).parts)):
        return True
    try:  # the file system's own hidden flags, where it has them
        return is_hidden(str(path), str(root))
    except OSError:  # not there yet, or not usable: the checks that follow say why
        return False


def check_notebook(root_dir: str | Path, notebook: Path, field: str = "path") -> None:
    """Read ``notebook`` once; ``InvalidInput`` naming ``field`` when it is not a Python nbformat notebook."""
    try:
        read_notebook(notebook)
    except InvalidInput as error:
        message = error.message.replace(str(notebook), relative_to_root(root_dir, notebook))
        raise InvalidInput(f"{field}: {message}") from None


def relative_to_root(root_dir: str | Path, path: str | Path) -> str:
    """``path`` relative to ``root_dir`` with '/' separators.

    ``Forbidden`` when it lies outside, ``NotFound`` when it cannot be resolved (a symlink loop).
    """
    root = Path(root_dir).expanduser().resolve()
    try:
        real = Path(path).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop (3.11) or a name the file system refuses
        raise NotFound(
            f"{path} cannot be found: it is a loop of symbolic links or an unusable name"
        ) from None
    if not real.is_relative_to(root):
        raise Forbidden(f"{path} is outside the server's root directory")
    return real.relative_to(root).as_posix()
