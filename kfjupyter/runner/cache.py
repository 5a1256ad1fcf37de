"""Cache keys: a content hash of everything that decides a step's outputs.

A step's key covers its code, the set-up code it runs, the values of the parameters it reads,
the content hashes of its inputs, its kind and outputs, and a fingerprint of the environment
(Python, kfjupyter, and the installed distributions). Same key, same outputs: the step is not run
again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from kfjupyter._version import __version__
from kfjupyter.compiler.ir import JsonValue


@functools.lru_cache(maxsize=1)
def environment_fingerprint() -> str:
    """Hash of the interpreter, kfjupyter's version and the installed distributions.

    The interpreter counts by its version and its environment (``sys.prefix``), not by the name it
    was started by: ``python`` and ``python3`` of one virtual environment (a kernel and the
    ``kfjupyter`` command, say) are the same environment.
    """
    digest = hashlib.sha256()
    digest.update(f"{sys.version}|{sys.prefix}|{__version__}".encode())
    for entry in sys.path:
        if not entry.endswith("site-packages"):
            continue
        try:
            names = sorted(
                p.name for p in Path(entry).iterdir() if p.name.endswith((".dist-info", ".egg-info"))
            )
        except OSError:
            continue
        digest.update("\n".join(names).encode())
    return digest.hexdigest()


def step_cache_key(
    *,
    kind: str,
    setup: Sequence[str],
    code: Sequence[str],
    parameters: Mapping[str, JsonValue],
    inputs: Mapping[str, str],
    outputs: Sequence[str],
    declared: Mapping[str, JsonValue] | None = None,
) -> str:
    """Key of one step execution; ``inputs`` maps each input name to its content hash.

    ``declared`` holds the files and environment variables the step declares it depends on.
    """
    material = {
        "kind": kind,
        "setup": list(setup),
        "code": list(code),
        "parameters": {k: parameters[k] for k in sorted(parameters)},
        "inputs": {k: inputs[k] for k in sorted(inputs)},
        "outputs": sorted(outputs),
        "env": environment_fingerprint(),
    }
    if declared:
        material["declared"] = dict(declared)
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()
