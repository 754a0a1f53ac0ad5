"""The one progress-bar policy: a tqdm bar on standard error that shows up only when the work
takes a while, fits the terminal, and is erased when done; the caller's ``progress=False``
(``--quiet`` on the command line) turns it off and then tqdm is not even imported.

Every bar of m2p and its adapters comes from here: :func:`progress_bar`, or
:func:`tqdm_options` where another library makes the bar (MoviePy's logger).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import IO, Any

__all__ = ["DELAY_SECONDS", "progress_bar", "tqdm_options", "bar_width"]

#: A bar appears only after this many seconds: short jobs finish before it would, so they
#: print nothing.
DELAY_SECONDS = 1.0


def progress_bar(iterable: Iterable[Any] | None = None, *, total: int | None = None,
                 desc: str | None = None, unit: str = "it", enabled: bool = True,
                 delay: float = DELAY_SECONDS) -> Any:
    """A progress bar after the policy of this module.

    Parameters
    ----------
    iterable
        Wrap this (its items are passed through); None for a bar moved with ``update(n)``.
    total
        Number of steps (None: unknown, the bar counts without a percentage).
    desc, unit
        The bar's label and the name of one step.
    enabled
        False: no bar (the iterable itself, or an object whose ``update`` and ``close`` do
        nothing).
    delay
        Seconds before the bar appears (0: at once).

    Returns
    -------
    tqdm.tqdm, or the iterable, or a no-op bar
        Use ``update(n)`` and ``close()`` (or iterate it).
    """
    if not enabled:
        return _NoBar() if iterable is None else iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, **tqdm_options(delay=delay))


def tqdm_options(*, delay: float = DELAY_SECONDS, file: IO[str] | None = None) -> dict[str, Any]:
    """The keyword arguments of ``tqdm(...)`` that make up the policy: standard error, the
    delay, erased when closed, the width of :func:`bar_width`."""
    file = sys.stderr if file is None else file
    return {"file": file, "delay": float(delay), "leave": False, **bar_width(file)}


def bar_width(stream: IO[str] | None = None) -> dict[str, Any]:
    """tqdm width options for a bar on ``stream`` (default standard error).

    A terminal that reports its width gets a bar that follows resizes (``dynamic_ncols``).
    Some terminals (serial consoles, ``docker exec`` without a size, some CI runners) report
    0 columns, and tqdm then draws an empty line; those get a fixed width from ``$COLUMNS``,
    else 80.
    """
    import shutil

    stream = sys.stderr if stream is None else stream
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = 0
    if columns > 0:
        return {"dynamic_ncols": True}
    return {"ncols": max(20, shutil.get_terminal_size(fallback=(80, 24)).columns)}


class _NoBar:
    """What a turned-off bar is: every call does nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass
