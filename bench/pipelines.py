"""Local pipeline benchmarks: kfjupyter's runner and kfp.local side by side, with ratios.

Run with `./dev bench` (it installs the anchors in .venv-bench). Figures printed:
  1. chain of 10 no-op steps: per-step overhead
  2. 4 independent 1 s sleeps, then a join: wall time
  3. unchanged 10-step re-run: runner time, every step a cache hit
  4. a 1 GB float64 array passed between two steps: effective GB/s
  5. `kfjupyter lint` + `kfjupyter graph` of a 200-cell notebook from a cold CLI (Kale: `kale --nb`)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
# The anchors live in their own venv (./dev bench makes it) so they cannot disturb ours.
ANCHOR_PYTHON = os.environ.get("KFJUPYTER_BENCH_PYTHON", sys.executable)
GB = 1_000_000_000
N_FLOATS = GB // 8


def cell(source: str, *tags: str) -> nbformat.NotebookNode:
    node = nbformat.v4.new_code_cell(source)
    node.metadata["tags"] = list(tags)
    return node


def notebook(path: Path, cells: list[nbformat.NotebookNode]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.cells = cells
    nbformat.write(nb, str(path))
    return path


def ours(nb: Path, home: Path, cache: bool = False) -> tuple[float, dict]:
    from kfjupyter.api import run_notebook
    from kfjupyter.store import open_store

    with open_store(home) as store:
        start = time.perf_counter()
        run = run_notebook(nb, store=store, cache=cache)
        wall = time.perf_counter() - start
    assert run.status == "succeeded", run.to_json()
    return wall, run.to_json()


def anchor(case: str, workdir: Path) -> dict:
    out = subprocess.run(
        [ANCHOR_PYTHON, str(HERE / "anchors" / "kfp_local.py"), case, str(workdir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"kfp.local anchor {case} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def chain_cells(n: int) -> list[nbformat.NotebookNode]:
    cells = [cell("x0 = 0", "step:s0")]
    cells += [cell(f"x{i} = x{i - 1} + 1", f"step:s{i}") for i in range(1, n)]
    return cells


def bench_chain(work: Path) -> dict:
    nb = notebook(work / "chain.ipynb", chain_cells(10))
    ours(nb, work / "warm")  # first use of the page cache / pyc files
    walls = [ours(nb, work / f"h{i}")[0] for i in range(3)]
    wall = min(walls)
    kfp = anchor("chain", work)
    return {"ours_s_per_step": wall / 10, "kfp_s_per_step": kfp["wall"] / 10, "ratio": kfp["wall"] / wall}


def bench_parallel(work: Path) -> dict:
    cells = [cell("import time", "imports")]
    cells += [cell(f"time.sleep(1)\nv{i} = {i}", f"step:sleep{i}") for i in range(4)]
    cells += [cell("total = v0 + v1 + v2 + v3", "step:join")]
    nb = notebook(work / "parallel.ipynb", cells)
    wall, _ = ours(nb, work / "par")
    kfp = anchor("parallel", work)
    return {
        "ours_wall_s": wall,
        "kfp_wall_s": kfp["wall"],
        "ratio": kfp["wall"] / wall,
        "cores": os.cpu_count(),
    }


def bench_rerun(work: Path) -> dict:
    nb = notebook(work / "rerun.ipynb", chain_cells(10))
    home = work / "rerun-home"
    ours(nb, home, cache=True)
    walls = []
    for _ in range(5):
        wall, body = ours(nb, home, cache=True)
        assert all(s["cached"] for s in body["steps"]), body
        walls.append(wall)
    kfp = anchor("rerun", work)
    return {"ours_rerun_s": min(walls), "kfp_rerun_s": kfp["wall"], "ratio": kfp["wall"] / min(walls)}


def bench_big_array(work: Path) -> dict:
    cells = [
        cell("import numpy as np", "imports"),
        cell(
            "import time\n_t = time.perf_counter()\n"
            f"arr = np.ones({N_FLOATS}, dtype=np.float64)\n"
            "print('created in', time.perf_counter() - _t)",
            "step:make",
        ),
        cell("s = float(arr[::1_000_000].sum())", "step:use"),
    ]
    nb = notebook(work / "big.ipynb", cells)
    from kfjupyter.store import open_store

    home = work / "big"
    start = time.perf_counter()
    _, body = ours(nb, home)
    total = time.perf_counter() - start
    steps = {s["name"]: s for s in body["steps"]}
    with open_store(home) as store:
        log = store.read_log(body["run_id"], "make").text
    created = float(log.split("created in", 1)[1].split()[0])  # measured inside the step itself
    passing = steps["make"]["duration_s"] - created + steps["use"]["duration_s"]
    kfp = anchor("big", work)
    return {
        "ours_pass_s": passing,
        "ours_gb_per_s": 1 / passing,
        "ours_run_total_s": total,
        "kfp_pass_s": kfp["pass"],
        "kfp_gb_per_s": 1 / kfp["pass"],
        "ratio": kfp["pass"] / passing,
    }


def bench_lint(work: Path) -> dict:
    cells = [cell("import math\nimport json", "imports"), cell("base = 3", "pipeline-parameters")]
    for i in range(99):
        prev = f"v{i - 1}" if i else "base"
        cells.append(cell(f"v{i} = {prev} + math.sqrt({i})", f"step:s{i}"))
        cells.append(cell(f"print(json.dumps({{'i': {i}}}))\nw{i} = v{i} * 2"))
    nb = notebook(work / "big200.ipynb", cells)
    kf = [str(Path(sys.executable).with_name("kfjupyter"))]
    walls = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([*kf, "lint", str(nb), "--json"], check=False, capture_output=True)
        subprocess.run([*kf, "graph", str(nb), "--json"], check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
    kale = str(Path(ANCHOR_PYTHON).with_name("kale"))
    small = notebook(
        work / "kale6.ipynb",
        [cell("import math", "imports"), cell("n = 3", "pipeline-parameters")]
        + [cell(f"v{i} = n + {i}", f"step:s{i}") for i in range(4)],
    )
    start = time.perf_counter()
    out = subprocess.run([kale, "--nb", str(small)], capture_output=True, text=True, check=False, cwd=work)
    kale_wall = time.perf_counter() - start
    return {
        "ours_200_cells_s": min(walls),
        "kale_6_cells_s": kale_wall,
        "kale_ok": out.returncode == 0,
        "ratio": kale_wall / min(walls),
    }


def main() -> None:
    cases = {
        "chain10": bench_chain,
        "parallel4": bench_parallel,
        "rerun10": bench_rerun,
        "array1gb": bench_big_array,
        "lint200": bench_lint,
    }
    chosen = sys.argv[1:] or list(cases)
    results = {}
    with tempfile.TemporaryDirectory(prefix="kfbench-") as tmp:
        for name in chosen:
            work = Path(tmp) / name
            work.mkdir()
            results[name] = cases[name](work)
            print(
                f"{name:<10} "
                + "  ".join(
                    f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in results[name].items()
                ),
                flush=True,
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
