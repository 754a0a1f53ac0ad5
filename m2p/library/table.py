"""The library table: its columns (one row per distinct audio content), rows as a table,
reading and checking a file, and a row's palette track.

The columns (:func:`library_schema`): ``path`` (absolute), ``content_hash``, ``status``
(``"ok"``/``"error"``), ``error``, ``duration`` (s), ``palette`` (whole-piece hex codes),
``palette_lch`` (its CIELCh colours), ``mood`` (dominant emotion), ``valence``/``arousal``
(whole piece, [-1, 1]), ``times`` (window centres, s), ``valence_t``/``arousal_t`` (per
window), ``track`` (the palette track as JSON, exact: :func:`row_track`), ``model_version``,
``settings`` (JSON: seed, noise, window, hop). :func:`m2p.batch` writes it; pyarrow is imported
only when a table is made or read (and its absence is one line with the install command).

A table is data from outside: :func:`check_library` refuses one whose columns are missing or
of the wrong type, and :func:`library_rows` (what the gallery and ``m2p match`` read) checks
every analysed row, naming the file, the row and the column that is wrong (a zero duration, a
NaN, a track that is not JSON, an empty list...).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

from m2p.errors import InvalidArgumentError, TrackError

if TYPE_CHECKING:
    import pyarrow as pa

    from m2p.palette_types import PaletteTrack

__all__ = ["check_library", "check_row", "conform", "library_rows", "library_schema", "one_line",
           "read_library", "row_track", "rows_table"]

PathArg = Union[str, "os.PathLike[str]"]


def read_library(path: PathArg) -> "pa.Table":
    """A library table written by :func:`m2p.batch`.

    Raises
    ------
    InvalidArgumentError
        The file is missing, not a regular file, not parquet, or lacks the library's columns
        (or has one of another type).
    MissingExtraError
        pyarrow is not installed.
    """
    _require_pyarrow("reading a library table")
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
        The file is missing, not a regular file (a FIFO would block), not parquet, lacks the
        library's columns or holds one of another type (valence as text...).
    MissingExtraError
        pyarrow is not installed.
    """
    from m2p._internal.inputs import check_regular

    _require_pyarrow("reading a library table")
    import pyarrow.parquet as pq

    if not os.path.lexists(path):
        raise InvalidArgumentError("no such library file", source=path)
    check_regular(path, error=InvalidArgumentError, noun="a library table")
    try:
        schema = pq.read_schema(path)
    except FileNotFoundError:
        raise InvalidArgumentError("no such library file", source=path) from None
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
        raise InvalidArgumentError(f"not a parquet library ({one_line(exc)})", source=path) from None
    expected = library_schema()
    missing = [name for name in expected.names if name not in schema.names]
    if missing:
        raise InvalidArgumentError("not a music2palette library (missing columns: "
                                   + ", ".join(missing) + ")", source=path)
    for field in expected:
        actual = schema.field(field.name).type
        if not _compatible(actual, field.type):
            raise InvalidArgumentError(f"column {field.name!r} holds {actual} values; a library "
                                       f"table holds {field.type} there", source=path)


def library_rows(library: Any) -> list[dict[str, Any]]:
    """The rows of a library (a ``.parquet`` path, a ``pyarrow.Table`` or a list of row dicts),
    every analysed row checked by :func:`check_row`.

    Raises
    ------
    InvalidArgumentError
        Not a library, or a row that is not what :func:`m2p.batch` writes; the message names
        the file, the row (1-based, with its file name) and the column.
    TypeError
        ``library`` is none of the three.
    """
    if isinstance(library, (str, os.PathLike)):
        rows, source = read_library(library).to_pylist(), os.fspath(library)
    elif hasattr(library, "to_pylist"):
        rows, source = library.to_pylist(), "<table>"
    elif isinstance(library, Sequence) and all(isinstance(r, dict) for r in library):
        rows, source = list(library), "<rows>"
    else:
        raise TypeError("library must be a .parquet path, a pyarrow Table or a list of rows, "
                        f"got {type(library).__name__}")
    for number, row in enumerate(rows, 1):
        if row.get("status") == "ok":
            check_row(row, number=number, source=source)
        elif row.get("status") != "error":
            name = os.path.basename(str(row.get("path") or "")) or "?"
            raise InvalidArgumentError(f"row {number} ({name}): column 'status' is "
                                       f"{_shown(row.get('status'))}; expected 'ok' or 'error'",
                                       source=source)
    return rows


