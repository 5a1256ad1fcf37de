"""What a compiled step carries: the :class:`KfpStep` payload and the artifact naming rules.

The payload is a JSON string handed to the container as an ordinary input parameter (never spliced
into code or YAML). It holds the step's code, how its KFP inputs and outputs map to variables, and
the files that travel with it (:mod:`kfjupyter.kfp.packing`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kfjupyter.compiler.ir import ParamType
from kfjupyter.runner.job import Source

JOB_INPUT = "step_job"
METRICS_OUTPUT = "metrics"
MANIFEST = "kfjupyter-value.json"
#: The compiled pipeline a submitted run keeps in its folder of the run store.
PACKAGE_FILE = "pipeline.yaml"


def param_input(name: str) -> str:
    """Component input name of pipeline parameter ``name``."""
    return f"param_{name}"


def value_input(variable: str) -> str:
    """Component input artifact name of upstream variable ``variable``."""
    return f"in_{variable}"


def value_output(variable: str) -> str:
    """Component output artifact name of variable ``variable``."""
    return f"out_{variable}"


class PackedFile(BaseModel):
    """A file the step carries: its path in the step's working folder and its compressed content."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description="POSIX path relative to the step's working folder (no '..', not absolute).")
    sha256: str = Field(description="SHA-256 of the file's content, checked when it is written.")
    data: str = Field(description="The content, zlib-compressed then base64-encoded.")


class KfpStep(BaseModel):
    """The step as its container sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pipeline: str = Field(description="Name of the pipeline (for logs).")
    step: str = Field(description="The step's name as written in the notebook.")
    kind: str = Field("step", description="'step' or 'metrics'.")
    setup: list[Source] = Field(default_factory=list, description="Shared set-up code, in order.")
    code: list[Source] = Field(default_factory=list, description="The step's own cells, in order.")
    parameters: dict[str, ParamType] = Field(
        default_factory=dict, description="Parameters the step reads -> their declared type."
    )
    inputs: list[str] = Field(default_factory=list, description="Variables loaded from upstream artifacts.")
    outputs: list[str] = Field(default_factory=list, description="Variables saved as output artifacts.")
    modules: dict[str, str] = Field(
        default_factory=dict,
        description="The notebook's own modules the step imports -> SHA-256 of their files when compiled: "
        "part of the step's spec, so KFP's cache does not reuse a result after one of them changed.",
    )
    files: list[PackedFile] = Field(
        default_factory=list,
        description="The notebook's own modules and the files the step names, written into the step's "
        "working folder (also put on sys.path) before its code runs.",
    )
    metrics: list[str] = Field(default_factory=list, description="Names a metrics step records.")
    relink: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Containers holding, in the notebook, the objects named here: re-linked after loading.",
    )
    packages_to_install: list[str] = Field(
        default_factory=list,
        description="pip packages installed before the step runs (its pip install lines, and with "
        "--packages auto its imports pinned at the compiling environment's versions).",
    )
    expected_packages: list[str] = Field(
        default_factory=list,
        description="'name==version' distributions the image must have (--packages check): checked "
        "before the step runs, which stops naming every one missing or different.",
    )


class ValueManifest(BaseModel):
    """Written next to a saved value inside its output artifact directory."""

    model_config = ConfigDict(extra="forbid")

    name: str
    file: str = Field(description="File name of the saved value inside the artifact directory.")
    serializer: str
    sha256: str
