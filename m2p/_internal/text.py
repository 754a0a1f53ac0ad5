"""One-line texts from errors and tools: the first line of an exception, the last line of a
tool's error output. Every message m2p prints about a failure it did not raise itself goes
through these, so all of them are cut the same way; :func:`printable` escapes what a terminal
would obey (escape sequences in a hostile file name) before anything is printed."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["first_line", "last_line", "printable"]

# Characters a terminal acts on or that reorder text: C0 controls, DEL and C1 controls (ESC
# starts colour changes, screen clears, title changes...), the bidirectional overrides and
# isolates ("Trojan source"), and lone surrogates (undecodable bytes of a file name, which a
# strict UTF-8 stream refuses to encode).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
                          "\ud800-\udfff]")


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


def printable(text: object) -> str:
    r"""``text`` with every character a terminal would act on written as an escape.

    Control characters (newlines and tabs included: a message is one line), DEL, C1 controls,
    bidirectional overrides and lone surrogates become ``\xNN`` / ``\uNNNN``; everything else
    (accents, CJK, emoji) is kept.

    >>> print(printable("song\x1b[2J.mp3"))
    song\x1b[2J.mp3
    >>> print(printable("caf\u00e9\n"))
    café\x0a
    """
    return _UNPRINTABLE.sub(_escape, str(text))


def _escape(match: "re.Match[str]") -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


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
