"""Runs list benchmark: ``GET /kfjupyter/api/runs`` on a real jupyter server over 10 000 runs.

Fills a fresh run store through the store API (runs one by one as the runner creates them, steps
and metrics in batches), starts ``jupyter server`` on it with kfjupyter enabled, and times the
list endpoint end to end over one keep-alive HTTP connection: the first page, each filter, the
search, a deep page and a compare of 50 runs. Targets: list p50 <= 50 ms.

Usage: python bench/runs_api.py [--runs 10000] [--requests 200] [--json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kfjupyter.store import MetricRecord, RunRecord, SqliteRunStore, StepRecord

TOKEN = "bench-token"
TARGET_P50_MS = 50.0
NOTEBOOKS = [f"projects/team-{i % 7}/model_{i}.ipynb" for i in range(40)]
STATUSES = ["succeeded"] * 6 + ["failed", "cancelled", "interrupted", "running"]
BATCH = 500


def fill(home: Path, count: int) -> float:
    """Write ``count`` runs (90 % pipelines, 10 % 2-rank training jobs); return seconds taken."""
    rng = random.Random(7)
    start = time.perf_counter()
    base = time.time() - count * 60
    with SqliteRunStore(home) as store:
        steps: list[StepRecord] = []
        metrics: list[MetricRecord] = []
        for i in range(count):
            training = i % 10 == 9
            run = store.create_run(
                RunRecord(
                    id=f"run-{i:06d}",
                    kind="training" if training else "pipeline",
                    name=f"fit-{i}" if training else f"pipeline-{i % 40}",
                    notebook=None if training else NOTEBOOKS[i % 40],
                    backend="kfp" if i % 4 == 0 else "local",
                    status=rng.choice(STATUSES),
                    created_at=base + i * 60,
                    parameters={"lr": rng.choice([0.1, 0.01, 0.001]), "epochs": rng.randint(1, 20)},
                )
            )
            names = ["rank-0", "rank-1"] if training else ["load", "train", "evaluate"]
            steps += [StepRecord(run_id=run.id, name=n, status="succeeded") for n in names]
            metrics += [
                MetricRecord(run_id=run.id, name="loss", value=1 / (k + 1), index=k) for k in range(5)
            ]
            if len(steps) >= BATCH:
                store.upsert_steps(steps)
                store.add_metrics(metrics)
                steps, metrics = [], []
        store.upsert_steps(steps)
        store.add_metrics(metrics)
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path, port: int) -> subprocess.Popen[bytes]:
    root = home / "root"
    root.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "KFJUPYTER_HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "server",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_root=True",
        "--ServerApp.jpserver_extensions=kfjupyter=True",
    ]
    log = (home / "server.log").open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/kfjupyter/api/health", headers={"Authorization": f"token {TOKEN}"})
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"jupyter server did not start; see {home / 'server.log'}")


def measure(conn: http.client.HTTPConnection, path: str, requests: int) -> dict[str, float]:
    """p50/p95/max milliseconds of ``requests`` GETs of ``path`` (after 5 warm-up calls)."""
    headers = {"Authorization": f"token {TOKEN}"}
    times: list[float] = []
    count = 0
    for n in range(requests + 5):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:200]!r}")
        if n >= 5:
            times.append(elapsed)
        count = len(json.loads(body).get("runs", []))
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        "max_ms": round(times[-1], 2),
        "rows": count,
    }


SCENARIOS = {
    "first page (50)": "/kfjupyter/api/runs?limit=50",
    "status=failed": "/kfjupyter/api/runs?status=failed&limit=50",
    "kind=training": "/kfjupyter/api/runs?kind=training&limit=50",
    "backend=kfp": "/kfjupyter/api/runs?backend=kfp&limit=50",
    "notebook=<path>": f"/kfjupyter/api/runs?notebook={NOTEBOOKS[3]}&limit=50",
    "q=team-3 (search)": "/kfjupyter/api/runs?q=team-3&limit=50",
    "q=fit-99 (rare)": "/kfjupyter/api/runs?q=fit-99&limit=50",
    "q=no-match (full scan)": "/kfjupyter/api/runs?q=zzz-no-match&limit=50",
    "q+status+backend": "/kfjupyter/api/runs?q=model_1&status=succeeded&backend=local&limit=50",
    "deep page offset=9000": "/kfjupyter/api/runs?limit=50&offset=9000",
    "sort=oldest": "/kfjupyter/api/runs?sort=oldest&limit=50",
    "sort=name": "/kfjupyter/api/runs?sort=name&limit=50",
    "sort=duration": "/kfjupyter/api/runs?sort=duration&limit=50",
    "sort=status, page 2": "/kfjupyter/api/runs?sort=status&limit=50&offset=50",
    "compare 50 runs": "/kfjupyter/api/runs/compare?ids=" + ",".join(f"run-{i:06d}" for i in range(50)),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kfjupyter-bench-runs-") as tmp:
        home = Path(tmp)
        fill_s = fill(home, args.runs)
        port = free_port()
        proc = start_server(home, port)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            results = {name: measure(conn, path, args.requests) for name, path in SCENARIOS.items()}
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    ok = all(r["p50_ms"] <= TARGET_P50_MS for name, r in results.items() if not name.startswith("compare"))
    if args.json:
        print(
            json.dumps(
                {"runs": args.runs, "fill_s": round(fill_s, 2), "results": results, "ok": ok}, indent=2
            )
        )
        return 0 if ok else 1
    print(f"store: {args.runs} runs with steps and metrics, filled in {fill_s:.1f} s")
    print(f"{'scenario':<26}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'rows':>6}")
    for name, r in results.items():
        print(f"{name:<26}{r['p50_ms']:>9.2f}{r['p95_ms']:>9.2f}{r['max_ms']:>9.2f}{r['rows']:>6}")
    print(f"list p50 target <= {TARGET_P50_MS:.0f} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
