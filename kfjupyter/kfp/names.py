"""The KFP task name of each step, and the names KFP and Argo would confuse, refused before compiling.

A step becomes the KFP task ``step-<name>``: lower case, every run of other characters a ``-``
(:func:`component_name`). On a KFP 2.x server with Argo Workflows the task is the workflow node
``<task>``, prepared by the driver node ``<task>-driver`` and run by the pod node ``executor``
(``executor(N)`` with retries); run tracking finds a step by its task name alone
(:mod:`kfjupyter.kfp.tracking`, :mod:`kfjupyter.kfp.steppods`). So two steps must never share a
task name (the kfp SDK would quietly rename the second ``-2``), and no step's task name may be
another step's driver name. The ``step-`` prefix keeps steps named ``root`` or ``executor`` apart
from the workflow's own ``root`` and ``executor`` nodes. Pure: no kfp import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kfjupyter.errors import InvalidInput

DRIVER_SUFFIX = "-driver"


def component_name(step_name: str) -> str:
    """A KFP-safe component (and task) name for a step (the original name is kept as the display name)."""
    safe = re.sub(r"[^a-z0-9]+", "-", step_name.lower()).strip("-")
    return f"step-{safe or 'unnamed'}"


def check_task_names(steps: Iterable[str]) -> dict[str, str]:
    """KFP task name -> step name; ``InvalidInput`` naming the steps whose task names collide."""
    tasks: dict[str, str] = {}
    for step in steps:
        task = component_name(step)
        if task in tasks:
            raise InvalidInput(
                f"steps {tasks[task]!r} and {step!r} both become the Kubeflow Pipelines task {task!r} "
                "(names are lower-cased, other characters become '-'); rename one of them"
            )
        tasks[task] = step
    for task, step in tasks.items():
        base = task.removesuffix(DRIVER_SUFFIX)
        if base != task and base in tasks:
            raise InvalidInput(
                f"step {step!r} becomes the Kubeflow Pipelines task {task!r}, the name of the driver of "
                f"step {tasks[base]!r}; rename step {step!r}"
            )
    return tasks
