"""pandas DataFrames and Series as Arrow IPC (Feather v2) files.

Written uncompressed with pyarrow's pandas metadata, so the index (default or not, named,
multi-level), categoricals, time zones, nullable dtypes, non-string column labels and ``attrs``
come back as they were; a Series is stored as a one-column table with its name in the schema
metadata. A value Arrow would change or cannot hold (mixed-type object columns, Python lists in
object columns, duplicate column labels, odd Series names) is declined and goes to pickle, as does
everything when pyarrow is not installed. pandas and pyarrow are imported only when used.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from kfjupyter.serializers.base import DeclinedError, JsonValue, Preview, Serializer, type_name
from kfjupyter.serializers.preview import HEAD_ROWS, jsonable

_META_KEY = b"kfjupyter"
_SERIES_COLUMN = "__kfjupyter_series__"


@functools.cache
def have_pyarrow() -> bool:
    """Return whether pyarrow can be imported (checked without importing it)."""
    return importlib.util.find_spec("pyarrow") is not None


class PandasSerializer(Serializer):
    """``pandas.DataFrame`` and ``pandas.Series`` (not subclasses); stored when pyarrow is installed."""

    name = "pandas"
    extension = ".arrow"

    def handles(self, value: object) -> bool:
        """Return whether ``value`` is exactly a DataFrame or Series (dump declines without pyarrow)."""
        pandas = sys.modules.get("pandas")
        return pandas is not None and type(value) in (pandas.DataFrame, pandas.Series)

    def dump(self, value: object, directory: Path, stem: str) -> Path:
        """Write ``value`` as an Arrow IPC file; decline what Arrow would not give back unchanged."""
        if not have_pyarrow():
            raise DeclinedError("pyarrow is not installed")
        import pyarrow as pa

        pd = _pandas()
        meta: dict[str, JsonValue] = {"kind": "frame"}
        if isinstance(value, pd.Series):
            if value.name is not None and type(value.name) not in (str, int):
                raise DeclinedError(f"Series name {value.name!r} is not a str or int")
            meta = {"kind": "series", "name": value.name}
            frame = value.to_frame(name=_SERIES_COLUMN)
        elif isinstance(value, pd.DataFrame):
            frame = value
        else:
            raise DeclinedError(f"not a DataFrame or Series: {type_name(value)}")
        try:
            table = pa.Table.from_pandas(frame, preserve_index=None)
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise DeclinedError(f"Arrow cannot hold this frame: {exc}") from exc
        _decline_python_containers(table)
        metadata = dict(table.schema.metadata or {})
        metadata[_META_KEY] = json.dumps(meta).encode()
        table = table.replace_schema_metadata(metadata)
        path = directory / f"{stem}{self.extension}"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        return path

    def load(self, path: Path) -> object:
        """Read the file (memory-mapped by Arrow) back into a DataFrame or Series."""
        import pyarrow as pa

        with pa.memory_map(str(path), "r") as source:
            table = pa.ipc.open_file(source).read_all()
            meta = json.loads((table.schema.metadata or {}).get(_META_KEY, b'{"kind": "frame"}'))
            frame = table.to_pandas()
        if meta.get("kind") == "series":
            series = frame[_SERIES_COLUMN]
            series.name = meta.get("name")
            return series
        return frame

    def preview(self, value: object) -> Preview:
        """Return shape, columns, dtypes and the first rows as records with short cells."""
        pd = _pandas()
        if isinstance(value, pd.Series):
            return {
                "type": type_name(value),
                "shape": [len(value)],
                "name": jsonable(value.name),
                "dtype": str(value.dtype),
                "head": [
                    {"index": jsonable(index), "value": jsonable(cell)}
                    for index, cell in value.head(HEAD_ROWS).items()
                ],
            }
        if not isinstance(value, pd.DataFrame):
            return super().preview(value)
        return {
            "type": type_name(value),
            "shape": [int(value.shape[0]), int(value.shape[1])],
            "columns": [str(column) for column in value.columns],
            "dtypes": {str(column): str(dtype) for column, dtype in value.dtypes.items()},
            "head": _head_records(value),
        }


def _pandas() -> Any:
    """Return the pandas module, typed loosely: pandas ships no type stubs."""
    return importlib.import_module("pandas")


def _head_records(frame: Any) -> list[JsonValue]:
    columns = [str(column) for column in frame.columns]
    records: list[JsonValue] = []
    for row in frame.head(HEAD_ROWS).itertuples(index=False, name=None):
        records.append({column: jsonable(cell) for column, cell in zip(columns, row, strict=True)})
    return records


def _decline_python_containers(table: Any) -> None:
    """Decline object columns Arrow stored as lists/structs: they would come back as arrays."""
    import pyarrow as pa

    pandas_meta = table.schema.pandas_metadata or {}
    for column in pandas_meta.get("columns", []):
        field_name = column.get("field_name")
        if column.get("numpy_type") != "object" or field_name not in table.schema.names:
            continue
        arrow_type = table.schema.field(field_name).type
        if pa.types.is_nested(arrow_type):
            raise DeclinedError(f"object column {column.get('name')!r} holds Python containers")
