"""Spawner scale: KfJupyterSpawner vs KubeSpawner on the same local cluster, in one run.

Usage: python bench/spawner_scale.py [--users 100 500] [--steady-s 60] [--poll-s 10] [--no-pvc]

One throw-away cluster (bigger CPU nodes so N pods fit) serves both spawners in turn. Each
spawner runs in its own driver process (ours under this interpreter, KubeSpawner 7 under
``.venv-bench``), so each process's CPU seconds are that spawner's alone. A driver builds N
spawner objects with MockUser-style stand-ins for ``user``/``hub`` (as KubeSpawner's own tests
do), then:

0. before any driver, a warm-up: 40 PVC + pod pairs through the admin client, Running, deleted
   (the first spawner on a cold cluster paid about 25% more spawn wall at 200 users);
1. ``spawn``: start() for all N users (64 at a time, z2jh's concurrentSpawnLimit) until every
   start() returned *and* its server answers HTTP at the returned address, as the hub checks
   before routing (ours returns when the pod is Ready; KubeSpawner when it is Running with an
   IP and leaves the HTTP wait to the hub: the check makes both measure the same moment);
2. ``steady``: ``--steady-s`` seconds with every server running, poll() on every spawner each
   ``--poll-s`` seconds (the hub polls every 30 s by default; this is 3x more often);
3. ``respawn``: stop() all, then start() all again on the same objects (state kept, as the hub does);
4. ``stop``: stop() all.

API requests are counted by a small counting proxy in front of the API server: each driver gets
its own kubeconfig pointing at its own plain-HTTP listener on 127.0.0.1, and the proxy forwards
to the real HTTPS API server with the same bearer token. Every request head (method, path,
query) is recorded with a timestamp, then split into the phases the driver reports. Writes are
POST/PUT/PATCH/DELETE; LIST is a GET on a collection without ``watch``; WATCH has ``watch=true``.

Pods are light: ``sleep 3600`` (the process kubelet runs commands on the host). Both spawners use
the same port; one tiny HTTP server on 0.0.0.0:<port> in this process answers for every pod's
loopback IP: our pods' startup probe and both spawners' HTTP check. Each spawn is split into
stages by a neutral pod watch (``spawn_timeline``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from counting_proxy import CountingProxy, Request

ROOT = Path(__file__).resolve().parent.parent
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
ANCHOR = ROOT / "bench" / "anchors" / "kubespawner_scale.py"
CONCURRENCY = 64
WARM_UP_PODS = 40


# ----------------------------------------------------------------------------- probe responder


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        return


# ----------------------------------------------------------------------------- our driver


def _mock_user(index: int) -> Any:
    name = f"user{index:04d}"
    return SimpleNamespace(
        name=name, id=index, url=f"/user/{name}/", groups=[], escaped_name=name, orm_user=None, server=None
    )


def _mock_hub() -> Any:
    return SimpleNamespace(
        public_host="hub", url="http://hub:8081/hub/", base_url="/hub/", api_url="http://hub:8081/hub/api"
    )


class Marks:
    """Phase marks a driver prints: name, wall time, CPU seconds of this process so far."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def mark(self, name: str, **extra: Any) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        item = {"mark": name, "t": time.time(), "cpu_s": usage.ru_utime + usage.ru_stime, **extra}
        self.items.append(item)
        print("MARK " + json.dumps(item), flush=True)


async def server_answers(where: Any) -> None:
    """Wait until the server start() pointed at answers HTTP, as the hub does before routing to it.

    start() returns ``(ip, port)`` (ours) or a URL (KubeSpawner); both spawners are charged the
    same check, so one waiting for the server inside start() and one leaving it to the hub
    measure the same moment.
    """
    if isinstance(where, str):
        url = urlsplit(where)
        host, port = str(url.hostname), int(url.port or 80)
    else:
        host, port = str(where[0]), int(where[1])
    delay = 0.01
    while True:
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"GET /api HTTP/1.0\r\nHost: bench\r\n\r\n")
            await writer.drain()
            status = await reader.readline()
            writer.close()
            if status.split(b" ")[1:2] == [b"200"]:
                return
        except (OSError, IndexError):
            pass
        await asyncio.sleep(delay)
        delay = min(1.0, delay * 2)


