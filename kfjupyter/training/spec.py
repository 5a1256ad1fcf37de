"""The typed training spec: what to run, how many processes, and where (one model for all backends).

:class:`TrainingSpec` is validated once, when :func:`kfjupyter.train` is called; every backend reads
the same model. The function to run and its arguments are not part of the spec (they are Python
objects and travel as a cloudpickle payload); a script and its arguments are. Every string that
reaches the operating system (name, script path and arguments, environment names and values) is
checked to be passable there: no NUL, encodable as a file-system string, not over the kernel's
limit for one argument, so a job never fails to start for a value that could have been refused.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

BackendName = Literal["auto", "local", "kubernetes"]

#: A Kubernetes object name (RFC 1035 label): the same job name works on every backend.
NAME_PATTERN = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Environment variables torchrun takes its options from; the Trainer's torch plugin reserves them.
TORCHRUN_ENV_PREFIX = "PET_"
_CPU = re.compile(r"^\d+(\.\d+)?m?$")
_MEMORY = re.compile(r"^\d+(\.\d+)?([KMGTPE]i?|k)?$")
#: Linux's MAX_ARG_STRLEN: the longest single argument or ``NAME=value`` string exec accepts.
MAX_OS_STRING = 32 * 4096


def os_string_problem(value: str) -> str | None:
    """Why ``value`` cannot be passed to a process as an argument or in its environment, or ``None``."""
    if "\x00" in value:
        return "contains a NUL character, which no process argument or environment value can hold"
    try:
        size = len(os.fsencode(value))
    except UnicodeError:
        return "contains characters that cannot be encoded for the operating system"
    if size >= MAX_OS_STRING:
        return f"is {size} bytes long; the operating system accepts at most {MAX_OS_STRING - 1}"
    return None


def _os_string(value: str) -> str:
    problem = os_string_problem(value)
    if problem is not None:
        raise ValueError(f"the value {problem}")
    return value


#: A string that is passed to the operating system (an argument, a path, an environment value).
OsString = Annotated[str, AfterValidator(_os_string)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FunctionEntrypoint(_Model):
    """Run a Python function (shipped as a cloudpickle file) in every worker process."""

    kind: Literal["function"] = Field("function", description="Entry point kind.")
    function: str = Field(min_length=1, description="Qualified name of the function (for display).")


class ScriptEntrypoint(_Model):
    """Run ``python <path> <args...>`` in every worker process."""

    kind: Literal["script"] = Field("script", description="Entry point kind.")
    path: str = Field(min_length=1, description="Path of the Python script (absolute).")
    args: list[str] = Field(
        default_factory=list,
        description="Command-line arguments, passed as written (checked by TrainingSpec: no NUL).",
    )


Entrypoint = Annotated[FunctionEntrypoint | ScriptEntrypoint, Field(discriminator="kind")]


class TrainingSpec(_Model):
    """One training job: entry point, process layout, resources and backend."""

    name: str = Field(
        pattern=NAME_PATTERN,
        description="Job name: lower-case letters, digits and '-', starting with a letter, at most 63.",
    )
    entrypoint: Entrypoint = Field(description="What every worker process runs.")
    num_nodes: int = Field(1, ge=1, le=1024, description="Number of nodes (worker groups).")
    procs_per_node: int | None = Field(
        None, ge=1, le=1024, description="Worker processes per node; default: GPUs per node, else 1."
    )
    gpus_per_node: int = Field(0, ge=0, le=64, description="GPUs each node needs.")
    cpu: str | None = Field(None, description="CPU request per node, as a Kubernetes quantity ('4', '500m').")
    memory: str | None = Field(
        None, description="Memory request per node, as a Kubernetes quantity ('16Gi')."
    )
    image: str | None = Field(None, description="Container image (cluster backends only).")
    env: dict[str, OsString] = Field(
        default_factory=dict, description="Extra environment variables (values without NUL)."
    )
    backend: BackendName = Field("auto", description="'local', 'kubernetes', or 'auto' to pick.")
    runtime: str | None = Field(
        None, description="Training runtime name on the cluster (e.g. 'torch-distributed')."
    )

    @field_validator("cpu", mode="before")
    @classmethod
    def _cpu_text(cls, value: object) -> object:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{value:g}"
        return value

    @field_validator("cpu")
    @classmethod
    def _cpu_quantity(cls, value: str | None) -> str | None:
        if value is not None and not _CPU.match(value):
            raise ValueError(f"cpu must be a number of cores like '2', '0.5' or '500m', got {value!r}")
        return value

    @field_validator("memory")
    @classmethod
    def _memory_quantity(cls, value: str | None) -> str | None:
        if value is not None and not _MEMORY.match(value):
            raise ValueError(f"memory must be a quantity like '512Mi' or '16Gi', got {value!r}")
        return value

    @field_validator("entrypoint")
    @classmethod
    def _script_strings(
        cls, value: FunctionEntrypoint | ScriptEntrypoint
    ) -> FunctionEntrypoint | ScriptEntrypoint:
        if isinstance(value, ScriptEntrypoint):
            problems = [("script path", os_string_problem(value.path))]
            problems += [
                (f"script argument {i} (args[{i}])", os_string_problem(a)) for i, a in enumerate(value.args)
            ]
            bad = [f"{what} {problem}" for what, problem in problems if problem]
            if bad:
                raise ValueError("; ".join(bad))
        return value

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(name for name in value if not _ENV_NAME.match(name))
        if bad:
            raise ValueError(f"environment variable names must be identifiers, got {bad}")
        reserved = sorted(name for name in value if name.startswith(TORCHRUN_ENV_PREFIX))
        if reserved:
            raise ValueError(
                f"environment variables {reserved} are reserved: torchrun reads every PET_* variable as one "
                "of its options, and the Kubeflow Trainer refuses jobs that set them (it sets PET_NNODES, "
                "PET_NPROC_PER_NODE, PET_NODE_RANK, PET_MASTER_ADDR and PET_MASTER_PORT itself); use "
                "num_nodes and procs_per_node instead, or another name"
            )
        too_long = sorted(name for name, text in value.items() if os_string_problem(f"{name}={text}"))
        if too_long:
            raise ValueError(f"environment variables {too_long} are too long for the operating system")
        return value

    def world_size(self, procs_per_node: int) -> int:
        """Total number of worker processes with ``procs_per_node`` processes on each node."""
        return self.num_nodes * procs_per_node


def default_name(label: str) -> str:
    """Turn a function or script name into a valid job name (``train_mnist`` -> ``train-mnist``)."""
    text = re.sub(r"[^a-z0-9-]+", "-", label.lower()).strip("-")
    text = re.sub(r"-{2,}", "-", text)
    if not text or not text[0].isalpha():
        text = f"train-{text}".rstrip("-")
    return text[:63].rstrip("-")
