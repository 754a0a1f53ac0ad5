"""The library table: its columns (one row per distinct audio content), rows as a table,
reading and checking a file, and a row's palette track.

The columns (:func:`library_schema`): ``path`` (absolute), ``content_hash``, ``status``
(``"ok"``/``"error"``), ``error``, ``duration`` (s), ``palette`` (whole-piece hex codes),
``palette_lch`` (its CIELCh colours), ``mood`` (dominant emotion), ``valence``/``arousal``
(whole piece, [-1, 1]), ``times`` (window centres, s), ``valence_t``/``arousal_t`` (per
window), ``track`` (the palette track as JSON, exact: :func:`row_track`), ``model_version``,
``settings`` (JSON: seed, noise, window, hop). :func:`m2p.batch` writes it; pyarrow is imported
only when a table is made or read.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Union

from m2p.errors import InvalidArgumentError

if TYPE_CHECKING:
    import pyarrow as pa

    from m2p.palette_types import PaletteTrack

__all__ = ["check_library", "conform", "library_schema", "one_line", "read_library",
           "row_track", "rows_table"]

PathArg = Union[str, "os.PathLike[str]"]


def read_library(path: PathArg) -> "pa.Table":
    """A library table written by :func:`m2p.batch`.

    Raises
    ------
    InvalidArgumentError
        The file is missing, not parquet, or lacks the library's columns.
    """
    import pyarrow.parquet as pq

    check_library(path)
    try:
        return pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - a damaged body behind a good footer
        raise InvalidArgumentError(f"unreadable library ({one_line(exc)})", source=path) from None


def check_library(path: PathArg) -> None:
    """Refuse a file that is not a library table, reading only its footer (schema).

    Raises
    ------
    InvalidArgumentError
        The file is missing, not parquet, or lacks the library's columns.
    """
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except FileNotFoundError:
        raise InvalidArgumentError("no such library file", source=path) from None
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
        raise InvalidArgumentError(f"not a parquet library ({one_line(exc)})", source=path) from None
    missing = [name for name in library_schema().names if name not in schema.names]
    if missing:
        raise InvalidArgumentError("not a music2palette library (missing columns: "
                                   + ", ".join(missing) + ")", source=path)


def row_track(row: dict[str, Any]) -> "PaletteTrack":
    """The :class:`~m2p.palette_types.PaletteTrack` of a good row (exact, from its JSON)."""
    from m2p.errors import TrackError
    from m2p.palette_types import PaletteTrack

    if row.get("status") != "ok" or not row.get("track"):
        raise TrackError(f"no palette track: {row.get('error') or 'row has no track'}",
                         source=row.get("path"))
    return PaletteTrack.from_json(row["track"])


def library_schema() -> "pa.Schema":
    """The table's columns and types (see the module docstring)."""
    import pyarrow as pa

    floats = pa.list_(pa.float64())
    return pa.schema([
        ("path", pa.string()), ("content_hash", pa.string()), ("status", pa.string()),
        ("error", pa.string()), ("duration", pa.float64()), ("palette", pa.list_(pa.string())),
        ("palette_lch", pa.list_(floats)), ("mood", pa.string()), ("valence", pa.float64()),
        ("arousal", pa.float64()), ("times", floats), ("valence_t", floats),
        ("arousal_t", floats), ("track", pa.string()), ("model_version", pa.string()),
        ("settings", pa.string()),
    ])


def rows_table(rows: list[dict[str, Any]]) -> "pa.Table":
    """Rows (dicts) as a table of :func:`library_schema`."""
    import pyarrow as pa

    schema = library_schema()
    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows],
                                schema=schema)


def conform(data: Any, schema: "pa.Schema") -> "pa.Table":
    """``data`` (a table or a record batch) with exactly the columns and types of ``schema``."""
    import pyarrow as pa

    table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
    return table.select(schema.names).cast(schema)


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, at most 300 characters (else its type's name)."""
    text = " ".join(str(exc).split())
    return text[:300] if text else type(exc).__name__
