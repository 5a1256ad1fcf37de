"""kfp.local (SubprocessRunner, use_venv=False) on pipelines equivalent to bench/pipelines.py.

No `from __future__ import annotations` here: kfp reads the real annotation objects.

Usage: kfp_local.py CASE WORKDIR; prints one JSON line with the timings.
"""

import json
import os
import sys
import time
from pathlib import Path

from kfp import dsl, local


@dsl.component
def inc(x: int) -> int:
    return x + 1


@dsl.component
def sleep_one(i: int) -> int:
    import time

    time.sleep(1)
    return i


@dsl.component
def add4(a: int, b: int, c: int, d: int) -> int:
    return a + b + c + d


@dsl.component
def make_big(n: int, out: dsl.Output[dsl.Dataset]) -> float:
    import time

    import numpy as np

    arr = np.ones(n, dtype=np.float64)
    t = time.perf_counter()
    with open(out.path, "wb") as f:
        np.save(f, arr)
    return time.perf_counter() - t


@dsl.component
def use_big(data: dsl.Input[dsl.Dataset]) -> float:
    import time

    import numpy as np

    t = time.perf_counter()
    arr = np.load(data.path)
    float(arr[::1_000_000].sum())
    return time.perf_counter() - t


@dsl.component
def add_times(a: float, b: float) -> float:
    return a + b


@dsl.pipeline
def big() -> float:
    made = make_big(n=125_000_000)
    used = use_big(data=made.outputs["out"])
    return add_times(a=made.outputs["Output"], b=used.output).output


@dsl.pipeline
def chain() -> int:
    task = inc(x=0)
    for _ in range(9):
        task = inc(x=task.output)
    return task.output


@dsl.pipeline
def parallel() -> int:
    t = [sleep_one(i=i) for i in range(4)]
    return add4(a=t[0].output, b=t[1].output, c=t[2].output, d=t[3].output).output


def main() -> None:
    case, workdir = sys.argv[1], Path(sys.argv[2])
    os.chdir(workdir)
    caching = case == "rerun"
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(workdir / "local_outputs"),
        enable_caching=caching,
        cache_root=str(workdir / "kfp_cache") if caching else None,
    ) if caching else local.init(
        runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(workdir / "local_outputs")
    )
    if case == "big":
        print(json.dumps({"pass": big().output}))
        return
    pipeline = {"chain": chain, "parallel": parallel, "rerun": chain}[case]
    if case == "rerun":
        pipeline()
    start = time.perf_counter()
    pipeline()
    print(json.dumps({"wall": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
