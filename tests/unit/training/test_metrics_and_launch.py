"""Stdout metric lines (Katib style) and the torchrun-compatible environment of each rank."""

from __future__ import annotations

import math

import pytest

from kfjupyter.training.launch import rank_env
from kfjupyter.training.metrics import MetricCounter, parse_metric_line


@pytest.mark.parametrize(
    ("line", "pairs"),
    [
        ("loss=0.25", [("loss", 0.25)]),
        ("  epoch=3 loss=0.25, acc=.91\n", [("epoch", 3.0), ("loss", 0.25), ("acc", 0.91)]),
        ("lr = 1e-3; val/loss=-2", [("lr", 0.001), ("val/loss", -2.0)]),
        ("loss=0.25 done", []),
        ("a=b", []),
        ("x=1.2.3", []),
        ("plain text", []),
        ("", []),
        ("Epoch 1: loss=0.3", []),
    ],
)
def test_parse_metric_line(line: str, pairs: list[tuple[str, float]]) -> None:
    assert parse_metric_line(line) == pairs


def test_nan_is_kept() -> None:
    [(name, value)] = parse_metric_line("loss=nan")
    assert name == "loss" and math.isnan(value)


def test_counter_per_rank_and_name() -> None:
    counter = MetricCounter()
    assert [counter.index(0, "loss") for _ in range(3)] == [0, 1, 2]
    assert counter.index(1, "loss") == 0
    assert counter.index(0, "loss", explicit=10) == 10
    assert counter.index(0, "loss") == 11


def test_rank_env_matches_torchrun() -> None:
    env = rank_env(rank=5, num_nodes=2, procs_per_node=4, master_port=29500)
    assert env["RANK"] == "5" and env["WORLD_SIZE"] == "8"
    assert env["LOCAL_RANK"] == "1" and env["LOCAL_WORLD_SIZE"] == "4"
    assert env["GROUP_RANK"] == "1" and env["PET_NODE_RANK"] == "1"
    assert env["MASTER_PORT"] == env["PET_MASTER_PORT"] == "29500"
    assert env["MASTER_ADDR"] == env["PET_MASTER_ADDR"]
    assert (env["PET_NNODES"], env["PET_NPROC_PER_NODE"]) == ("2", "4")
