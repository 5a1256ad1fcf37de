"""The launcher shipped to cluster nodes: runs the function of a job from its cloudpickle payload.

This file is copied verbatim into the job's code ConfigMap (as ``launch.py``) and started by
``torchrun`` in every worker process, so it uses only the standard library and ``cloudpickle``
(which the image must provide) and never imports kfjupyter. The payload (``payload.b64`` next to
this file) holds ``(function, args, kwargs, source)`` exactly as the local backend's worker gets it.
A function that raises prints its traceback and the process exits with status 1.

When files travel with the job (``files.json`` lists them, each next to this file), they are
copied into a fresh writable working folder, which becomes the current directory and the head of
``sys.path``, before the function runs; ``launch.py --script NAME ARGS...`` then runs the script
``NAME`` next to this file as ``__main__`` with those arguments instead of a function.
"""

from __future__ import annotations

import base64
import json
import linecache
import os
import runpy
import shutil
import sys
import tempfile
import traceback
from pathlib import Path, PurePosixPath


def place_files(code_dir: Path) -> Path | None:
    """Copy the shipped files into a new working folder, enter it; None when nothing was shipped."""
    listing = code_dir / "files.json"
    if not listing.is_file():
        return None
    work = Path(tempfile.mkdtemp(prefix="job-work-"))
    for name in json.loads(listing.read_text(encoding="utf-8")):
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise SystemExit(f"refusing to place {name!r}: not a plain relative path")
        target = work.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(code_dir.joinpath(*relative.parts), target)
    os.chdir(work)
    sys.path.insert(0, str(work))
    return work


def run_script(code_dir: Path, name: str, args: list[str]) -> int:
    """Run the script ``name`` next to this file as ``__main__`` with ``args``."""
    script = code_dir / name
    sys.argv = [str(script), *args]
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Place the shipped files, then call the function of the payload (or run the script)."""
    code_dir = Path(__file__).resolve().parent
    place_files(code_dir)
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["--script"] and len(given) >= 2:
        return run_script(code_dir, given[1], given[2:])
    import cloudpickle

    payload = (code_dir / "payload.b64").read_bytes()
    function, args, kwargs, source = cloudpickle.loads(base64.b64decode(payload))
    if source is not None:
        filename, lines = source
        linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    try:
        function(*args, **kwargs)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
