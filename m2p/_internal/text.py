"""One-line texts from errors and tools: the first line of an exception, the last line of a
tool's error output. Every message m2p prints about a failure it did not raise itself goes
through these, so all of them are cut the same way."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["first_line", "last_line"]


def first_line(error: BaseException | str, *, limit: int | None = None) -> str:
    """The first non-blank line of an exception's message (or of a text), stripped.

    Parameters
    ----------
    error
        An exception, or a message text.
    limit
        Most characters kept (None: the whole line).

    Returns
    -------
    str
        That line; for an exception with an empty message its type name, for an empty text
        ``""``.

    >>> first_line(ValueError("bad value\\n  details"))
    'bad value'
    >>> first_line(KeyError())
    'KeyError'
    """
    text = str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return type(error).__name__ if isinstance(error, BaseException) else ""
    return lines[0] if limit is None else lines[0][:limit]


def last_line(text: str, *, skip: Iterable[str] = (), default: str = "") -> str:
    """The last non-blank line of a tool's error output (where tools put the cause), stripped.

    Parameters
    ----------
    text
        The tool's standard error.
    skip
        Line beginnings that never say the cause (a generic closing line); such lines are
        passed over unless nothing else is left.
    default
        Returned when ``text`` has no non-blank line.

    >>> last_line("reading x\\nx: Invalid data found\\nConversion failed!", skip=("Conversion",))
    'x: Invalid data found'
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    starts = tuple(skip)
    lines = [line for line in lines if not (starts and line.startswith(starts))] or lines
    return lines[-1] if lines else default
