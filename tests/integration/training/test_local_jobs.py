"""Local training jobs in real processes: torch.distributed, failures, cancel, shell-hostile code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import kfjupyter
from kfjupyter.errors import InvalidInput
from kfjupyter.store import RunStore
from kfjupyter.training import TrainingFailed, get_job, list_jobs, train
from kfjupyter.training.job import BackendNotAvailable

from .conftest import gone, notebook_function

pytestmark = pytest.mark.integration

DDP_SOURCE = """
import torch
import torch.distributed as dist
import kfjupyter

def fit(steps, lr=0.1):
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    total = torch.tensor([float(rank + 1)])
    dist.all_reduce(total)
    print(f"rank {rank}/{world} all_reduce={total.item():g}")
    torch.manual_seed(0)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    x, y = torch.randn(32, 4), torch.randn(32, 1)
    for step in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        print(f"step={step} loss={loss.item():.6f}")
        kfjupyter.log_metric("lr", lr, step=step)
    dist.destroy_process_group()
"""


def test_torch_distributed_job_completes_with_logs_and_metrics(store: RunStore) -> None:
    fit = notebook_function(DDP_SOURCE, "fit")
    job = train(fit, args=(3,), kwargs={"lr": 0.05}, procs_per_node=2, store=store)
    done = job.wait(timeout=180)
    assert done.status == "Complete", done.error
    assert [(s.name, s.status, s.exit_code) for s in done.steps] == [
        ("rank-0", "Complete", 0),
        ("rank-1", "Complete", 0),
    ]
    for rank in (0, 1):
        lines = list(job.logs(rank=rank))
        assert any(f"stdout rank {rank}/2 all_reduce=3" in line for line in lines), lines
        assert sum(" stdout step=" in line for line in lines) == 3
    merged = list(job.logs())
    assert {line.split("]")[0] for line in merged} == {"[rank-0", "[rank-1"}
    metrics = job.metrics()
    for rank in (0, 1):
        assert [p.index for p in metrics["loss"] if p.rank == rank] == [0, 1, 2]
        assert [p.value for p in metrics["lr"] if p.rank == rank] == [0.05] * 3
    assert len(list(job.logs(rank=0, tail=2))) == 2


FAIL_SOURCE = """
import os, time

def flaky():
    if os.environ["RANK"] == "1":
        raise ValueError("boom on rank " + os.environ["RANK"])
    print("rank 0 waits forever", flush=True)
    time.sleep(600)
"""


def test_a_failing_rank_fails_the_job_within_seconds(store: RunStore) -> None:
    job = train(notebook_function(FAIL_SOURCE, "flaky"), procs_per_node=2, store=store)
    start = time.monotonic()
    with pytest.raises(TrainingFailed) as caught:
        job.wait(timeout=30)
    assert time.monotonic() - start < 10
    message = str(caught.value)
    assert "Rank 1 exited with 1" in message
    assert "Traceback (most recent call last)" in message and "ValueError: boom on rank 1" in message
    assert 'line 6, in flaky\n    raise ValueError("boom on rank " + os.environ["RANK"])' in message
    final = job.job
    assert final.status == "Failed" and final.reason == "RankFailed"
    ranks = {s.name: s for s in final.steps}
    assert ranks["rank-1"].status == "Failed" and ranks["rank-1"].exit_code == 1
    assert ranks["rank-0"].status == "Failed" and "rank 1 failed" in (ranks["rank-0"].error or "")


TRICKY_SOURCE = '''
import os, sys

def tricky(*args, **kwargs):
    text = """$HOME `whoami` $(echo hi) \\\\ 'single' "double"
EOF
EOM
"""
    print(repr(text))
    print(repr(args), repr(sorted(kwargs.items())))
    print("cwd", os.getcwd())
    print("extra", os.environ["KF_EXTRA"], "home", os.environ["HOME"])
'''


def test_code_and_arguments_arrive_exactly_as_written(store: RunStore, tmp_path: Path) -> None:
    fn = notebook_function(TRICKY_SOURCE, "tricky")
    cwd = os.getcwd()
    args = ("$HOME", "`id`", "EOF\n", 3)
    kwargs = {"nested": {"a": [1, 2.5, None]}, "q": "'\""}
    job = train(fn, args=args, kwargs=kwargs, env={"KF_EXTRA": "$PATH"}, store=store)
    assert job.wait(timeout=60).status == "Complete"
    assert os.getcwd() == cwd
    out = [line.split(" stdout ", 1)[1] for line in job.logs() if " stdout " in line]
    expected_text = "$HOME `whoami` $(echo hi) \\ 'single' \"double\"\nEOF\nEOM\n"
    assert out[0] == repr(expected_text)
    assert out[1] == f"{args!r} {sorted(kwargs.items())!r}"
    assert out[2] == f"cwd {cwd}"
    assert out[3] == f"extra $PATH home {os.environ['HOME']}"


HANG_SOURCE = """
import os, subprocess, time

def hang():
    child = subprocess.Popen(["sleep", "600"])
    print("ready", os.environ["RANK"], child.pid, flush=True)
    time.sleep(600)