def check_row(row: dict[str, Any], *, number: int | None = None, source: Any = None) -> None:
    """Refuse an analysed row (``status == "ok"``) whose values are not what :func:`m2p.batch`
    writes: a missing path, a duration that is not a positive number of seconds, a NaN or
    out-of-range valence or arousal, empty or ragged lists, a ``track`` that is not a palette
    track's JSON.

    Raises
    ------
    InvalidArgumentError
        ``"<source>: row <number> (<file name>): column '<name>' <problem>"``.
    """
    path = row.get("path")
    where = f"row {number}" if number is not None else "a row"
    if isinstance(path, str) and path:
        where += f" ({os.path.basename(path) or path})"

    def bad(column: str, problem: str) -> InvalidArgumentError:
        return InvalidArgumentError(f"{where}: column {column!r} {problem}", source=source)

    if not isinstance(path, str) or not path:
        raise bad("path", "is empty; expected the audio file's path")
    for column, low, high in (("duration", 0.0, math.inf), ("valence", -1.0, 1.0),
                              ("arousal", -1.0, 1.0)):
        value = row.get(column)
        if not _number(value):
            raise bad(column, f"is {_shown(value)}; expected a number")
        if not (math.isfinite(value) and low <= value <= high) or (column == "duration"
                                                                    and value <= 0):
            want = "a positive number of seconds" if column == "duration" else "a number in [-1, 1]"
            raise bad(column, f"is {_shown(value)}; expected {want}")
    if not isinstance(row.get("mood"), str) or not row["mood"]:
        raise bad("mood", f"is {_shown(row.get('mood'))}; expected an emotion name")
    palette = row.get("palette")
    if not isinstance(palette, list) or not palette or not all(isinstance(h, str) for h in palette):
        raise bad("palette", f"is {_shown(palette)}; expected a non-empty list of hex codes")
    lch = row.get("palette_lch")
    if (not isinstance(lch, list) or not lch or not all(
            isinstance(c, list) and len(c) == 3 and all(_finite(v) for v in c) for c in lch)):
        raise bad("palette_lch", f"is {_shown(lch)}; expected a non-empty list of finite "
                                 "[L, C, h] colours")
    lengths = set()
    for column in ("times", "valence_t", "arousal_t"):
        values = row.get(column)
        if not isinstance(values, list) or not values or not all(_finite(v) for v in values):
            raise bad(column, f"is {_shown(values)}; expected a non-empty list of finite numbers")
        lengths.add(len(values))
    if len(lengths) > 1:
        raise bad("times", "valence_t and arousal_t differ in length")
    try:
        row_track(row)
    except TrackError as exc:
        raise bad("track", f"is not a palette track ({exc.reason})") from None



def row_track(row: dict[str, Any]) -> "PaletteTrack":
    """The :class:`~m2p.palette_types.PaletteTrack` of a good row (exact, from its JSON)."""
    from m2p.palette_types import PaletteTrack

    if row.get("status") != "ok" or not row.get("track"):
        raise TrackError(f"no palette track: {row.get('error') or 'row has no track'}",
                         source=row.get("path"))
    if not isinstance(row["track"], str):
        raise TrackError(f"the track column holds {type(row['track']).__name__}, not JSON text",
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


def _require_pyarrow(feature: str) -> None:
    from m2p._internal.extras import require

    require("pyarrow", extra="library", feature=feature)


def _compatible(actual: "pa.DataType", expected: "pa.DataType") -> bool:
    """Whether a column of type ``actual`` reads as ``expected`` (parquet writers differ in
    string, list and number widths; text where numbers belong does not read)."""
    import pyarrow as pa

    if actual.equals(expected) or pa.types.is_null(actual):
        return True
    if pa.types.is_string(expected):
        return pa.types.is_string(actual) or pa.types.is_large_string(actual)
    if pa.types.is_floating(expected):
        return pa.types.is_floating(actual) or pa.types.is_integer(actual)
    if pa.types.is_list(expected):
        return ((pa.types.is_list(actual) or pa.types.is_large_list(actual))
                and _compatible(actual.value_type, expected.value_type))
    return False


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return _number(value) and math.isfinite(value)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, at most 300 characters (else its type's name)."""
    text = " ".join(str(exc).split())
    return text[:300] if text else type(exc).__name__
