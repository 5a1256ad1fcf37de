"""One worker process of a local function job: ``python -m kfjupyter.training.worker PAYLOAD``.

The payload is a cloudpickle file holding ``(function, args, kwargs, source)``; arguments arrive
exactly as they were given to :func:`kfjupyter.train`. ``source`` is the notebook cell's file name
and lines, which cloudpickle drops, so tracebacks show the function's code again. The kernel's
``sys.path`` (from the launch plan next to the payload) is restored first, so functions from the
notebook's own modules unpickle. A function that raises prints its traceback on stderr and the
process exits with status 1.
"""

from __future__ import annotations

import linecache
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import CodeType

from kfjupyter.training.launch import read_plan


def _with_filename(code: CodeType, filename: str) -> CodeType:
    consts = tuple(_with_filename(c, filename) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _restore_source(function: Callable[..., object], filename: str, lines: list[str]) -> None:
    """Give a notebook function back its cell's file name and lines, so tracebacks show the code."""
    linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    code = getattr(function, "__code__", None)
    if isinstance(code, CodeType):
        function.__code__ = _with_filename(code, filename)


def main(argv: list[str]) -> int:
    """Run the payload named by ``argv[0]``; return the exit status."""
    payload = Path(argv[0])
    for entry in reversed(read_plan(payload.parent)["sys_path"]):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    import cloudpickle

    try:
        function, args, kwargs, source = cloudpickle.loads(payload.read_bytes())
        if source is not None:
            _restore_source(function, *source)
        function(*args, **kwargs)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException as exc:
        frames = traceback.extract_tb(exc.__traceback__)[1:]
        lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
        lines += traceback.format_exception_only(type(exc), exc)
        sys.stderr.write("".join(lines))
        sys.stderr.flush()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