async def run_phases(spawners: list[Any], args: argparse.Namespace, marks: Marks) -> None:
    """The phases both drivers run, on spawner objects with start/stop/poll."""
    gate = asyncio.Semaphore(CONCURRENCY)
    timings: list[float] = []
    spans: dict[str, list[float]] = {}  # user -> wall times start() was called / returned

    async def start(spawner: Any) -> None:
        async with gate:
            t0, wall = time.monotonic(), time.time()
            where = await asyncio.wait_for(spawner.start(), 900)
            await asyncio.wait_for(server_answers(where), 900)
            timings.append(time.monotonic() - t0)
            spans[spawner.user.name] = [wall, time.time()]

    async def stop(spawner: Any) -> None:
        async with gate:
            await spawner.stop()
            spawner.clear_state()

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    marks.mark("spawn_start")
    await asyncio.gather(*(start(s) for s in spawners))
    marks.mark("spawn_done", p50_s=pct(timings, 0.5), p95_s=pct(timings, 0.95), spans=dict(spans))
    await asyncio.sleep(2)
    marks.mark("steady_start")
    end = time.monotonic() + args.steady_s
    polls = 0
    while time.monotonic() < end:
        results = await asyncio.gather(*(s.poll() for s in spawners))
        polls += len(results)
        bad = [r for r in results if r is not None]
        if bad:
            raise SystemExit(f"poll() reported {len(bad)} stopped servers during the steady state")
        await asyncio.sleep(max(0.0, min(args.poll_s, end - time.monotonic())))
    marks.mark("steady_done", polls=polls)
    if args.respawn:
        marks.mark("stop1_start")
        await asyncio.gather(*(stop(s) for s in spawners))
        marks.mark("stop1_done")
        timings.clear()
        spans.clear()
        marks.mark("respawn_start")
        await asyncio.gather(*(start(s) for s in spawners))
        marks.mark("respawn_done", p50_s=pct(timings, 0.5), p95_s=pct(timings, 0.95), spans=dict(spans))
    marks.mark("stop_start")
    await asyncio.gather(*(stop(s) for s in spawners))
    marks.mark("stop_done")


async def drive_ours(args: argparse.Namespace) -> None:
    marks = Marks()
    marks.mark("process_start")
    from kfjupyter_spawner.cluster_view import ClusterView
    from kfjupyter_spawner.spawner import KfJupyterSpawner
    from traitlets.config import Config

    c = Config()
    c.KfJupyterSpawner.namespace = args.namespace
    c.KfJupyterSpawner.kubeconfig = args.kubeconfig
    c.KfJupyterSpawner.profiles_file = args.profiles
    c.KfJupyterSpawner.cmd = ["sleep"]
    c.KfJupyterSpawner.args = ["3600"]
    c.KfJupyterSpawner.port = args.port
    c.KfJupyterSpawner.start_timeout = 900
    if args.legacy_probe:
        from kfjupyter_spawner import pods, writes

        original = pods.build_pod

        def legacy(plan: Any, ctx: Any) -> Any:
            pod = original(plan, ctx)
            container = pod.spec.containers[0]
            container.readiness_probe, container.startup_probe = container.startup_probe, None
            container.readiness_probe.period_seconds, container.readiness_probe.failure_threshold = 2, 3
            return pod

        writes.build_pod = legacy
    spawners = [KfJupyterSpawner(config=c, user=_mock_user(i), hub=_mock_hub()) for i in range(args.users)]
    marks.mark("objects_built")
    await run_phases(spawners, args, marks)
    ClusterView.close_all()


# ----------------------------------------------------------------------------- orchestrator


def _profiles(path: Path, pvc: bool) -> Path:
    volumes = (
        "    volumes:\n      - {kind: user, name: home, mount_path: /home/jovyan, size: 1Gi}\n" if pvc else ""
    )
    path.write_text(
        "profiles:\n"
        "  - slug: bench\n"
        "    display_name: Bench (sleep)\n"
        "    default: true\n"
        "    image: {default: busybox}\n"
        "    resources:\n"
        "      cpu: {request: 10m}\n"
        "      memory: {request: 16Mi}\n" + volumes,
        encoding="utf-8",
    )
    return path


