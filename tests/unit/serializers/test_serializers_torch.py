"""torch tensors and modules; skipped where torch is not installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kfjupyter.serializers import load_value, save_value

torch = pytest.importorskip("torch")


def test_tensor_roundtrip(tmp_path: Path) -> None:
    value = torch.arange(6.0).reshape(2, 3)
    saved = save_value("t", value, tmp_path, "s")
    assert saved.serializer == "torch"
    assert saved.path.name == "t.pt"
    assert saved.preview == {
        "type": "torch.Tensor",
        "shape": [2, 3],
        "dtype": "torch.float32",
        "device": "cpu",
    }
    assert torch.equal(load_value(saved), value)


def test_parameter_is_a_tensor(tmp_path: Path) -> None:
    saved = save_value("p", torch.nn.Parameter(torch.ones(2)), tmp_path, "s")
    assert saved.serializer == "torch"
    assert torch.equal(load_value(saved), torch.ones(2))


def test_module_roundtrip(tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
    saved = save_value("model", model, tmp_path, "s")
    assert saved.serializer == "torch"
    assert saved.preview["parameters"] == 8
    back = load_value(saved)
    x = torch.ones(1, 3)
    assert torch.equal(back(x), model(x))


def test_notebook_defined_module_loads_in_another_process(tmp_path: Path) -> None:
    code = (
        "import sys, torch\n"
        "from pathlib import Path\n"
        "from kfjupyter.serializers import save_value\n"
        "class Net(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.scale = torch.nn.Parameter(torch.tensor(2.0))\n"
        "    def forward(self, x):\n"
        "        return x * self.scale\n"
        "save_value('net', Net(), Path(sys.argv[1]), 'train')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
    net = load_value(tmp_path / "net.pt")
    assert type(net).__name__ == "Net"
    assert torch.equal(net(torch.tensor([1.0, 3.0])), torch.tensor([2.0, 6.0]))
