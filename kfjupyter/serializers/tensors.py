"""PyTorch tensors and modules as ``.pt`` files (``torch.save`` / ``torch.load``).

Saved with cloudpickle as the pickle module, so a ``nn.Module`` subclass defined in the notebook
loads in a later step's process without its class cell. Loaded with ``weights_only=False`` (a
module is a whole object, not a state dict) from files this run wrote, and onto the CPU when the
loading process has no CUDA. torch is only looked at when a value's program already imported it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kfjupyter.serializers.base import Preview, Serializer, type_name
from kfjupyter.serializers.preview import short_repr


class TorchSerializer(Serializer):
    """``torch.Tensor`` (and ``nn.Parameter``) and ``torch.nn.Module`` instances."""

    name = "torch"
    extension = ".pt"

    def handles(self, value: object) -> bool:
        """Return whether torch is already imported and ``value`` is a tensor or module."""
        torch = sys.modules.get("torch")
        if torch is None or not hasattr(torch, "Tensor") or not hasattr(torch, "nn"):
            return False
        return isinstance(value, torch.Tensor | torch.nn.Module)

    def dump(self, value: object, directory: Path, stem: str) -> Path:
        """Write ``value`` with ``torch.save``, pickling notebook-defined classes by value."""
        import cloudpickle
        import torch

        path = directory / f"{stem}{self.extension}"
        torch.save(value, path, pickle_module=cloudpickle)
        return path

    def load(self, path: Path) -> object:
        """Load a file this run wrote; tensors saved on a GPU land on the CPU when there is none."""
        import torch

        location = None if torch.cuda.is_available() else "cpu"
        # weights_only=False: a module is a whole object; the file is this run's own output
        return torch.load(path, map_location=location, weights_only=False)

    def preview(self, value: object) -> Preview:
        """Return shape/dtype/device for tensors, parameter count and a short repr for modules."""
        import torch

        if isinstance(value, torch.Tensor):
            return {
                "type": type_name(value),
                "shape": list(value.shape),
                "dtype": str(value.dtype),
                "device": str(value.device),
            }
        if isinstance(value, torch.nn.Module):
            return {
                "type": type_name(value),
                "parameters": sum(int(p.numel()) for p in value.parameters()),
                "repr": short_repr(value),
            }
        return super().preview(value)
