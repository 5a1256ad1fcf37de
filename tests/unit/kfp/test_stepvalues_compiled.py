"""What loading a KFP run's step reads from its compiled pipeline: payloads, producers, task names."""

from __future__ import annotations

import pytest

from kfjupyter.compiler.ir import CodeBlock, Parameter, Pipeline, Step, StepSettings
from kfjupyter.errors import InvalidInput
from kfjupyter.kfp.pipeline import compile_to_yaml
from kfjupyter.kfp.stepvalues import Producer, read_compiled


def pipeline() -> Pipeline:
    return Pipeline(
        name="My Notebook",
        parameters=[Parameter(name="n", type="int", default=3, cell=0)],
        steps=[
            Step(
                name="Load Data",
                blocks=[CodeBlock(cell=1, source="rows = list(range(n))")],
                outputs=["rows"],
                parameters=["n"],
                settings=StepSettings(volumes=[{"pvc": "scratch", "mount_path": "/scratch", "new": "true"}]),
            ),
            Step(
                name="fit",
                blocks=[CodeBlock(cell=2, source="model = sum(rows)")],
                inputs={"rows": "Load Data"},
                outputs=["model"],
            ),
        ],
    )


def test_the_compiled_pipeline_says_who_produced_each_input_and_its_task_folders() -> None:
    compiled = read_compiled(compile_to_yaml(pipeline(), image="registry.example/kfjupyter:1"))
    assert compiled.name == "my-notebook" and compiled.default_root is None
    assert compiled.defaults == {"n": 3}
    assert sorted(compiled.steps) == ["Load Data", "fit"]  # the volume-creating task is no step
    load, fit = compiled.steps["Load Data"], compiled.steps["fit"]
    assert load.tasks == ("step-load-data", "Load Data") and load.payload.parameters == {"n": "int"}
    assert fit.payload.inputs == ["rows"] and fit.payload.outputs == ["model"]
    assert fit.producers == {"rows": Producer("Load Data", ("step-load-data", "Load Data"), "out_rows")}


@pytest.mark.parametrize("text", ["a: [", "root: {}", "- 1", ""])
def test_a_file_that_is_no_pipeline_spec_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="not a KFP pipeline spec"):
        read_compiled(text)
