"""The launcher shipped to cluster nodes: runs the function of a job from its cloudpickle payload.

This file is copied verbatim into the job's code ConfigMap (as ``launch.py``) and started by
``torchrun`` in every worker process, so it uses only the standard library and ``cloudpickle``
(which the image must provide) and never imports kfjupyter. The payload (``payload.b64`` next to
this file) holds ``(function, args, kwargs, source)`` exactly as the local backend's worker gets it.
A function that raises prints its traceback and the process exits with status 1.
"""

from __future__ import annotations

import base64
import linecache
import sys
import traceback
from pathlib import Path


def main() -> int:
    """Load the payload next to this file and call the function; return the exit status."""
    import cloudpickle

    payload = Path(__file__).with_name("payload.b64").read_bytes()
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
