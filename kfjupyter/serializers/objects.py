"""The fallback serializer: any picklable value, with cloudpickle.

cloudpickle stores functions, lambdas, closures and classes defined in the notebook by value, so
a later step can use them without the cell that defined them. Loading uses the standard unpickler
on files that this run wrote into its own directory.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from kfjupyter.serializers.base import Serializer


class PickleSerializer(Serializer):
    """Everything else, as a cloudpickle ``.pkl`` file (protocol 5)."""

    name = "pickle"
    extension = ".pkl"

    def handles(self, value: object) -> bool:
        """Return True: whether it really pickles is found out by :meth:`dump`."""
        return True

    def dump(self, value: object, directory: Path, stem: str) -> Path:
        """Pickle ``value`` to ``<stem>.pkl``."""
        import cloudpickle

        path = directory / f"{stem}{self.extension}"
        with path.open("wb") as file:
            cloudpickle.dump(value, file, protocol=5)
        return path

    def load(self, path: Path) -> object:
        """Unpickle a file this run wrote."""
        with path.open("rb") as file:
            return pickle.load(file)  # noqa: S301 - our own output, in the run's own directory
