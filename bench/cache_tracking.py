"""What recording a step's reads costs: the runner with read tracking on and off, side by side.

Figures printed (one JSON object):
  1. chain10: the 10-step chain of no-op steps (as in bench/pipelines.py), wall per run with
     tracking on and off (KFJUPYTER_TRACK_READS=off), min of interleaved rounds, and the overhead;
  2. chain10_reading: the same chain where every step imports a local module and reads 10 files;
  3. step_cpu: CPU time of one step in a forked step process (as the fork server runs it), tracking
     on and off, median of many forks: a no-op step, and one that imports a local module and reads
     10 files. CPU time, unlike wall time, is not inflated by other load on the machine;
  4. check100: a step that read 100 files (and imported one local module) is cached; the time of
     the runner's reuse decision for it (median of 200, wall and CPU), and the same after touching
     every file (each is hashed once, then re-stamped), and a whole cached re-run of it.

Usage: python bench/cache_tracking.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pipelines import cell, chain_cells, notebook  # noqa: E402


def _run(nb: Path, home: Path, *, track: bool, cache: bool = False) -> float:
    from kfjupyter.api import run_notebook
    from kfjupyter.store import open_store

    os.environ["KFJUPYTER_TRACK_READS"] = "on" if track else "off"
    with open_store(home) as store:
        start = time.perf_counter()
        run = run_notebook(nb, store=store, cache=cache)
        wall = time.perf_counter() - start
    assert run.status == "succeeded", run.to_json()
    return wall


def side_by_side(nb: Path, work: Path, rounds: int) -> dict[str, float]:
    """Min wall with tracking on and off, measured in alternating order."""
    _run(nb, work / "warm", track=True)
    on, off = [], []
    for i in range(rounds):
        order = (True, False) if i % 2 == 0 else (False, True)
        for track in order:
            wall = _run(nb, work / f"h-{i}-{track}", track=track)
            (on if track else off).append(wall)
    best_on, best_off = min(on), min(off)
    return {
        "tracking_on_s": round(best_on, 4),
        "tracking_off_s": round(best_off, 4),
        "overhead_pct": round(100 * (best_on - best_off) / best_off, 2),
        "median_on_s": round(statistics.median(on), 4),
        "median_off_s": round(statistics.median(off), 4),
    }


def reading_chain(work: Path) -> Path:
    data = work / "data"
    data.mkdir()
    for i in range(100):
        (data / f"f{i}.txt").write_text(str(i) * 100)
    (work / "helper.py").write_text("def total(xs):\n    return sum(xs)\n")
    cells = [cell("import helper\nx0 = 0", "step:s0")]
    for i in range(1, 10):
        reads = ", ".join(f"int(open('data/f{10 * i + k}.txt').read()[:1])" for k in range(10))
        cells.append(cell(f"import helper\nx{i} = x{i - 1} + helper.total([{reads}])", f"step:s{i}"))
    return notebook(work / "reading.ipynb", cells)


def _fork_cpu(work: Path, code: str, *, track: bool, forks: int) -> float:
    """Median CPU seconds of ``run_job`` for ``code`` in freshly forked, warmed processes."""
    from kfjupyter.runner.child import make_shell, run_job
    from kfjupyter.runner.job import Source, StepJob

    shell = make_shell()
    step_dir = work / "step"
    step_dir.mkdir(exist_ok=True)
    job = StepJob(
        run_id="bench",
        step="s",
        workdir=str(work),
        step_dir=str(step_dir),
        log_path=str(work / "log"),
        code=[Source(cell=0, code=code)],
        track_reads=track,
    )
    samples = []
    for _ in range(forks):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the step process, warmed as the fork server's spares are
            os.close(read_end)
            shell.run_cell("pass", store_history=False, silent=True)
            start = time.process_time()
            result = run_job(job, shell)
            spent = time.process_time() - start
            os.write(write_end, json.dumps([spent, result.ok]).encode())
            os._exit(0)
        os.close(write_end)
        spent, ok = json.loads(os.read(read_end, 1000))
        os.close(read_end)
        os.waitpid(pid, 0)
        assert ok
        samples.append(spent)
    return statistics.median(samples)


def step_cpu(work: Path, forks: int) -> dict[str, float]:
    from kfjupyter.runner.tracking import forget_local_modules

    work.mkdir()
    for i in range(10):
        (work / f"f{i}.txt").write_text(str(i) * 1000)
    (work / "helper_cpu.py").write_text("def total(xs):\n    return sum(xs)\n")
    os.chdir(work)  # the bench's cwd: the step process opens the files relative to it
    sys.path.insert(0, str(work))
    forget_local_modules()
    reading = (
        "import helper_cpu\nx = helper_cpu.total([int(open(f'f{k}.txt').read()[:1]) for k in range(10)])"
    )
    out: dict[str, float] = {}
    for name, code in (("noop", "x = 1"), ("reads10", reading)):
        on, off = [], []
        for i in range(4):  # alternate, to spread drifts in machine load over both
            for track in (True, False) if i % 2 == 0 else (False, True):
                (on if track else off).append(_fork_cpu(work, code, track=track, forks=max(1, forks // 4)))
        out[f"{name}_on_ms"] = round(1000 * statistics.median(on), 3)
        out[f"{name}_off_ms"] = round(1000 * statistics.median(off), 3)
        out[f"{name}_cost_ms"] = round(out[f"{name}_on_ms"] - out[f"{name}_off_ms"], 3)
    return out


def check100(work: Path) -> dict[str, float]:
    from kfjupyter.compiler.lint import compile_notebook
    from kfjupyter.runner import planning, reuse
    from kfjupyter.store import open_store

    data = work / "many"
    data.mkdir()
    for i in range(100):
        (data / f"part{i:03d}.csv").write_text(f"{i},{i * i}\n" * 200)
    (work / "helper100.py").write_text("def parse(text):\n    return int(text.split(',')[0])\n")
    source = "import helper100\nparts = [helper100.parse(open(f'many/part{i:03d}.csv').read()) for i in range(100)]"
    nb = notebook(work / "hundred.ipynb", [cell(source, "step:read_all")])
    home = work / "h100"
    time.sleep(2.1)  # files older than the racy window: the check may trust a stat
    _run(nb, home, track=True, cache=True)
    pipeline, _ = compile_notebook(nb)
    (step,) = pipeline.steps
    key = planning.cache_key(pipeline, step, {}, {}, workdir=work)
    with open_store(home) as store:
        entry = store.get_cache(key)
        assert entry is not None and entry.reads is not None and len(entry.reads) == 101, entry
        times, cpu = [], []
        for _ in range(200):
            start, start_cpu = time.perf_counter(), time.process_time()
            decision = reuse.decide(store, step, key, use_cache=True)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            assert decision.cached, decision.reasons
        later = time.time() + 10
        for path in data.iterdir():
            os.utime(path, (later, later))
        start = time.perf_counter()
        decision = reuse.decide(store, step, key, use_cache=True)
        touched = time.perf_counter() - start
        assert decision.cached, decision.reasons
        start = time.perf_counter()
        reuse.decide(store, step, key, use_cache=True)
        after_touch = time.perf_counter() - start
    rerun = min(_run(nb, home, track=True, cache=True) for _ in range(3))
    return {
        "reads_recorded": len(entry.reads),
        "check_median_ms": round(1000 * statistics.median(times), 3),
        "check_p95_ms": round(1000 * sorted(times)[int(0.95 * len(times))], 3),
        "check_cpu_median_ms": round(1000 * statistics.median(cpu), 3),
        "check_after_touching_all_ms": round(1000 * touched, 3),
        "check_after_restamp_ms": round(1000 * after_touch, 3),
        "cached_rerun_wall_s": round(rerun, 4),
    }


def main() -> None:
    """Print the figures as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--forks", type=int, default=80)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        chain = notebook(work / "chain.ipynb", chain_cells(10))
        results = {
            "chain10": side_by_side(chain, work / "c", args.rounds),
            "chain10_reading": side_by_side(reading_chain(work), work / "r", args.rounds),
            "check100": check100(work),
            "step_cpu": step_cpu(work / "cpu", args.forks),
        }
        per_step_off = results["chain10"]["tracking_off_s"] / 10
        results["step_cpu"]["reads10_cost_pct_of_chain_step"] = round(
            100 * results["step_cpu"]["reads10_cost_ms"] / 1000 / per_step_off, 2
        )
        results["step_cpu"]["noop_cost_pct_of_chain_step"] = round(
            100 * results["step_cpu"]["noop_cost_ms"] / 1000 / per_step_off, 2
        )
        os.chdir(HERE)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