def _run_driver(cmd: list[str], env: dict[str, str], log: Path) -> list[dict[str, Any]]:
    marks: list[dict[str, Any]] = []
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=ROOT)
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                if line.startswith("MARK "):
                    item = json.loads(line[5:])
                    marks.append(item)
                    print(f"    {item['mark']:<14} cpu={item['cpu_s']:.1f}s", file=sys.stderr, flush=True)
            code = proc.wait()
        finally:
            if proc.poll() is None:  # interrupted: end the driver we started
                proc.terminate()
                proc.wait(30)
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise SystemExit(f"driver {cmd[1]} failed ({code}):\n{tail}")
    return marks


def _window(requests: list[Request], label: str, t0: float, t1: float) -> dict[str, int]:
    out = {"write": 0, "list": 0, "watch": 0, "get": 0, "total": 0}
    for r in requests:
        if r.label == label and t0 <= r.t <= t1:
            out[r.kind] += 1
            out["total"] += 1
    return out


def summarize(marks: list[dict[str, Any]], requests: list[Request], label: str, users: int) -> dict[str, Any]:
    at = {m["mark"]: m for m in marks}

    def span(a: str, b: str) -> dict[str, int]:
        return _window(requests, label, at[a]["t"], at[b]["t"])

    spawn = span("process_start", "spawn_done")
    steady = span("steady_start", "steady_done")
    steady_s = at["steady_done"]["t"] - at["steady_start"]["t"]
    out: dict[str, Any] = {
        "spawn_wall_s": at["spawn_done"]["t"] - at["spawn_start"]["t"],
        "spawn_p50_s": at["spawn_done"]["p50_s"],
        "spawn_p95_s": at["spawn_done"]["p95_s"],
        "writes_per_spawn_first": spawn["write"] / users,
        "requests_first_spawn": spawn,
        "steady_req_per_min": steady["total"] * 60 / steady_s,
        "steady_lists_per_min": steady["list"] * 60 / steady_s,
        "steady": steady,
        "polls": at["steady_done"]["polls"],
        "cpu_spawn_s": at["spawn_done"]["cpu_s"] - at["objects_built"]["cpu_s"],
        "cpu_steady_s": at["steady_done"]["cpu_s"] - at["steady_start"]["cpu_s"],
        "cpu_total_s": at["stop_done"]["cpu_s"],
        "stop_wall_s": at["stop_done"]["t"] - at["stop_start"]["t"],
    }
    if "respawn_done" in at:
        again = span("respawn_start", "respawn_done")
        out["respawn_wall_s"] = at["respawn_done"]["t"] - at["respawn_start"]["t"]
        out["writes_per_spawn_again"] = again["write"] / users
        out["requests_respawn"] = again
        out["writes_per_stop"] = span("stop1_start", "stop1_done")["write"] / users
    return out


