"""Warnings that point at the user's line, not at m2p's own.

A fixed ``stacklevel`` is right for one call path only: the same warning reached through
``m2p.palette``, a CLI command, an adapter and a decorator (:func:`m2p._internal.extras.translating`)
sits at different depths, and a wrong guess shows the user a line inside m2p. :func:`warn`
walks out of m2p's packages instead and names the first frame outside them (what pandas'
``find_stack_level`` does; Python 3.12's ``skip_file_prefixes`` does the same).

>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     warn("3 colours asked for, 2 fit")
>>> caught[0].filename.startswith("<doctest")  # this example's line, not warn.py
True
"""

from __future__ import annotations

import sys
import threading
import warnings
from pathlib import Path

__all__ = ["warn", "user_stacklevel"]

# m2p/ and m2p_plugins/ (installed side by side); threading.py, whose frames start a worker
# thread's stack (a warning from the audio prefetch thread has no user frame to point at).
# Both spellings of the paths: code objects carry the path the module was imported by.
_OWN = tuple({str(root / name) for root in (Path(__file__).parents[2], Path(__file__).resolve().parents[2])
              for name in ("m2p", "m2p_plugins")}) + (threading.__file__,)


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` attributed to the first caller outside m2p.

    Parameters
    ----------
    message
        The warning's text (one line; name the file or value it is about).
    category
        A ``Warning`` subclass (:mod:`m2p.errors` defines m2p's own).
    """
    warnings.warn(message, category, stacklevel=user_stacklevel())


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a ``warnings.warn`` called by this function's caller name
    the first frame outside m2p (the outermost frame when every frame is m2p's own)."""
    frame = sys._getframe(1)  # the frame that calls warnings.warn
    level = 1
    while frame.f_back is not None and _is_own(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    return level


def _is_own(filename: str) -> bool:
    return filename.startswith(_OWN) or filename.startswith("<frozen importlib")
