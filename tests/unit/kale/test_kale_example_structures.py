"""The tag structure of Kale's public example notebooks, rebuilt with trivial code of the same shape.

Each table is the sequence of (cell kind, tags) of one example; the code is ours, reading and
assigning the same names. The expected groups are what Kale's notebook processor makes of those
tags: markdown and ``skip`` cells are left out, untagged cells join the step above.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.kale.conformance import build, cells_per_step, codes
from tests.unit.notebook.nbfactory import code, markdown

IRIS_METADATA = {
    "experiment_name": "iris",
    "katib_run": False,
    "pipeline_name": "iris",
    "snapshot_volumes": True,
    "steps_defaults": ["label:access-ml-pipeline:true"],
    "volumes": [{"name": "ws", "mount_point": "/home/jovyan", "type": "clone", "size": 5, "size_type": "Gi"}],
}


def _candies() -> list[Any]:
    return [
        markdown("# candies"),
        code("import random", "imports"),
        code("CANDIES = 20", "pipeline-parameters"),
        code("def handful(left):\n    return random.randint(1, left) if left else 0", "functions"),
        code("print(CANDIES)", "step:sack"),
        code("kid1 = handful(CANDIES)", "prev:sack", "step:kid1"),
        code("kid2 = handful(CANDIES - kid1)", "prev:kid1", "step:kid2"),
        code("kid3 = handful(CANDIES - kid1 - kid2)", "prev:kid2", "step:kid3"),
    ]


def _iris() -> list[Any]:
    return [
        markdown("# install"),
        code("!pip3 install --user -r requirements.txt", "skip"),
        code("import random", "imports"),
        code("N = 5\nDEPTH = 2", "pipeline-parameters"),
        markdown("# data"),
        code("xs = [random.random() for _ in range(N)]", "step:load_transform_data", "report:disabled"),
        code("train, test = xs[:3], xs[3:]"),
        code("model = {'depth': DEPTH}", "prev:load_transform_data", "step:train_model"),
        code("fitted = dict(model, n=len(train))"),
        code("preds = [fitted['n'] * t for t in test]", "step:evaluate_model", "prev:load_transform_data",
             "prev:train_model"),
        code("accuracy = sum(preds) / len(preds)"),
        code("served = fitted", "skip"),
        markdown("# metrics"),
        code("print(accuracy)", "pipeline-metrics"),
    ]  # fmt: skip


def _numpy_hp() -> list[Any]:
    return [
        markdown("# numpy"),
        code("w = 5\nh = 7", "parameters"),
        code("import random", "imports"),
        code("a = [[random.random()] * h for _ in range(w)]", "block:init"),
        code("c = sum(map(sum, a)) / (w * h)\nprint(c)", "block:mean", "prev:init"),
        code("b = sum(map(sum, a))\nprint(b)", "block:sum", "prev:init"),
    ]


def _parameters_and_metrics() -> list[Any]:
    return [
        code("import random", "imports"),
        code("d1 = 5\nd2 = 6\nflag = True\nlabel = 'test'", "pipeline-parameters"),
        code("matrix = [[random.random()] * d2 for _ in range(d1)]", "limit:nvidia.com/gpu:2", "step:create_matrix",
             "cache:enabled"),
        code("total = sum(map(sum, matrix))", "prev:create_matrix", "step:sum_matrix"),
        code("print(d1)\nprint(d2)\nprint(total)", "pipeline-metrics"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("cells", "metadata", "kale_groups", "setup"),
    [
        (_candies(), {}, {"sack": [4], "kid1": [5], "kid2": [6], "kid3": [7]}, [1, 3]),
        (
            _iris(),
            IRIS_METADATA,
            {
                "load_transform_data": [5, 6],
                "train_model": [7, 8],
                "evaluate_model": [9, 10],
                "pipeline_metrics": [13],
            },
            [2],
        ),
        (_numpy_hp(), {}, {"init": [3], "mean": [4], "sum": [5]}, [1, 2]),
        (
            _parameters_and_metrics(),
            {},
            {"create_matrix": [2], "sum_matrix": [3], "pipeline_metrics": [4]},
            [0],
        ),
    ],
    ids=["candies_sharing", "iris", "numpy_hp", "parameters_and_metrics"],
)
def test_kale_examples_get_kales_cells_per_step(
    cells: list[Any], metadata: dict[str, Any], kale_groups: dict[str, list[int]], setup: list[int]
) -> None:
    pipeline, diags = build(*cells, kubeflow_notebook=metadata)
    assert cells_per_step(pipeline) == kale_groups
    assert [
        b.cell for b in pipeline.setup
    ] == setup  # numpy_hp: papermill's 'parameters' cell is set-up (KF004)
    assert codes(diags, "error") == []


def test_the_iris_example_is_refused_for_a_cluster_only_because_of_its_cloned_volume() -> None:
    _, diags = build(*_iris(), target="cluster", kubeflow_notebook=IRIS_METADATA)
    assert [d.code for d in diags if d.severity == "error"] == ["KF010"]
