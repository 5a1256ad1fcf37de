"""A training job on Kubernetes takes the local modules and files it needs in its code ConfigMap.

The last test lays the ConfigMap out as a kubelet shows it (each key at its item path) and starts
the container's command, ``torchrun`` replaced by this Python, from a folder where neither the
module nor the file exists: only the shipped copies can serve.
"""

from __future__ import annotations

import base64
import linecache
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kfjupyter.errors import InvalidInput
from kfjupyter.training.facade import _entrypoint, _shipped
from kfjupyter.training.k8s_builders import CODE_DIR, K8sJobOptions, configmap, pytorchjob, trainjob
from kfjupyter.training.shipping import function_files, script_files
from kfjupyter.training.spec import FunctionEntrypoint, ScriptEntrypoint, TrainingSpec

FUNCTION = textwrap.dedent(
    """
    import mylib

    def train_fn(out):
        settings = open("settings.txt").read().strip()
        with open(out, "w") as f:
            f.write(f"{mylib.scale(3)} {settings}")
        open("written-here.txt", "w").write("the working folder is writable")
    """
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "project"
    (folder / "mylib").mkdir(parents=True)
    (folder / "mylib" / "__init__.py").write_text("from .maths import scale\n")
    (folder / "mylib" / "maths.py").write_text("def scale(x):\n    return 7 * x\n")
    (folder / "settings.txt").write_text("from-settings\n")
    (folder / "blob.bin").write_bytes(bytes(range(256)))
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in [n for n in sys.modules if n == "mylib" or n.startswith("mylib.")]:
        del sys.modules[name]


def notebook_function() -> Any:
    scope: dict[str, Any] = {"__name__": "__main__"}
    name = "<ipython-input-3>"  # defined in a cell, whose lines IPython keeps in linecache
    linecache.cache[name] = (len(FUNCTION), None, FUNCTION.splitlines(keepends=True), name)
    exec(compile(FUNCTION, name, "exec"), scope)
    return scope["train_fn"]


def test_a_function_takes_the_local_modules_it_uses_and_the_files_it_names(project: Path) -> None:
    fn = notebook_function()
    found = {f.path: f.kind for f in function_files(fn, FUNCTION, project)}
    assert found == {"mylib/__init__.py": "module", "mylib/maths.py": "module", "settings.txt": "file"}
    # a function from a local module is pickled by reference: its module travels
    from mylib.maths import scale

    assert {f.path for f in function_files(scale, None, project)} == {"mylib/__init__.py", "mylib/maths.py"}
    assert function_files(len, None, project) == []


def test_a_script_takes_what_it_imports_and_names_next_to_it(project: Path) -> None:
    script = project / "train.py"
    script.write_text("import mylib\nprint(open('blob.bin', 'rb').read()[:1], mylib.scale(1))\n")
    found = {f.path for f in script_files(script, script.read_text())}
    assert found == {"mylib/__init__.py", "mylib/maths.py", "blob.bin"}


def options(files: dict[str, bytes], **entry: Any) -> K8sJobOptions:
    entrypoint = ScriptEntrypoint(**entry) if "path" in entry else FunctionEntrypoint(function="train_fn")
    spec = TrainingSpec(name="fit", entrypoint=entrypoint, image="python:3.11")
    script = "print('hi')\n" if "path" in entry else None
    payload = None if "path" in entry else b"payload"
    return K8sJobOptions(
        spec=spec,
        namespace="team-a",
        procs_per_node=1,
        run_id="r-1",
        script_text=script,
        payload=payload,
        files=files,
    )


def test_the_configmap_holds_text_as_data_binary_as_binary_data_each_at_its_path() -> None:
    opts = options({"mylib/__init__.py": b"X = 1\n", "blob.bin": b"\xff\x00"})
    cm = configmap(opts)
    assert (
        cm["data"]["file-0001"] == "X = 1\n"
        and cm["data"]["files.json"] == '["blob.bin", "mylib/__init__.py"]'
    )
    assert cm["binaryData"] == {"file-0000": base64.b64encode(b"\xff\x00").decode()}
    volume = trainjob(opts)["spec"]["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"]
    items = volume["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]["volumes"][0]["configMap"][
        "items"
    ]
    assert {i["key"]: i["path"] for i in items} == {
        "file-0000": "blob.bin",
        "file-0001": "mylib/__init__.py",
        "files.json": "files.json",
        "launch.py": "launch.py",
        "payload.b64": "payload.b64",
    }
    master = pytorchjob(opts)["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]
    assert master["volumes"][0]["configMap"]["items"] == items
    # a script with files starts through the launcher, which places them first
    script = options({"a.txt": b"a"}, path="/work/train.py", args=["--lr", "$(HOME)"])
    assert trainjob(script)["spec"]["trainer"]["command"][-5:] == [
        f"{CODE_DIR}/launch.py",
        "--script",
        "train.py",
        "--lr",
        "$$(HOME)",
    ]


@pytest.mark.parametrize("path", ["../x.py", "/etc/x", "a/../../b", "launch.py", "files.json"])
def test_unsafe_or_clashing_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidInput, match=r"cannot ship|rename it"):
        configmap(options({path: b"x"}))


def test_past_the_configmap_limit_the_largest_files_are_named() -> None:
    with pytest.raises(InvalidInput, match=r"largest files shipped with it: data/big.csv \(1100000 bytes\)"):
        configmap(options({"data/big.csv": b"1" * 1_100_000, "small.py": b"x"}))


def materialize(cm: dict[str, Any], items: list[dict[str, str]], folder: Path) -> None:
    """Write the ConfigMap's keys where a kubelet shows them (text from data, bytes from binaryData)."""
    for item in items:
        target = folder / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if item["key"] in cm["data"]:
            target.write_text(cm["data"][item["key"]], encoding="utf-8")
        else:
            target.write_bytes(base64.b64decode(cm["binaryData"][item["key"]]))


def test_the_pod_runs_the_function_with_the_shipped_module_and_file(project: Path, tmp_path: Path) -> None:
    fn = notebook_function()
    out = tmp_path / "result.txt"
    entrypoint, payload, _ = _entrypoint(fn, (str(out),), None)
    files = _shipped(fn)
    assert set(files) == {"mylib/__init__.py", "mylib/maths.py", "settings.txt"}
    spec = TrainingSpec(name="fit", entrypoint=entrypoint, image="python:3.11")
    opts = K8sJobOptions(
        spec=spec, namespace="ns", procs_per_node=1, run_id="r", payload=payload, files=files
    )
    command = trainjob(opts)["spec"]["trainer"]["command"]
    mount = tmp_path / "mounted-code"
    materialize(
        configmap(opts),
        pytorchjob(opts)["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["volumes"][0][
            "configMap"
        ]["items"],
        mount,
    )
    elsewhere = tmp_path / "pod-cwd"
    elsewhere.mkdir()
    argv = [sys.executable, *(a.replace(CODE_DIR, str(mount)) for a in command[3:])]
    done = subprocess.run(
        argv, cwd=elsewhere, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "21 from-settings"
    assert not (elsewhere / "written-here.txt").exists()  # it wrote into its own working folder
