"""The table of a bar-chart race: wide CSV files (delimiter sniffed), long tables pivoted,
DataFrames, and every way such a table can be wrong said in one line.

A race reads a *wide* table: one row per period (date, year...), one column per entity. A
*long* (tidy) table, one row per (entity, period, value), is refused with the ``pivot`` that
makes it wide, or pivoted here with ``long=True`` (``m2p race --long``). The delimiter (comma,
semicolon, tab or ``|``) is sniffed from the file. Numbers are read as written: ``1,234.5``
(thousands grouped by commas) in a comma or any other file, ``1234,5`` and ``1.234,5``
(decimal comma) in a semicolon or tab file whose numbers all read that way; a number that could
mean two things (``"1,5"`` in a comma file, ``1,500`` where the file gives no other hint) is
refused, naming row and column, never guessed.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from m2p.errors import InvalidArgumentError, VideoError

__all__ = ["MAX_VALUE", "RaceData", "as_race_data", "read_csv", "read_wide_csv"]

MAX_VALUE = 1e15
"""Largest value a bar may have (axis arithmetic and text stay exact far below float limits)."""

_DELIMITERS = ",;\t|"
_SNIFF_BYTES = 64 * 1024
# Numbers as people write them. Grouped thousands need groups of exactly three digits.
_PLAIN = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_GROUPED_POINT = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")     # 1,234,567.5
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")                      # 1234,5
_GROUPED_COMMA = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?")     # 1.234.567,5


@dataclass(frozen=True)
class RaceData:
    """A wide table: ``values[t, e]`` for period ``periods[t]`` and entity ``entities[e]``."""

    periods: tuple[str, ...]
    entities: tuple[str, ...]
    values: np.ndarray
    period_values: tuple[Any, ...] | None = None
    """The periods as given (datetimes, numbers) when they came from a DataFrame index."""


def read_csv(path: str | os.PathLike[str], *, long: bool = False) -> RaceData:
    """Read a race table from a CSV file (see the module docstring).

    Parameters
    ----------
    path
        The file.
    long
        The file is long (tidy): three columns, one row per (entity, period, value); the period
        column is the first whose every cell is a number or an ISO date (else the first
        column), the value column the last, the other the entity. Rows are pivoted into the
        wide table (values of one entity and period are summed).

    Raises
    ------
    m2p.errors.VideoError
        Missing or unreadable file, too few rows or columns, a long table read as wide (with
        the pivot that fixes it), duplicate periods or entities, or a cell that is not a
        number, is ambiguous, not finite, negative or above :data:`MAX_VALUE` (the message
        names row and column).
    """
    path = Path(path)
    header, rows, delimiter = _read_rows(path)
    if long:
        return _pivot(path, header, rows, delimiter)
    if len(rows) < 2 or len(header) < 2:
        raise VideoError("need a header, at least two rows (periods) and one entity column",
                         source=path)
    _refuse_long(path, header, rows, delimiter)
    entities = header[1:]
    _refuse_duplicates(path, "column", entities)
    decimal = _decimal_mark(path, [row[1:len(header)] for row in rows], delimiter)
    values = np.full((len(rows), len(entities)), np.nan)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row[1:len(header)]):
            if cell.strip():
                values[i, j] = _number(cell, decimal, path, i + 2, entities[j])
    check_values(values, entities, path, first_row=2)
    return RaceData(tuple(r[0].strip() for r in rows), tuple(entities), fill(values))


read_wide_csv = read_csv
"""The former name of :func:`read_csv` (wide tables)."""


def as_race_data(data: Any, *, long: bool = False) -> RaceData:
    """A :class:`RaceData` from a CSV path, a RaceData or a pandas DataFrame (index = periods,
    one column per entity)."""
    if isinstance(data, RaceData):
        return data
    if isinstance(data, (str, os.PathLike)):
        return read_csv(data, long=long)
    if hasattr(data, "columns") and hasattr(data, "index"):  # pandas DataFrame
        try:
            values = np.asarray(data.to_numpy(dtype=float), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"every DataFrame column must hold numbers ({exc}); a long table (one row per "
                "entity and period) needs df.pivot(index=PERIOD, columns=ENTITY, values=VALUE)",
                source="<DataFrame>") from None
        check_values(values, data.columns, "<DataFrame>", first_row=0)
        return RaceData(tuple(str(i) for i in data.index), tuple(str(c) for c in data.columns),
                        fill(values), period_values=tuple(data.index))
    raise InvalidArgumentError(
        f"data must be a wide CSV file, a RaceData or a pandas DataFrame (index = periods, one "
        f"column per entity; DataFrames need 'pip install pandas'), got {type(data).__name__}")


def check_values(values: np.ndarray, entities: Any, source: Any, *, first_row: int) -> None:
    """Refuse cells a bar cannot show: inf, negative, or so large the axis arithmetic overflows
    (blank cells are NaN here and are filled later)."""
    bad = ~np.isnan(values) & ~((values >= 0) & (values <= MAX_VALUE))
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise VideoError(f"row {i + first_row}, column {str(list(entities)[j])!r}: value "
                         f"{float(values[i, j])!r} is not a number in [0, {MAX_VALUE:g}] (bars "
                         "start at 0)", source=source)


def fill(values: np.ndarray) -> np.ndarray:
    """Forward-fill NaN down each column, then 0."""
    out = np.array(values, dtype=np.float64)
    for t in range(1, out.shape[0]):
        gap = np.isnan(out[t])
        out[t, gap] = out[t - 1, gap]
    return np.nan_to_num(out, nan=0.0)


# ----------------------------------------------------------------------------------------------


def _read_rows(path: Path) -> tuple[list[str], list[list[str]], str]:
    """Header, data rows (blank rows dropped) and the sniffed delimiter."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(_SNIFF_BYTES)
            handle.seek(0)
            delimiter = _sniff(sample)
            rows = [row for row in csv.reader(handle, delimiter=delimiter)
                    if any(cell.strip() for cell in row)]
    except OSError as exc:
        raise VideoError(f"cannot read CSV ({exc.strerror or exc})", source=path) from exc
    except UnicodeDecodeError as exc:
        raise VideoError("not a UTF-8 text CSV file", source=path) from exc
    except csv.Error as exc:
        raise VideoError(f"not a readable CSV file ({exc})", source=path) from exc
    if not rows:
        raise VideoError("the file is empty", source=path)
    return [h.strip() for h in rows[0]], rows[1:], delimiter


