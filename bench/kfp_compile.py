"""KFP benchmarks against Kale, printing ours, Kale's and the ratio.

  (a) compile200: a cold `kfjupyter compile` of a 200-cell Kale-tagged notebook vs `kale --nb`
      on the same notebook (both fresh processes, best of 3).
  (b) local5: per-step overhead of a 5-step no-op chain (seconds of the pipeline call / 5, after
      imports and local.init; every task must report SUCCESS), our compiled YAML executed by kfp.local
      (SubprocessRunner, use_venv=False, lightweight-only guard lifted as in
      tests/integration/kfp/test_kfp_local.py) vs Kale's generated DSL (`.kale/<name>.kale.py`)
      executed by kfp.local in the anchors venv.

Run: `.venv/bin/python bench/kfp_compile.py [compile200] [local5]`. The anchors venv is
$KFJUPYTER_BENCH_PYTHON (default .venv-bench/bin/python). This file is also the kfp.local driver:
`python kfp_compile.py _run_yaml YAML` / `_run_kale DSL` (stdlib + kfp only at that point).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ANCHOR_PYTHON = os.environ.get("KFJUPYTER_BENCH_PYTHON", str(ROOT / ".venv-bench" / "bin" / "python"))
IMAGE = "python:3.11"
CHAIN = 5


def write_notebook(path: Path, cells: list[tuple[str, list[str]]]) -> Path:
    nb = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {"tags": tags}}
            | {"outputs": [], "source": source}
            for i, (source, tags) in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def cells_200() -> list[tuple[str, list[str]]]:
    cells = [("import math\nimport json", ["imports"]), ("base = 3", ["pipeline-parameters"])]
    for i in range(99):
        prev = f"v{i - 1}" if i else "base"
        cells.append((f"v{i} = {prev} + math.sqrt({i})", [f"step:s{i}"] + ([f"prev:s{i - 1}"] if i else [])))
        cells.append((f"print(json.dumps({{'i': {i}}}))\nw{i} = v{i} * 2", []))
    return cells


def chain_cells(n: int) -> list[tuple[str, list[str]]]:
    cells = [("import math", ["imports"]), ("base = 1", ["pipeline-parameters"]), ("x0 = base", ["step:s0"])]
    return cells + [(f"x{i} = x{i - 1} + 1", [f"step:s{i}", f"prev:s{i - 1}"]) for i in range(1, n)]


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
        )
    return wall, out.stdout + out.stderr


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    return run(cmd, cwd, env)[0]


def pipeline_wall(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds the pipeline call took inside the driver (imports and local.init excluded)."""
    _, output = run(cmd, cwd, env)
    done = len(re.findall(r"finished with status \S*SUCCESS", output))
    if done < CHAIN:
        raise SystemExit(f"expected {CHAIN} successful tasks, saw {done}:\n{output[-3000:]}")
    line = [x for x in output.splitlines() if x.startswith('{"pipeline_s"')][-1]
    return float(json.loads(line)["pipeline_s"])


def kale_dsl(workdir: Path, nb: Path) -> tuple[float, Path]:
    wall = timed([str(Path(ANCHOR_PYTHON).with_name("kale")), "--nb", str(nb)], workdir)
    (dsl,) = (workdir / ".kale").glob("*.kale.py")
    return wall, dsl


def bench_compile(work: Path) -> dict[str, float]:
    nb = write_notebook(work / "big200.ipynb", cells_200())
    kf = str(Path(sys.executable).with_name("kfjupyter"))
    ours = min(
        timed([kf, "compile", str(nb), "-o", str(work / "o.yaml"), "--image", IMAGE], work) for _ in range(3)
    )
    kale = []
    for i in range(3):
        sub = work / f"kale{i}"
        sub.mkdir()
        kale.append(kale_dsl(sub, write_notebook(sub / "big200.ipynb", cells_200()))[0])
    return {"ours_s": ours, "kale_s": min(kale), "ratio": min(kale) / ours}


def bench_local(work: Path) -> dict[str, float]:
    nb = write_notebook(work / "chain.ipynb", chain_cells(CHAIN))
    yaml_path = work / "chain.yaml"
    kf = str(Path(sys.executable).with_name("kfjupyter"))
    timed([kf, "compile", str(nb), "-o", str(yaml_path), "--image", IMAGE], work)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    me = str(Path(__file__).resolve())
    ours = min(pipeline_wall([sys.executable, me, "_run_yaml", str(yaml_path)], work, env) for _ in range(3))
    _, dsl = kale_dsl(work, nb)
    kale_env = dict(os.environ, PATH=f"{Path(ANCHOR_PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    kale = min(pipeline_wall([ANCHOR_PYTHON, me, "_run_kale", str(dsl)], work, kale_env) for _ in range(2))
    ours_step, kale_step = ours / CHAIN, kale / CHAIN
    return {"ours_s_per_step": ours_step, "kale_s_per_step": kale_step, "ratio": kale_step / ours_step}


def _run_yaml(path: str) -> None:
    from kfp import components, local
    from kfp.local import subprocess_task_handler

    subprocess_task_handler.SubprocessTaskHandler.validate_not_container_component = (  # type: ignore[method-assign]
        lambda *_: None
    )
    with tempfile.TemporaryDirectory() as root:
        local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=root)
        pipeline = components.load_component_from_file(path)
        start = time.perf_counter()
        pipeline()
        print(json.dumps({"pipeline_s": time.perf_counter() - start}), flush=True)


def _run_kale(path: str) -> None:
    import importlib.util

    from kfp import local

    spec = importlib.util.spec_from_file_location("kale_dsl", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with tempfile.TemporaryDirectory() as root:
        local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=root)
        start = time.perf_counter()
        module.auto_generated_pipeline()
        print(json.dumps({"pipeline_s": time.perf_counter() - start}), flush=True)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] in ("_run_yaml", "_run_kale"):
        {"_run_yaml": _run_yaml, "_run_kale": _run_kale}[sys.argv[1]](sys.argv[2])
        return
    cases = {"compile200": bench_compile, "local5": bench_local}
    results = {}
    with tempfile.TemporaryDirectory(prefix="kfpbench-") as tmp:
        for name in sys.argv[1:] or list(cases):
            work = Path(tmp) / name
            work.mkdir()
            results[name] = cases[name](work)
            print(f"{name:<11} " + "  ".join(f"{k}={v:.3f}" for k, v in results[name].items()), flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
