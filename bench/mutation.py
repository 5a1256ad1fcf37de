"""Costs of the mutation analysis and of the unchanged-input guard.

Run with `python bench/mutation.py [lint200] [guard]`. Figures printed:
  1. lint200: `kfjupyter lint --json` and `kfjupyter graph --json` of a 200-cell notebook full of
     in-place changes, aliases, loops and calls to the notebook's functions, each from a cold CLI
     (best of 3; wall time, and the process's CPU time, which is what the wall time is on an idle
     machine); in process, compile time with the change analysis and without it (side by side).
  2. guard: the guard's time per step for small inputs (five values of a few hundred bytes), and for
     a 1 GB float64 array loaded as a step loads it (memory-mapped from /dev/shm) next to the time of
     a step that reads it once (x.sum()): the ratio is the guard's share of that step.
Targets: lint/graph <= 0.5 s each; guard <= 2 ms per step (small), <= 5% of the step (1 GB).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat


def cell(source: str, *tags: str) -> nbformat.NotebookNode:
    node = nbformat.v4.new_code_cell(source)
    node.metadata["tags"] = list(tags)
    return node


def mutation_notebook(path: Path) -> Path:
    cells = [
        cell("import json\nimport math", "imports"),
        cell(
            "def tag(d, v):\n    d['tag'] = v\n\ndef tag_all(ds, v):\n    for d in ds:\n        tag(d, v)",
            "functions",
        ),
    ]
    for i in range(66):
        prev = f"rows{i - 1}" if i else "[]"
        cells.append(
            cell(
                f"rows{i} = list({prev})\nrows{i}.append({{'i': {i}}})\nmeta{i} = {{'n': {i}}}", f"step:s{i}"
            )
        )
        cells.append(
            cell(f"for r in rows{i}:\n    r['seen'] = True\nalias = meta{i}\nalias['k'] = math.sqrt({i})")
        )
        cells.append(cell(f"tag_all([meta{i}], {i})\nsummary{i} = json.dumps(meta{i}, sort_keys=True)"))
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.cells = cells
    nbformat.write(nb, str(path))
    assert len(cells) == 200
    return path


def bench_lint(work: Path) -> dict[str, float]:
    nb = mutation_notebook(work / "mutations200.ipynb")
    kf = str(Path(sys.executable).with_name("kfjupyter"))
    lint, graph, lint_cpu, graph_cpu = [], [], [], []
    for _ in range(3):
        for command, walls, cpus in (("lint", lint, lint_cpu), ("graph", graph, graph_cpu)):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([kf, command, str(nb), "--json"], check=False, capture_output=True)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    import kfjupyter.compiler.analysis as analysis
    from kfjupyter.compiler.effects import NO_EFFECTS
    from kfjupyter.compiler.lint import compile_notebook

    compile_notebook(nb)  # imports warm

    def best(runs: int = 5) -> float:
        times = []
        for _ in range(runs):
            analysis.analyze.cache_clear()
            start = time.perf_counter()
            compile_notebook(nb)
            times.append(time.perf_counter() - start)
        return min(times)

    with_changes = best()
    analysis.scan_effects = lambda tree: NO_EFFECTS  # type: ignore[assignment]
    without = best()
    return {
        "lint_cli_s": min(lint),
        "lint_cli_cpu_s": min(lint_cpu),
        "graph_cli_s": min(graph),
        "graph_cli_cpu_s": min(graph_cpu),
        "compile_with_changes_s": with_changes,
        "compile_without_changes_s": without,
        "ratio": with_changes / without,
    }


def bench_guard(work: Path) -> dict[str, float]:
    import numpy as np

    from kfjupyter.runner.guard import InputGuard
    from kfjupyter.serializers import load_value, save_value

    small = {
        "config": {"lr": 0.01, "layers": [64, 32], "name": "model"},
        "rows": [{"id": i, "v": i * 0.5} for i in range(20)],
        "labels": ["a", "b", "c"] * 10,
        "counts": {str(i): i for i in range(30)},
        "arr": np.arange(100.0),
    }
    guarded = {name: ["load", "later"] for name in small}
    times = []
    for _ in range(200):
        guard = InputGuard("step", guarded)
        start = time.perf_counter()
        for name, value in small.items():
            guard.watch(name, value)
        assert guard.problem() is None
        times.append(time.perf_counter() - start)
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else work
    folder = Path(tempfile.mkdtemp(prefix="kfbench-guard-", dir=shm))
    try:
        saved = save_value("x", np.random.default_rng(0).random(125_000_000), folder, "bench")  # 1 GB
        results = []
        for _ in range(3):
            os.posix_fadvise(os.open(saved.path, os.O_RDONLY), 0, 0, os.POSIX_FADV_DONTNEED)
            x = load_value(saved.path, saved.serializer)
            guard = InputGuard("look", {"x": ["make", "later"]})
            start = time.perf_counter()
            guard.watch("x", x)
            watch = time.perf_counter() - start
            start = time.perf_counter()
            total = float(x.sum())  # the step
            step = time.perf_counter() - start
            start = time.perf_counter()
            assert guard.problem() is None
            check = time.perf_counter() - start
            results.append((watch + check, step, total))
            del x, guard
        guard_s, step_s, _ = min(results, key=lambda r: r[0] / r[1])
    finally:
        for item in folder.iterdir():
            item.unlink()
        folder.rmdir()
    return {
        "small_guard_ms": 1000 * sorted(times)[len(times) // 2],
        "gb_guard_ms": 1000 * guard_s,
        "gb_step_ms": 1000 * step_s,
        "gb_guard_share": guard_s / step_s,
    }


def main() -> None:
    cases = {"lint200": bench_lint, "guard": bench_guard}
    chosen = sys.argv[1:] or list(cases)
    results = {}
    with tempfile.TemporaryDirectory(prefix="kfbench-") as tmp:
        for name in chosen:
            work = Path(tmp) / name
            work.mkdir()
            results[name] = cases[name](work)
            print(f"{name:<8} " + "  ".join(f"{k}={v:.4f}" for k, v in results[name].items()), flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