def _sniff(sample: str) -> str:
    """The delimiter: csv.Sniffer among ``, ; tab |``, else the one that splits the header
    line most, else a comma."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _refuse_long(path: Path, header: list[str], rows: list[list[str]], delimiter: str) -> None:
    """A wide table has one row per period: a repeating first column means a long table."""
    first = [r[0].strip() for r in rows]
    repeated = len(set(first)) < len(first)
    if not repeated:
        return
    if len(header) == 3:
        period, entity, value = _long_columns(header, rows)
        raise VideoError(
            f"looks like a long (tidy) table: {header[0]!r} repeats ({first[0]!r}...). A race "
            f"needs one row per period and one column per entity: pivot it (pandas: "
            f"df.pivot(index={period!r}, columns={entity!r}, values={value!r})) or pass "
            "--long (Python: long=True)", source=path)
    raise VideoError(f"the first column {header[0]!r} repeats {_first_repeat(first)!r}: a race "
                     "needs one row per period (a long table with three columns can be "
                     "pivoted with --long)", source=path)


def _refuse_duplicates(path: Path, what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise VideoError(f"{what} {name!r} appears twice", source=path)
        seen.add(name)


def _first_repeat(items: list[str]) -> str:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    return items[0]


def _long_columns(header: list[str], rows: list[list[str]]) -> tuple[str, str, str]:
    """(period, entity, value) column names of a three-column long table."""
    def period_like(j: int) -> bool:
        cells = [r[j].strip() for r in rows if len(r) > j and r[j].strip()]
        return bool(cells) and all(_PLAIN.fullmatch(c) or _is_date(c) for c in cells)

    period = 0 if period_like(0) or not period_like(1) else 1
    return header[period], header[1 - period], header[2]


def _is_date(text: str) -> bool:
    from datetime import datetime

    if len(text) < 8 or "-" not in text:
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _pivot(path: Path, header: list[str], rows: list[list[str]], delimiter: str) -> RaceData:
    if len(header) != 3:
        raise VideoError(f"a long table needs three columns (period, entity, value), got "
                         f"{len(header)}: {', '.join(header)}", source=path)
    period_name, entity_name, value_name = _long_columns(header, rows)
    p, e = header.index(period_name), header.index(entity_name)
    periods: dict[str, int] = {}
    entities: dict[str, int] = {}
    cells = []
    for i, row in enumerate(rows):
        row = row + [""] * (3 - len(row))
        period, entity, cell = row[p].strip(), row[e].strip(), row[2]
        if not period or not entity:
            raise VideoError(f"row {i + 2}: empty {period_name if not period else entity_name!r}",
                             source=path)
        cells.append((periods.setdefault(period, len(periods)),
                      entities.setdefault(entity, len(entities)), cell, i + 2))
    if len(periods) < 2:
        raise VideoError("need at least two periods", source=path)
    decimal = _decimal_mark(path, [[c for _, _, c, _ in cells]], delimiter)
    values = np.full((len(periods), len(entities)), np.nan)
    names = list(entities)
    for t, k, cell, line in cells:
        if cell.strip():
            v = _number(cell, decimal, path, line, value_name)
            values[t, k] = v if np.isnan(values[t, k]) else values[t, k] + v
    check_values(values, names, path, first_row=1)
    # Periods in the order they first appear, sorted when they are all numbers or dates.
    labels = list(periods)
    order = _period_order(labels)
    return RaceData(tuple(labels[i] for i in order), tuple(names), fill(values[order]))


def _period_order(labels: list[str]) -> list[int]:
    if all(_PLAIN.fullmatch(x) for x in labels):
        return sorted(range(len(labels)), key=lambda i: float(labels[i]))
    if all(_is_date(x) for x in labels):
        from datetime import datetime

        return sorted(range(len(labels)), key=lambda i: datetime.fromisoformat(labels[i]))
    return list(range(len(labels)))


def _decimal_mark(path: Path, rows: list[list[str]], delimiter: str) -> str:
    """``"."``, ``","`` or ``"?"`` (no number tells): the decimal mark of the file's numbers.

    A comma file writes decimals with a point. Any other file is a decimal-comma file when a
    number reads only that way (``1234,5``, ``1.234,5``) and none reads only with a point
    (``1.5``, ``1,234.5``); both kinds at once are refused.
    """
    if delimiter == ",":
        return "."
    comma = point = None
    for i, row in enumerate(rows):
        for cell in row:
            text = cell.strip().replace(" ", "").replace("_", "")
            if not text:
                continue
            only_comma = (_DECIMAL_COMMA.fullmatch(text) or _GROUPED_COMMA.fullmatch(text)) and \
                not (_GROUPED_POINT.fullmatch(text) or _PLAIN.fullmatch(text))
            only_point = (_PLAIN.fullmatch(text) and "." in text and
                          not _GROUPED_COMMA.fullmatch(text)) or (
                _GROUPED_POINT.fullmatch(text) and not _DECIMAL_COMMA.fullmatch(text))
            if only_comma and comma is None:
                comma = text
            if only_point and point is None:
                point = text
    if comma and point:
        raise VideoError(f"numbers are written with a decimal comma ({comma!r}) and a decimal "
                         f"point ({point!r}); use one", source=path)
    return "," if comma else "." if point else "?"


def _number(cell: str, decimal: str, path: Path, row: int, column: str) -> float:
    text = cell.strip().replace(" ", "").replace("_", "")
    if decimal == ",":
        if _DECIMAL_COMMA.fullmatch(text) or _GROUPED_COMMA.fullmatch(text):
            text = text.replace(".", "").replace(",", ".")
        elif "," in text:
            raise VideoError(f"row {row}, column {column!r}: cannot read {cell[:30]!r} as a "
                             "number with a decimal comma", source=path)
    elif "," in text:
        if decimal == "?" and _DECIMAL_COMMA.fullmatch(text):
            raise VideoError(f"row {row}, column {column!r}: {cell[:30]!r} is ambiguous in a "
                             "file whose numbers do not show their decimal mark (1.5 or 1500?); "
                             "write it without grouping", source=path)
        if _GROUPED_POINT.fullmatch(text):
            text = text.replace(",", "")
        else:
            raise VideoError(f"row {row}, column {column!r}: {cell[:30]!r} is ambiguous (a "
                             "decimal comma?); write it with a decimal point ('1.5') or group "
                             "thousands in threes ('1,500')", source=path)
    if not _PLAIN.fullmatch(text) and text.lower() not in ("nan", "inf", "-inf", "+inf"):
        raise VideoError(f"row {row}, column {column!r}: not a number ({cell[:30]!r})",
                         source=path)
    return float(text)
