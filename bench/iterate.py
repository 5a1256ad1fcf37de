"""Iterating on a pipeline: load a step into a kernel, plan a run, re-run from the last step.

Figures printed (one JSON object):
  1. load_1gb: ``%kf load RUN STEP`` in a real IPython shell, where the step's input is a 1 GiB
     float64 array: wall of the magic (store opened, record read, value mapped), min of rounds;
     side by side with reading the same file without a memory map (``np.load`` into memory), the
     anchor a tool that pickles or copies step values pays at best. Target: <= 0.5 s.
  2. plan_200_cells: ``POST /kfjupyter/api/notebooks/plan`` on a real jupyter server for a notebook
     of 200 cells (100 steps of 2 cells in a chain, every step cached): first call, then the
     median and p90 of warm calls over one keep-alive connection. Target: warm median <= 0.3 s.
  3. rerun_last_of_10: a 10-step chain where each step computes for about 0.3 s; after a full run,
     ``run_notebook(from_step="s9")`` (only s9 runs, the other 9 come from the cache) side by side
     with a notebook holding only s9's code run alone; both warm, min of rounds. Target: ratio <= 2.

Usage: python bench/iterate.py [--rounds N] [--skip-load]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pipelines import cell, notebook  # noqa: E402
from runs_api import TOKEN, free_port, start_server  # noqa: E402

GIB_FLOATS = (1 << 30) // 8


def bench_load(work: Path, rounds: int) -> dict[str, float | int | str]:
    import numpy as np
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from kfjupyter.api import run_notebook
    from kfjupyter.store import open_store

    home = work / "load-home"
    os.environ["KFJUPYTER_HOME"] = str(home)
    nb = notebook(
        work / "big.ipynb",
        [
            cell("import numpy as np", "imports"),
            cell(f"big = np.ones({GIB_FLOATS}, dtype=np.float64)", "step:make"),
            cell("total = float(big[::4096].sum())", "step:use"),
        ],
    )
    with open_store(home) as store:
        run = run_notebook(nb, store=store)
    assert run.status == "succeeded", run.to_json()
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell(config=config)
    shell.run_line_magic("load_ext", "kfjupyter")
    walls = []
    for _ in range(rounds):
        shell.user_ns.pop("big", None)
        start = time.perf_counter()
        shell.run_line_magic("kf", f"load {run.id} use")
        walls.append(time.perf_counter() - start)
        assert shell.user_ns["big"].nbytes == GIB_FLOATS * 8
    path = Path(shell.user_ns["big"].filename)
    shell.user_ns.clear()
    shell.cleanup()
    copies = []
    for _ in range(max(1, rounds // 2)):
        start = time.perf_counter()
        array = np.load(path)  # the whole file read into memory
        copies.append(time.perf_counter() - start)
        del array
    return {
        "bytes": GIB_FLOATS * 8,
        "kf_load_s": round(min(walls), 4),
        "np_load_copy_s": round(min(copies), 4),
        "speedup": round(min(copies) / min(walls), 1),
        "target_s": 0.5,
    }


def bench_plan(work: Path, calls: int) -> dict[str, float | int]:
    from kfjupyter.api import run_notebook
    from kfjupyter.store import open_store

    home = work / "plan-home"
    root = home / "root"  # the server's root folder (runs_api.start_server)
    root.mkdir(parents=True)
    cells = [cell("import math", "imports"), cell("scale = 1", "pipeline-parameters")]
    cells.append(cell("%%step s0\nv0 = scale"))
    cells.append(cell("w0 = v0 + 1"))
    for i in range(1, 99):
        cells.append(cell(f"%%step s{i}\nv{i} = v{i - 1} + w{i - 1}"))
        cells.append(cell(f"w{i} = v{i} * 2 + math.floor(scale)"))
    nb = notebook(root / "big.ipynb", cells)
    assert len(cells) == 200
    with open_store(home) as store:
        run = run_notebook(nb, store=store, max_parallel=2)
    assert run.status == "succeeded", run.to_json()["status"]
    port = free_port()
    server = start_server(home, port)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = json.dumps({"path": "big.ipynb"})
        headers = {"Authorization": f"token {TOKEN}", "Content-Type": "application/json"}

        def plan() -> tuple[float, dict[str, object]]:
            start = time.perf_counter()
            connection.request("POST", "/kfjupyter/api/notebooks/plan", body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            assert response.status == 200, (response.status, raw[:500])
            data = json.loads(raw)
            return time.perf_counter() - start, data

        first, answer = plan()
        steps = answer["steps"]
        assert isinstance(steps, list) and {s["action"] for s in steps} == {"cached"}, steps[:2]
        walls = sorted(plan()[0] for _ in range(calls))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "cells": 200,
        "steps": len(steps),
        "first_s": round(first, 4),
        "warm_median_s": round(statistics.median(walls), 4),
        "warm_p90_s": round(walls[int(0.9 * (len(walls) - 1))], 4),
        "target_s": 0.3,
    }


WORK = "import time\nstart = time.perf_counter()\nacc = 0\nwhile time.perf_counter() - start < 0.3:\n    acc += 1\n"


def bench_rerun(work: Path, rounds: int) -> dict[str, float | list[str]]:
    from kfjupyter.api import run_notebook
    from kfjupyter.store import open_store

    chain = [cell(f"{WORK}x0 = 0", "step:s0")]
    chain += [cell(f"{WORK}x{i} = x{i - 1} + 1", f"step:s{i}") for i in range(1, 10)]
    nb = notebook(work / "chain.ipynb", chain)
    alone = notebook(work / "alone.ipynb", [cell(f"{WORK}x8 = 8\nx9 = x8 + 1", "step:s9")])
    home = work / "rerun-home"
    with open_store(home) as store:
        full = run_notebook(nb, store=store)
        assert full.status == "succeeded"
        run_notebook(alone, store=store, cache=False)  # warm
        froms, alones, ran = [], [], []
        for _ in range(rounds):
            start = time.perf_counter()
            again = run_notebook(nb, store=store, from_step="s9")
            froms.append(time.perf_counter() - start)
            ran = [s.name for s in again.steps if s.status == "succeeded" and not s.cached]
            assert ran == ["s9"] and all(s.cached for s in again.steps if s.name != "s9"), again.to_json()
            start = time.perf_counter()
            run_notebook(alone, store=store, cache=False)
            alones.append(time.perf_counter() - start)
    return {
        "from_last_s": round(min(froms), 4),
        "step_alone_s": round(min(alones), 4),
        "ratio": round(min(froms) / min(alones), 3),
        "ran": ran,
        "target_ratio": 2.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-load", action="store_true", help="skip the 1 GiB load (needs ~3 GiB of disk)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kf-bench-iterate-"))
    try:
        figures: dict[str, object] = {}
        figures["rerun_last_of_10"] = bench_rerun(work, args.rounds)
        figures["plan_200_cells"] = bench_plan(work, calls=max(10, args.rounds * 4))
        if not args.skip_load:
            figures["load_1gb"] = bench_load(work, args.rounds)
        print(json.dumps(figures, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