"""


def test_cancel_stops_every_rank_and_what_they_started(store: RunStore) -> None:
    job = train(notebook_function(HANG_SOURCE, "hang"), procs_per_node=2, store=store)
    deadline = time.monotonic() + 60
    ready: list[str] = []
    while len(ready) < 2 and time.monotonic() < deadline:
        ready = [line for line in job.logs() if " stdout ready " in line]
        time.sleep(0.1)
    assert len(ready) == 2, ready
    grandchildren = [int(line.rsplit(" ", 1)[1]) for line in ready]
    workers = [w["pid"] for w in json.loads((store.run_dir(job.id) / "workers.json").read_text())]
    final = job.cancel()
    assert final.status == "Failed" and final.reason == "Cancelled"
    assert {s.status for s in final.steps} == {"Failed"}
    assert not [pid for pid in workers + grandchildren if not gone(pid)]
    with pytest.raises(TrainingFailed, match="Cancelled"):
        job.wait(timeout=5)


def test_a_fresh_process_sees_the_job_its_logs_and_metrics(store: RunStore, home: Path) -> None:
    fn = notebook_function("def report():\n    print('acc=0.75')\n    print('acc=0.8')\n", "report")
    job = train(fn, name="fresh-check", store=store)
    job.wait(timeout=60)
    code = (
        "from kfjupyter.training import get_job, list_jobs\n"
        "job = get_job('fresh-check')\n"
        "print(job.id, job.status, [p.value for p in job.metrics()['acc']], len(list(job.logs())))\n"
        "print([j.name for j in list_jobs()])\n"
    )
    env = {**os.environ, "KFJUPYTER_HOME": str(home)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    first, second = out.stdout.splitlines()
    assert first == f"{job.id} Complete [0.75, 0.8] 2"
    assert second == "['fresh-check']"
    assert get_job(job.id, store=store).status == "Complete"
    assert [j.id for j in list_jobs(store=store)] == [job.id]


def test_a_script_runs_with_its_arguments(store: RunStore, tmp_path: Path) -> None:
    script = tmp_path / "fit.py"
    script.write_text(
        "import os, sys\nprint('argv', sys.argv[1:])\nprint('loss=0.5', os.environ['WORLD_SIZE'])\n"
        "print('loss=0.25')\nsys.exit(int(sys.argv[-1]))\n"
    )
    job = kfjupyter.train(str(script), args=["--lr", 0.1, "$HOME", "0"], store=store)
    assert job.name == "fit"
    assert job.wait(timeout=60).status == "Complete"
    lines = list(job.logs())
    assert lines[0].endswith("stdout argv ['--lr', '0.1', '$HOME', '0']")
    assert [p.value for p in job.metrics()["loss"]] == [0.25]  # 'loss=0.5 1' is not a metric line
    failing = kfjupyter.train(script, args=["3"], store=store)
    with pytest.raises(TrainingFailed, match="Rank 0 exited with 3"):
        failing.wait(timeout=60)


def test_bad_requests_fail_before_anything_starts(store: RunStore) -> None:
    with pytest.raises(InvalidInput, match="num_nodes"):
        train(print, num_nodes=0, store=store)
    with pytest.raises(InvalidInput, match="memory"):
        train(print, memory="lots", store=store)
    with pytest.raises(InvalidInput, match="does not exist"):
        train("no/such/script.py", store=store)
    with pytest.raises(BackendNotAvailable, match="not available"):
        train(print, backend="kubernetes", store=store)
    assert store.list_runs(kind="training") == []


ENV_SOURCE = """
import os
import signal

def show():
    names = ["RANK", "LOCAL_RANK", "GROUP_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "PET_NODE_RANK", "PET_NNODES"]
    print(" ".join(os.environ[n] for n in names))
"""


def test_nodes_and_processes_get_torchrun_variables(store: RunStore) -> None:
    job = train(notebook_function(ENV_SOURCE, "show"), num_nodes=2, procs_per_node=2, store=store)
    done = job.wait(timeout=60)
    assert (done.num_nodes, done.procs_per_node, len(done.steps)) == (2, 2, 4)
    seen = {rank: next(job.logs(rank=rank)).split(" stdout ")[1] for rank in range(4)}
    assert seen == {0: "0 0 0 4 2 0 2", 1: "1 1 0 4 2 0 2", 2: "2 0 1 4 2 1 2", 3: "3 1 1 4 2 1 2"}


def test_a_job_outlives_the_process_that_started_it(store: RunStore, home: Path) -> None:
    kernel = (
        "import time, kfjupyter\n"
        "def slow():\n"
        "    time.sleep(1.5)\n"
        "    print('still here')\n"
        "print(kfjupyter.train(slow).id)\n"
    )
    env = {**os.environ, "KFJUPYTER_HOME": str(home)}
    out = subprocess.run([sys.executable, "-c", kernel], capture_output=True, text=True, env=env, check=True)
    job = get_job(out.stdout.strip(), store=store)
    assert job.status in ("Created", "Running")
    assert job.wait(timeout=60).status == "Complete"
    assert next(job.logs()).endswith(" stdout still here")


def test_a_dead_supervisor_fails_the_job_and_its_ranks_are_stopped(store: RunStore) -> None:
    job = train(notebook_function(HANG_SOURCE, "hang"), store=store)
    deadline = time.monotonic() + 60
    while not any(" stdout ready " in line for line in job.logs()) and time.monotonic() < deadline:
        time.sleep(0.1)
    supervisor = store.get_run(job.id).owner_pid
    assert supervisor is not None
    os.kill(supervisor, signal.SIGKILL)
    assert gone(supervisor)
    final = job.wait(timeout=10, raise_on_failure=False)
    assert (final.status, final.reason) == ("Failed", "Interrupted")
    assert "supervisor" in (final.error or "")


def test_following_logs_yields_lines_as_they_come_until_the_job_ends(store: RunStore) -> None:
    source = "import time\ndef tick():\n    for i in range(3):\n        print('tick', i)\n        time.sleep(0.3)\n"
    job = train(notebook_function(source, "tick"), store=store)
    lines = list(job.logs(follow=True))
    assert [line.split(" stdout ")[1] for line in lines] == ["tick 0", "tick 1", "tick 2"]
    assert job.status == "Complete"