def _wait_sa(kube: Any, namespace: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        accounts = kube.core.list_namespaced_service_account(namespace).items
        if any(a.metadata.name == "default" and a.secrets for a in accounts):
            return
        time.sleep(0.2)
    raise SystemExit(f"no default service account in {namespace}")


def _warm_up(kube: Any, pvc: bool) -> None:
    """Spawn-like pods (PVC + pod) through the admin client, until Running, then delete them.

    The first spawner measured on a fresh cluster otherwise pays for cold scheduler, volume and
    kubelet paths (about 25% of its spawn wall at 200 users), which biased the order of the run.
    """
    ns = "kfj-warm-up"
    kube.core.create_namespace({"metadata": {"name": ns}})
    _wait_sa(kube, ns)
    for i in range(WARM_UP_PODS):
        volumes, mounts = [], []
        if pvc:
            claim = {"metadata": {"name": f"warm-{i}"}, "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}}}  # fmt: skip
            kube.core.create_namespaced_persistent_volume_claim(ns, claim)
            volumes = [{"name": "home", "persistentVolumeClaim": {"claimName": f"warm-{i}"}}]
            mounts = [{"name": "home", "mountPath": "/home/jovyan"}]
        container = {"name": "c", "image": "busybox", "command": ["sleep", "3600"], "volumeMounts": mounts}
        pod = {"metadata": {"name": f"warm-{i}"}, "spec": {"containers": [container], "volumes": volumes}}
        kube.core.create_namespaced_pod(ns, pod)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        pods = kube.core.list_namespaced_pod(ns).items
        if sum(p.status.phase == "Running" for p in pods) == WARM_UP_PODS:
            break
        time.sleep(0.5)
    kube.core.delete_namespace(ns)
    while time.monotonic() < deadline + 60 and any(
        n.metadata.name == ns for n in kube.core.list_namespace().items
    ):  # no deletions in the background of the measured runs
        time.sleep(1)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def orchestrate(args: argparse.Namespace) -> int:
    for signum in (signal.SIGINT, signal.SIGTERM):  # tear the cluster down however the run ends
        signal.signal(signum, _interrupt)
    from spawn_timeline import Timeline, breakdown

    from kfjupyter.cluster.config import ClusterConfig, KubeletSettings
    from kfjupyter.cluster.controlplane import down, free_port, up
    from kfjupyter.k8s.client import Kube
    from kfjupyter.k8s.nodes import NodeSpec

    biggest = max(args.users)
    per_node = 250
    nodes = [
        NodeSpec(name=f"cpu-{i}", cpu="64", memory="256Gi", pods=per_node)
        for i in range(max(1, math.ceil(biggest * 1.2 / per_node)))
    ]
    results: dict[int, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="kfj-spawner-scale-") as tmp:
        work = Path(tmp)
        state_dir = args.state_dir or work / "cluster"
        probe_port = free_port()
        probe = ThreadingHTTPServer(("0.0.0.0", probe_port), _Ok)
        probe.daemon_threads = True
        threading.Thread(target=probe.serve_forever, daemon=True).start()
        t0 = time.monotonic()
        settings = KubeletSettings(backoff_base_s=1.0, backoff_max_s=8.0)
        state = up(
            ClusterConfig(state_dir=state_dir, nodes=nodes, kubelet=settings, ready_timeout_s=120),
            progress=lambda m: print(f"  {m}", file=sys.stderr),
        )
        print(
            f"cluster up in {time.monotonic() - t0:.1f}s ({len(nodes)} nodes x {per_node} pods)",
            file=sys.stderr,
        )
        proxy = CountingProxy(state.api_port, str(state.state_dir / "certs" / "ca.crt"))
        timeline = Timeline(Kube(state.kubeconfig))  # its own client: not counted by the proxy
        timeline.start()
        try:
            with Kube(state.kubeconfig) as kube:
                for ns in ("kfj-ours", "kfj-kubespawner"):
                    kube.core.create_namespace({"metadata": {"name": ns}})
                    _wait_sa(kube, ns)
                t1 = time.monotonic()
                _warm_up(kube, args.pvc)
                print(f"cluster warmed up in {time.monotonic() - t1:.1f}s", file=sys.stderr, flush=True)
            proxy.start(["ours", "kubespawner"])
            profiles = _profiles(work / "profiles.yaml", args.pvc)
            for users in args.users:
                results[users] = {}
                for label in args.spawners:
                    kubeconfig = proxy.kubeconfig(label, state.token, work / f"kubeconfig-{label}")
                    namespace = "kfj-ours" if label == "ours" else "kfj-kubespawner"
                    common = [
                        "--users", str(users), "--steady-s", str(args.steady_s), "--poll-s", str(args.poll_s),
                        "--namespace", namespace, "--kubeconfig", str(kubeconfig), "--port", str(probe_port),
                    ]  # fmt: skip
                    if not args.respawn:
                        common.append("--no-respawn")
                    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PYTHONUNBUFFERED": "1"}
                    if label == "ours":
                        cmd = [sys.executable, __file__, "--driver", "--profiles", str(profiles)]
                        if args.legacy_probe:
                            cmd.append("--legacy-probe")
                    else:
                        cmd = [str(BENCH_PYTHON), str(ANCHOR)]
                        if not args.pvc:
                            common.append("--no-pvc")
                    print(f"  {label}: {users} users", file=sys.stderr, flush=True)
                    marks = _run_driver([*cmd, *common], env, work / f"{label}-{users}.log")
                    results[users][label] = summarize(marks, proxy.requests, label, users)
                    for mark, key in (("spawn_done", "stages_first"), ("respawn_done", "stages_respawn")):
                        spans = next((m.get("spans") for m in marks if m["mark"] == mark), None)
                        if spans:
                            results[users][label][key] = breakdown(timeline, namespace, spans)
                    print(json.dumps({"users": users, "spawner": label, **results[users][label]}), flush=True)
                    time.sleep(3)
        finally:
            timeline.stop()
            proxy.stop()
            probe.shutdown()
            down(state_dir)
    _table(results)
    return 0


def _table(results: dict[int, dict[str, dict[str, Any]]]) -> None:
    rows = [
        ("spawn wall, all started + answering (s)", "spawn_wall_s", "{:.1f}"),
        ("spawn latency p50 / user (s)", "spawn_p50_s", "{:.1f}"),
        ("spawn latency p95 / user (s)", "spawn_p95_s", "{:.1f}"),
        ("API writes / spawn, first", "writes_per_spawn_first", "{:.2f}"),
        ("API writes / spawn, restart", "writes_per_spawn_again", "{:.2f}"),
        ("API writes / stop", "writes_per_stop", "{:.2f}"),
        ("restart wall, all returned (s)", "respawn_wall_s", "{:.1f}"),
        ("steady API requests / min", "steady_req_per_min", "{:.1f}"),
        ("steady LISTs / min", "steady_lists_per_min", "{:.1f}"),
        ("hub CPU s, spawn phase", "cpu_spawn_s", "{:.1f}"),
        ("hub CPU s, 60 s steady", "cpu_steady_s", "{:.2f}"),
        ("hub CPU s, whole process", "cpu_total_s", "{:.1f}"),
    ]
    for users, by in results.items():
        ours, ks = by.get("ours", {}), by.get("kubespawner", {})
        print(f"\n{users} users                              ours      KubeSpawner  KubeSpawner/ours")
        for title, key, fmt in rows:
            a, b = ours.get(key), ks.get(key)
            ratio = (
                f"{b / a:.2f}x" if isinstance(a, float | int) and isinstance(b, float | int) and a else "-"
            )
            cells = [fmt.format(v) if isinstance(v, float | int) else "-" for v in (a, b)]
            print(f"  {title:<38}{cells[0]:>8}  {cells[1]:>11}  {ratio:>10}")
        for key, title in (("stages_first", "first spawn"), ("stages_respawn", "restart")):
            if key not in ours and key not in ks:
                continue
            print(f"  where a {title} goes, p50 / p95 s (neutral pod watch)")
            for stage in ("create", "bind", "start", "ready", "notice", "total"):
                cells = []
                for by in (ours, ks):
                    got = by.get(key, {}).get(stage)
                    cells.append(f"{got['p50']:.2f} / {got['p95']:.2f}" if got else "-")
                print(f"    {stage:<36}{cells[0]:>14}  {cells[1]:>14}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[100])
    parser.add_argument("--steady-s", type=float, default=60.0)
    parser.add_argument("--poll-s", type=float, default=10.0)
    parser.add_argument("--no-pvc", dest="pvc", action="store_false")
    parser.add_argument("--no-respawn", dest="respawn", action="store_false")
    parser.add_argument("--spawners", nargs="+", default=["ours", "kubespawner"])
    parser.add_argument("--state-dir", type=Path, default=None)
    parser.add_argument(
        "--legacy-probe",
        action="store_true",
        help="give our pods the readiness probe of earlier versions (every 2 s, for the pod's life) "
        "instead of the startup probe, to measure what it cost",
    )
    # driver mode (internal)
    parser.add_argument("--driver", action="store_true")
    parser.add_argument("--namespace", default="kfj-ours")
    parser.add_argument("--kubeconfig", default="")
    parser.add_argument("--profiles", default="")
    parser.add_argument("--port", type=int, default=8888)
    args = parser.parse_args()
    if args.driver:
        args.users = args.users[0]
        asyncio.run(drive_ours(args))
        return 0
    return orchestrate(args)


if __name__ == "__main__":
    raise SystemExit(main())
