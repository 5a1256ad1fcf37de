"""Local training benchmark: kfjupyter.train vs the Kubeflow SDK's local-process backend.

Same small function on both sides; figures: seconds from the submit call to the function's first
log line, and to the job being complete. Ours runs in this interpreter (cold: the first job of a
fresh process, imports included; warm: a later job, as in a notebook). The Kubeflow SDK
(TrainerClient + LocalProcessBackendConfig) runs in .venv-bench via a subprocess, first exactly
as documented and then with the fixes it needs; every attempt's outcome is reported.

Usage: python bench/training_local.py [--json]   (KFJUPYTER_BENCH_PYTHON names the anchor venv)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANCHOR_PYTHON = os.environ.get("KFJUPYTER_BENCH_PYTHON", str(HERE.parent / ".venv-bench" / "bin" / "python"))
MARKER = "first line from the training function"
SDK_TIMEOUT_S = 420

SMALL_FUNCTION = f'''
def small():
    import os
    print("{MARKER}", os.environ.get("RANK"), flush=True)
    total = 0
    for step in range(5):
        total += step
        print(f"step={{step}} loss={{1 / (step + 1):.4f}}", flush=True)
    print("done", total, flush=True)
'''

# The anchor: written to a file because the SDK reads the function's source with inspect.
ANCHOR = (
    """
import json, sys, time, traceback
from kubeflow.trainer import CustomTrainer, LocalProcessBackendConfig, TrainerClient
"""
    + SMALL_FUNCTION
    + f'''
MARKER = "{MARKER}"
ATTEMPTS = {{
    "documented: no runtime, no packages": dict(),
    "runtime='torch-distributed', no packages": dict(runtime="torch-distributed"),
    "runtime='torch-distributed', packages_to_install=['torch']": dict(
        runtime="torch-distributed", packages=["torch"]
    ),
}}


def attempt(runtime=None, packages=None):
    client = TrainerClient(backend_config=LocalProcessBackendConfig())
    start = time.perf_counter()
    first = None
    try:
        name = client.train(runtime=runtime, trainer=CustomTrainer(func=small, packages_to_install=packages))
    except Exception as exc:
        return {{"ok": False, "error": f"{{type(exc).__name__}}: {{exc}}"}}
    submit = time.perf_counter() - start
    while time.perf_counter() - start < {SDK_TIMEOUT_S}:
        if first is None and any(MARKER in line for line in client.get_job_logs(name)):
            first = time.perf_counter() - start
        status = client.get_job(name).status
        if status in ("Complete", "Failed"):
            break
        time.sleep(0.01)
    total = time.perf_counter() - start
    logs = list(client.get_job_logs(name))
    return {{"ok": status == "Complete", "status": status, "submit_s": submit, "first_line_s": first,
            "complete_s": total, "log_tail": logs[-3:]}}


results = {{}}
for label, kwargs in ATTEMPTS.items():
    try:
        results[label] = attempt(**kwargs)
    except Exception:
        results[label] = {{"ok": False, "error": traceback.format_exc()[-800:]}}
print(json.dumps(results))
'''
)


def ours(home: Path) -> dict[str, float]:
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(SMALL_FUNCTION, namespace)
    small = namespace["small"]
    start = time.perf_counter()
    import kfjupyter  # the import is part of the cold figure

    job = kfjupyter.train(small)  # type: ignore[arg-type]
    submit = time.perf_counter() - start
    first = None
    while first is None:
        if any(MARKER in line for line in job.logs()):
            first = time.perf_counter() - start
        else:
            time.sleep(0.005)
    final = job.wait(timeout=60)
    total = time.perf_counter() - start
    assert final.status == "Complete", final.error
    points = job.metrics()["loss"]
    assert [p.index for p in points] == [0, 1, 2, 3, 4], points
    return {"submit_s": submit, "first_line_s": first, "complete_s": total}


def ours_in_fresh_process(home: Path) -> dict[str, float]:
    code = (
        "import json, sys\nfrom pathlib import Path\nsys.path.insert(0, sys.argv[1])\n"
        "from training_local import ours\n"
        "cold = ours(Path(sys.argv[2]))\nwarm = [ours(Path(sys.argv[2])) for _ in range(3)]\n"
        "print(json.dumps({'cold': cold, 'warm': min(warm, key=lambda r: r['complete_s'])}))\n"
    )
    env = {**os.environ, "KFJUPYTER_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(HERE), str(home)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def kubeflow_sdk(work: Path) -> dict[str, dict[str, object]]:
    script = work / "kubeflow_local_anchor.py"
    script.write_text(ANCHOR)
    # TMPDIR keeps the SDK's per-job venvs inside `work` (a failed job does not delete its venv).
    out = subprocess.run(
        [ANCHOR_PYTHON, str(script)],
        capture_output=True,
        text=True,
        cwd=work,
        env={**os.environ, "TMPDIR": str(work)},
        check=False,
        timeout=1800,
    )
    if out.returncode != 0:
        raise SystemExit(f"Kubeflow SDK anchor crashed:\n{out.stderr[-3000:]}")
    result: dict[str, dict[str, object]] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kfj-bench-train-") as tmp:
        work = Path(tmp)
        mine = ours_in_fresh_process(work / "home")
        sdk = kubeflow_sdk(work)
    report: dict[str, object] = {"kfjupyter": mine, "kubeflow_sdk_local_process": sdk}
    working = [r for r in sdk.values() if r.get("ok")]
    if working:
        best = working[-1]
        for figure in ("first_line_s", "complete_s"):
            theirs = best.get(figure)
            if isinstance(theirs, (int, float)):
                report[f"ratio_{figure}_vs_warm"] = theirs / mine["warm"][figure]  # type: ignore[index]
                report[f"ratio_{figure}_vs_cold"] = theirs / mine["cold"][figure]  # type: ignore[index]
    if "--json" in sys.argv:
        print(json.dumps(report, indent=2))
        return
    print("kfjupyter.train (local backend, this interpreter):")
    for label in ("cold", "warm"):
        r = mine[label]  # type: ignore[index]
        print(
            f"  {label:5s} submit {r['submit_s']:.3f} s  first log line {r['first_line_s']:.3f} s  "
            f"complete {r['complete_s']:.3f} s"
        )
    print("Kubeflow SDK TrainerClient(LocalProcessBackendConfig()):")
    for label, r in sdk.items():
        if r.get("ok"):
            print(f"  {label}: first log line {r['first_line_s']:.1f} s, complete {r['complete_s']:.1f} s")
        else:
            detail = r.get("error") or f"status {r.get('status')}, log tail {r.get('log_tail')}"
            print(f"  {label}: FAILED: {str(detail).strip()[-400:]}")
    for key, value in report.items():
        if key.startswith("ratio_"):
            print(f"  {key}: {value:.1f}x")


if __name__ == "__main__":
    main()
