"""Saving and loading the Python values that flow between pipeline steps.

Owns the serializer registry (chosen by the value's type, extensible by priority), the built-in
serializers (NumPy ``.npy`` memory-mapped, pandas Arrow IPC, torch ``.pt``, cloudpickle fallback),
content hashes and previews. Importing it imports none of numpy, pandas, pyarrow or torch.
"""

from kfjupyter.serializers.base import (
    DeclinedError,
    JsonValue,
    Preview,
    SavedValue,
    SerializationError,
    Serializer,
    type_name,
)
from kfjupyter.serializers.hashing import sha256_file
from kfjupyter.serializers.registry import (
    REGISTRY,
    Registry,
    default_registry,
    load_value,
    preview_value,
    register,
    save_value,
)

__all__ = [
    "REGISTRY",
    "DeclinedError",
    "JsonValue",
    "Preview",
    "Registry",
    "SavedValue",
    "SerializationError",
    "Serializer",
    "default_registry",
    "load_value",
    "preview_value",
    "register",
    "save_value",
    "sha256_file",
    "type_name",
]
