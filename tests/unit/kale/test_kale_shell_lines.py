"""What real notebooks contain: shell escapes, automagic one-liners, pip installs, no steps at all.

IPython runs ``!cmd`` and ``%magic`` lines anywhere, and an automagic call (``pip install x``, ``ls``)
only when it is the whole (one-line) cell; Kale drops untagged cells above the first tag.
"""

from __future__ import annotations

import json

import yaml

from kfjupyter.compiler.pysyntax import parse_source
from kfjupyter.kfp.pipeline import compile_to_yaml
from kfjupyter.notebook.shell_lines import extract_pip, is_shell_only
from tests.unit.kale.conformance import build, cells_per_step, codes
from tests.unit.notebook.nbfactory import code


def test_shell_escapes_and_automagic_one_liners_are_no_syntax_error() -> None:
    pipeline, diags = build(
        code("import os", "imports"),
        code("url = 'http://example.invalid/data.csv'", "step:load"),
        code("!wget -q {url}\n!ls -la"),
        code("pip install pandas"),
        code("ls"),
        code("cd /tmp"),
        code("b = len(url)", "step:train"),
    )
    assert cells_per_step(pipeline) == {"load": [1, 2, 3, 4, 5], "train": [6]}
    assert codes(diags, "error") == []


def test_automagic_only_when_ipython_applies_it() -> None:
    assert not isinstance(parse_source("pip install numpy"), tuple)
    assert not isinstance(parse_source("\n\ncd data"), tuple)
    assert parse_source("x = 1\npip install numpy") == (2, "invalid syntax")  # IPython refuses it too
    assert not isinstance(parse_source("ls = [1]\nls"), tuple)


def test_shell_only_cells_before_the_first_step_are_not_set_up() -> None:
    pipeline, diags = build(
        code("!pip install -q six==1.16.0"),
        code("!wget http://example.invalid/x.csv\n!ls"),
        code("import json"),
        code("a = json.dumps(1)", "step:load"),
    )
    assert [b.cell for b in pipeline.setup] == [2]
    assert [(d.code, d.cell) for d in diags if d.code in ("KF004", "KF011", "KF012")] == [
        ("KF012", 0),
        ("KF011", 1),
        ("KF004", 2),
    ]
    assert pipeline.step("load").settings.packages == ["six==1.16.0"]


def test_pip_lines_become_the_step_packages_reported_locally_and_installed_on_a_cluster() -> None:
    cells = (
        code("import os", "imports"),
        code("%pip install --quiet requests\nimport requests", "step:fetch"),
        code("if True:\n    !pip install -r req.txt numpy", "step:calc"),
    )
    pipeline, diags = build(*cells)
    fetch, calc = pipeline.step("fetch"), pipeline.step("calc")
    assert (fetch.settings.packages, calc.settings.packages) == (["requests"], ["numpy"])
    assert fetch.blocks[0].source.startswith("pass  # %pip install --quiet requests")
    assert calc.blocks[0].source.splitlines()[1].startswith("    pass  # !pip install")
    assert [(d.code, d.step) for d in diags if d.code == "KF407"] == [("KF407", "fetch"), ("KF407", "calc")]
    assert [d.cell for d in diags if d.code == "KF013"] == [2]
    assert codes(diags, "error") == []
    cluster, cluster_diags = build(*cells, target="cluster")
    assert "KF407" not in codes(cluster_diags)
    doc = next(yaml.safe_load_all(compile_to_yaml(cluster, image="img:1")))
    job = doc["components"]["comp-step-fetch"]["inputDefinitions"]["parameters"]["step_job"]["defaultValue"]
    assert json.loads(job)["packages_to_install"] == ["requests"]


def test_shell_line_helpers() -> None:
    assert is_shell_only("!pip install a\n# comment\n!ls")
    assert is_shell_only("%%bash\necho hi")
    assert not is_shell_only("%%capture\nimport json")  # Python, its output captured
    assert is_shell_only("ls")
    assert not is_shell_only("ls = 3")
    assert not is_shell_only("!pip install a\nimport a")
    pip = extract_pip("!{sys.executable} -m pip install 'torch>=2' -i https://x.invalid")
    assert (pip.packages, pip.not_carried) == (["torch>=2"], ["-i", "https://x.invalid"])
    assert extract_pip("x = 1\npip install numpy").packages == []


def test_a_notebook_without_steps_gets_one_kf001_error_and_no_warning_per_cell() -> None:
    pipeline, diags = build(code("import os"), code("x = 1"), code("!pip install six"), code("y = x"))
    assert pipeline.steps == []
    assert [(d.code, d.severity) for d in diags] == [("KF001", "error")]
    assert "step:<name>" in diags[0].hint
